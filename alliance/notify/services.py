"""Writes of the notify app: reminder settings, finding what is due, delivering it on
every channel exactly once, event notifications other apps raise, and the notification
centre.

The delivery engine, in three steps that any number of workers may run at once:

1. ``reminders_find``: the schedules due now, in bulk queries (one per chunk, whatever the
   number of patients), become ``Reminder`` rows with ``bulk_create(ignore_conflicts=True)``
   on the unique (patient, kind, slot key): a second finder or a retry makes nothing twice.
2. ``reminders_dispatch``: the reminders ready now are marked queued and handed to the
   workers in batches of ids.
3. ``reminders_deliver``: a worker claims a batch with a conditional UPDATE (pending or
   queued, or a lease that ran out → sending, with its token and a lease), sends each
   channel it has not sent yet, and records each attempt. A worker killed mid-batch stops
   renewing its lease; the next dispatch hands the rest to another worker, which skips the
   channels already recorded as sent.
"""

import logging
import time as monotonic_time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.accounts.models import Patient, User
from alliance.care.models import (
    Contact,
    ContactStatus,
    EpisodeStatus,
    Homework,
    ModuleAssignment,
)
from alliance.care.plans import ModuleState, PlanItem, plan_states
from alliance.measures.models import OPEN_STATUSES as OPEN_QUESTIONNAIRE_STATUSES
from alliance.measures.models import QuestionnaireRequest
from alliance.notify import channels, conf, rules
from alliance.notify.models import (
    COUNTED_STATUSES,
    SENT_STATUSES,
    AttemptStatus,
    DeliveryAttempt,
    Notification,
    PushSubscription,
    Reminder,
    ReminderSchedule,
    ReminderSettings,
    ReminderStatus,
)
from alliance.notify.selectors import settings_data, zone_named, zone_of

logger = logging.getLogger("alliance.notify")

FIND_CHUNK = 2000
# Channels written in the database in the same transaction as their record: exactly once.
DATABASE_CHANNELS = (rules.INAPP, rules.NULL)


# --- Settings ---------------------------------------------------------------------------


def schedule_values(kind: str, choice: rules.KindChoice, zone, now: datetime) -> dict:
    """The stored form of one kind's choice, with its next slot."""
    scheduled = kind in rules.SCHEDULED_KINDS
    values = {
        "enabled": choice.on,
        "days": list(choice.days) if scheduled else [],
        "time_of_day": choice.at if scheduled else None,
        "next_due_at": None,
        "next_local_date": None,
    }
    if scheduled and choice.on and choice.at is not None:
        slot = rules.next_slot(after=now, zone=zone, days=choice.days, at=choice.at)
        if slot is not None:
            values["next_due_at"], values["next_local_date"] = slot
    return values


def settings_row_values(data: rules.SettingsData) -> dict:
    return {
        "channels": list(dict.fromkeys(data.channels)),
        "quiet_start": data.quiet_start,
        "quiet_end": data.quiet_end,
        "max_per_day": data.max_per_day,
        "max_per_week": data.max_per_week,
        "paused_until": data.paused_until,
        "all_off": data.all_off,
    }


def reminder_settings_ensure(*, patient: Patient, now: datetime | None = None):
    """The patient's settings, made with the gentle defaults the first time."""
    row = ReminderSettings.objects.filter(patient=patient).first()
    if row is not None:
        return row
    now = now or timezone.now()
    defaults = rules.default_settings()
    zone = zone_of(patient)
    with transaction.atomic():
        row, created = ReminderSettings.objects.get_or_create(
            patient=patient, defaults=settings_row_values(defaults)
        )
        if created:
            ReminderSchedule.objects.bulk_create(
                [
                    ReminderSchedule(
                        patient=patient, kind=kind, **schedule_values(kind, choice, zone, now)
                    )
                    for kind, choice in defaults.reminders.items()
                ],
                ignore_conflicts=True,
            )
    return row


def reminder_settings_defaults_create(*, now: datetime | None = None) -> int:
    """Give the gentle defaults to every patient who has no settings yet (in bulk)."""
    now = now or timezone.now()
    defaults = rules.default_settings()
    made = 0
    while True:
        patients = list(
            Patient.objects.filter(reminder_settings__isnull=True)
            .values_list("pk", "user__time_zone")
            .order_by("pk")[:FIND_CHUNK]
        )
        if not patients:
            return made
        with transaction.atomic():
            ReminderSettings.objects.bulk_create(
                [
                    ReminderSettings(patient_id=pk, **settings_row_values(defaults))
                    for pk, _ in patients
                ],
                ignore_conflicts=True,
            )
            ReminderSchedule.objects.bulk_create(
                [
                    ReminderSchedule(
                        patient_id=pk,
                        kind=kind,
                        **schedule_values(kind, choice, zone_named(tz), now),
                    )
                    for pk, tz in patients
                    for kind, choice in defaults.reminders.items()
                ],
                ignore_conflicts=True,
            )
        made += len(patients)


@transaction.atomic
def reminder_settings_update(
    *, patient: Patient, data: rules.SettingsData, now: datetime | None = None
) -> ReminderSettings:
    """Save the patient's choices, all or nothing. Invalid choices raise ValidationError
    naming each field, and nothing changes."""
    now = now or timezone.now()
    zone = zone_of(patient)
    errors = rules.validate_settings(data, today=now.astimezone(zone).date())
    if errors:
        raise ValidationError(errors)
    reminder_settings_ensure(patient=patient, now=now)
    row = ReminderSettings.objects.select_for_update().get(patient=patient)
    values = settings_row_values(data)
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=[*values, "updated_at"])
    for kind in rules.KINDS:
        choice = data.reminders.get(kind)
        if choice is None:
            continue
        ReminderSchedule.objects.update_or_create(
            patient=patient, kind=kind, defaults=schedule_values(kind, choice, zone, now)
        )
    return row


def reminder_schedules_refresh(*, patient: Patient, now: datetime | None = None) -> None:
    """Work out the next slots again (after the person's time zone changed)."""
    now = now or timezone.now()
    data = settings_data(
        ReminderSettings.objects.filter(patient=patient).first(),
        list(ReminderSchedule.objects.filter(patient=patient)),
    )
    zone = zone_of(patient)
    with transaction.atomic():
        for kind, choice in data.reminders.items():
            ReminderSchedule.objects.filter(patient=patient, kind=kind).update(
                **schedule_values(kind, choice, zone, now)
            )


# --- Finding what is due ----------------------------------------------------------------


@dataclass
class FindReport:
    due: int = 0
    created: int = 0
    capped: int = 0
    not_needed: int = 0
    more: bool = False
    queued_ids: list[int] = field(default_factory=list)

    def add(self, other: "FindReport") -> None:
        self.due += other.due
        self.created += other.created
        self.capped += other.capped
        self.not_needed += other.not_needed
        self.queued_ids.extend(other.queued_ids)


def checkin_model():
    try:
        return apps.get_model("checkins", "DailyCheckIn")
    except LookupError:  # the check-in arrives with the checkins app
        return None


def wanted_expression(now: datetime):
    """Whether there is something to remind about, per kind, in SQL (the module kind is
    refined in Python with the plan's rules)."""
    patient = OuterRef("patient_id")
    checkin = checkin_model()
    checked_in = (
        Exists(checkin.objects.filter(patient=patient, local_date=OuterRef("next_local_date")))
        if checkin is not None
        else Value(False)
    )
    homework = Exists(
        Homework.objects.filter(
            episode__patient=patient, episode__status=EpisodeStatus.ACTIVE, done_at__isnull=True
        )
    )
    questionnaire = Exists(
        QuestionnaireRequest.objects.filter(
            patient=patient, status__in=OPEN_QUESTIONNAIRE_STATUSES, available_from__lte=now
        )
    )
    appointment = Exists(
        Contact.objects.filter(
            episode__patient=patient,
            episode__status=EpisodeStatus.ACTIVE,
            status=ContactStatus.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + timedelta(hours=24),
        )
    )
    return Case(
        When(kind=rules.CHECKIN, then=~checked_in if checkin is not None else Value(True)),
        When(kind=rules.HOMEWORK, then=homework),
        When(kind=rules.QUESTIONNAIRE, then=questionnaire),
        When(kind=rules.APPOINTMENT, then=appointment),
        default=Value(True),
        output_field=BooleanField(),
    )


def due_schedules(now: datetime, limit: int) -> list[dict]:
    from alliance.care.models import Episode

    query = ReminderSchedule.objects.filter(
        enabled=True, next_due_at__lte=now, kind__in=rules.SCHEDULED_KINDS
    ).order_by("next_due_at")  # walks the index and stops at the chunk's end
    if connection.features.has_select_for_update_skip_locked:
        # Two finders at once share the work instead of queueing behind each other.
        query = query.select_for_update(skip_locked=True, of=("self",))
    return list(
        query.annotate(
            zone=F("patient__user__time_zone"),
            user_active=F("patient__user__is_active"),
            channels=F("patient__reminder_settings__channels"),
            quiet_start=F("patient__reminder_settings__quiet_start"),
            quiet_end=F("patient__reminder_settings__quiet_end"),
            max_per_day=F("patient__reminder_settings__max_per_day"),
            max_per_week=F("patient__reminder_settings__max_per_week"),
            paused_until=F("patient__reminder_settings__paused_until"),
            all_off=F("patient__reminder_settings__all_off"),
            in_care=Exists(
                Episode.objects.filter(patient=OuterRef("patient_id"), status=EpisodeStatus.ACTIVE)
            ),
            wanted=wanted_expression(now),
        ).values(
            "pk",
            "patient_id",
            "kind",
            "days",
            "time_of_day",
            "next_due_at",
            "next_local_date",
            "zone",
            "user_active",
            "channels",
            "quiet_start",
            "quiet_end",
            "max_per_day",
            "max_per_week",
            "paused_until",
            "all_off",
            "in_care",
            "wanted",
        )[:limit]
    )


def patients_with_open_module(patient_ids: list[int], now: datetime) -> set[int]:
    """Of these patients, those with a module open and not finished (one query)."""
    if not patient_ids:
        return set()
    rows = (
        ModuleAssignment.objects.filter(
            episode__status=EpisodeStatus.ACTIVE, episode__patient_id__in=patient_ids
        )
        .order_by("episode_id", "position")
        .values_list(
            "episode__patient_id",
            "episode_id",
            "episode__started_at",
            "module__unlock_rule",
            "module__unlock_days",
            "unlocked_at",
            "skipped_at",
            "waived_at",
            "completed_at",
        )
    )
    plans: dict[tuple[int, int], list] = defaultdict(list)
    started: dict[tuple[int, int], datetime] = {}
    for patient_id, episode_id, started_at, rule, days, unlocked, skipped, waived, done in rows:
        plans[(patient_id, episode_id)].append(
            PlanItem(rule, days, unlocked, skipped, waived, done)
        )
        started[(patient_id, episode_id)] = started_at
    return {
        patient_id
        for (patient_id, episode_id), items in plans.items()
        if any(
            s.state == ModuleState.AVAILABLE
            for s in plan_states(items, started_at=started[(patient_id, episode_id)], now=now)
        )
    }


def recent_counts(patient_ids: list[int], first_day, last_day) -> dict[int, Counter]:
    """Reminders counted towards the caps, per patient and local date (one query)."""
    counts: dict[int, Counter] = defaultdict(Counter)
    if not patient_ids:
        return counts
    rows = (
        Reminder.objects.filter(
            patient_id__in=patient_ids,
            local_date__gte=first_day,
            local_date__lte=last_day,
            status__in=COUNTED_STATUSES,
        )
        .values_list("patient_id", "local_date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for patient_id, day, n in rows:
        counts[patient_id][day] = n
    return counts


def slot_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def reminders_find(
    *,
    now: datetime | None = None,
    chunk: int = FIND_CHUNK,
    max_chunks: int | None = None,
    queue: bool = False,
) -> FindReport:
    """Turn every schedule due by ``now`` into a reminder (or a capped one), and move each
    schedule on to its next slot. Bulk queries per chunk of schedules, each chunk in its
    own transaction; ``report.more`` says it stopped after ``max_chunks`` with more due.
    With ``queue``, reminders ready now are made already queued, their ids in
    ``report.queued_ids`` for the caller to hand to the workers (one write less a row)."""
    now = now or timezone.now()
    report = FindReport()
    grace = timedelta(minutes=conf.grace_minutes())
    chunks = 0
    while True:
        with transaction.atomic():
            rows = due_schedules(now, chunk)
            if not rows:
                return report
            report.due += len(rows)
            find_chunk(rows, now, grace, report, queue)
        chunks += 1
        if len(rows) < chunk:
            return report
        if max_chunks is not None and chunks >= max_chunks:
            report.more = True
            return report


def find_chunk(
    rows: list[dict], now: datetime, grace: timedelta, report: FindReport, queue: bool
) -> None:
    module_patients = patients_with_open_module(
        [r["patient_id"] for r in rows if r["kind"] == rules.MODULE and r["wanted"]], now
    )
    days = [r["next_local_date"] for r in rows]
    counts = recent_counts(
        sorted({r["patient_id"] for r in rows}),
        min(days) - timedelta(days=rules.CAP_WINDOW_DAYS - 1),
        max(days),
    )
    new: list[tuple] = []
    moved: dict[tuple, list[int]] = defaultdict(list)  # next slot -> schedule ids
    channel_lists: dict[tuple, list[str]] = {}
    rows.sort(key=lambda r: (r["patient_id"], r["next_due_at"], rules.KIND_PRIORITY[r["kind"]]))
    for row in rows:
        zone = zone_named(row["zone"] or "")
        due, local_day = row["next_due_at"], row["next_local_date"]
        following = rules.next_slot(
            after=max(due, now), zone=zone, days=row["days"], at=row["time_of_day"]
        )
        moved[following or (None, None)].append(row["pk"])
        wanted = row["wanted"] and (
            row["kind"] != rules.MODULE or row["patient_id"] in module_patients
        )
        if (
            not wanted
            or not row["user_active"]
            or not row["in_care"]
            or row["all_off"] is not False  # None: no settings row
            or not row["channels"]
            or rules.is_paused(row["paused_until"], local_day)
            or now - due > grace
        ):
            report.not_needed += 1
            continue
        patient_counts = counts[row["patient_id"]]
        cap = rules.cap_reached(
            patient_counts,
            local_day,
            max_per_day=row["max_per_day"],
            max_per_week=row["max_per_week"],
        )
        ready_at = rules.quiet_hours_end(max(due, now), zone, row["quiet_start"], row["quiet_end"])
        if cap is None:
            patient_counts[local_day] += 1
            report.created += 1
            ready = queue and ready_at <= now
            status = ReminderStatus.QUEUED if ready else ReminderStatus.PENDING
            reason, finished = "", None
        else:
            report.capped += 1
            status, reason, finished = ReminderStatus.CAPPED, cap_reason(cap), now
        chosen = tuple(row["channels"])
        if chosen not in channel_lists:
            channel_lists[chosen] = [c for c in chosen if c in rules.CHANNELS]
        new.append(
            (
                row["patient_id"],
                row["kind"],
                slot_key(due),
                due,
                local_day,
                channel_lists[chosen],
                ready_at,
                status,
                reason,
                finished,
                now,
                now if status == ReminderStatus.QUEUED else None,
                "",
                0,
                0,
                "",
            )
        )
    # ON CONFLICT DO NOTHING on (patient, kind, slot key): a second finder adds nothing.
    made = insert_rows(
        Reminder, NEW_REMINDER_FIELDS, new, ignore_conflicts=True, returning=["id", "status"]
    )
    report.queued_ids.extend(pk for pk, status in made if status == ReminderStatus.QUEUED)
    for (due, day), ids in moved.items():
        # One UPDATE per distinct next slot: patients who chose the same time in the same
        # zone share it (far cheaper than a row-by-row CASE).
        for start in range(0, len(ids), 1000):
            ReminderSchedule.objects.filter(pk__in=ids[start : start + 1000]).update(
                next_due_at=due, next_local_date=day
            )


NEW_REMINDER_FIELDS = [
    "patient",
    "kind",
    "slot_key",
    "slot_start",
    "local_date",
    "channels",
    "next_attempt_at",
    "status",
    "reason",
    "finished_at",
    "created_at",
    "queued_at",
    # Django keeps defaults in Python, not in the table: these are written too.
    "url",
    "failures",
    "claims",
    "claim_token",
]


def cap_reason(cap: str) -> str:
    return "daily limit reached" if cap == "day" else "weekly limit reached"


# --- Handing work to the workers --------------------------------------------------------


def ready_condition(now: datetime, *, recover: bool = True) -> Q:
    """Reminders a worker may take now: waiting and due; with ``recover``, also queued
    but never started (a lost task), or claimed by a worker whose lease ran out (a killed
    worker)."""
    ready = Q(status=ReminderStatus.PENDING, next_attempt_at__lte=now)
    if not recover:
        return ready
    return (
        ready
        | Q(
            status=ReminderStatus.QUEUED,
            queued_at__lt=now - timedelta(minutes=conf.requeue_minutes()),
        )
        | Q(status=ReminderStatus.SENDING, lease_until__lt=now)
    )


def reminders_dispatch(
    *, now: datetime | None = None, size: int | None = None, recover: bool = True
) -> list[list[int]]:
    """Mark every ready reminder queued; their ids in batches for the workers."""
    now = now or timezone.now()
    size = size or conf.batch_size()
    mark = "q" + uuid.uuid4().hex[:31]
    with transaction.atomic():
        Reminder.objects.filter(ready_condition(now, recover=recover)).update(
            status=ReminderStatus.QUEUED, queued_at=now, claim_token=mark
        )
        ids = list(
            Reminder.objects.filter(claim_token=mark).order_by("pk").values_list("pk", flat=True)
        )
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def reminders_run(*, now: datetime | None = None, inline: bool = False) -> dict:
    """One round of the engine: defaults for new patients, find, dispatch. ``inline``
    delivers here and now instead of queueing (the ``notify run-once`` command)."""
    from alliance.notify import tasks

    now = now or timezone.now()
    defaults = reminder_settings_defaults_create(now=now)
    found, delivered, queued = FindReport(), DeliveryReport(), 0
    while True:
        # Chunk by chunk, so the first reminders are on their way while the finder goes on
        # (another worker may be finding at the same time: it skips the chunks we hold).
        part = reminders_find(now=now, max_chunks=1, queue=True)
        found.add(part)
        size = conf.batch_size()
        batches = [part.queued_ids[i : i + size] for i in range(0, len(part.queued_ids), size)]
        if not part.more:
            # Then the older ones whose time came (quiet hours, back-off), lost tasks and
            # lapsed leases: once a round, after the finding.
            batches += reminders_dispatch(now=now)
        for batch in batches:
            queued += len(batch)
            if inline:
                delivered.add(reminders_deliver(reminder_ids=batch, now=now))
            else:
                tasks.deliver_reminders(reminder_ids=batch)
        if not part.more:
            break
    return {
        "new_settings": defaults,
        "due": found.due,
        "created": found.created,
        "capped": found.capped,
        "not_needed": found.not_needed,
        "queued": queued,
        "sent": delivered.sent,
        "failed": delivered.failed,
    }


# --- Events from other apps -------------------------------------------------------------


def notify_event(
    *,
    patient: Patient,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str,
    now: datetime | None = None,
) -> Reminder:
    """Tell the patient something happened (e.g. a new message), within their settings:
    their channels, quiet hours (it waits until they end), caps, pause and all-off. The
    same ``dedupe_key`` never notifies twice. Safe inside the caller's transaction: it is
    handed to a worker only when that commits. A notification the settings hold back is
    recorded as not sent, with the reason."""
    if kind not in rules.KINDS:
        raise ValueError(f"Unknown kind of notification: {kind}")
    now = now or timezone.now()
    with transaction.atomic():
        row = reminder_settings_ensure(patient=patient, now=now)
        existing = Reminder.objects.filter(patient=patient, kind=kind, slot_key=dedupe_key).first()
        if existing is not None:
            return existing
        zone = zone_of(patient)
        local_day = now.astimezone(zone).date()
        schedule = ReminderSchedule.objects.filter(patient=patient, kind=kind).first()
        reminder = Reminder(
            patient=patient,
            kind=kind,
            slot_key=dedupe_key[:120],
            slot_start=now,
            local_date=local_day,
            channels=[c for c in row.channels if c in rules.CHANNELS],
            title=str(title),
            body=str(body),
            url=str(url),
            next_attempt_at=rules.quiet_hours_end(now, zone, row.quiet_start, row.quiet_end),
        )
        held_back = event_held_back(patient, row, schedule, local_day)
        if held_back is None:
            counts = recent_counts(
                [patient.pk], local_day - timedelta(days=rules.CAP_WINDOW_DAYS - 1), local_day
            )[patient.pk]
            cap = rules.cap_reached(
                counts, local_day, max_per_day=row.max_per_day, max_per_week=row.max_per_week
            )
            if cap is not None:
                reminder.status, reminder.reason = ReminderStatus.CAPPED, cap_reason(cap)
        else:
            reminder.status, reminder.reason = ReminderStatus.SKIPPED, held_back
        if reminder.status != ReminderStatus.PENDING:
            reminder.finished_at = now
        try:
            with transaction.atomic():
                reminder.save(force_insert=True)
        except IntegrityError:  # the same event, raised at the same moment elsewhere
            return Reminder.objects.get(patient=patient, kind=kind, slot_key=dedupe_key[:120])
        if reminder.status == ReminderStatus.PENDING and reminder.next_attempt_at <= now:
            queue_soon([reminder.pk])
    return reminder


def event_held_back(patient, row: ReminderSettings, schedule, local_day) -> str | None:
    if not patient.user.is_active:
        return "account not active"
    if row.all_off:
        return "all reminders off"
    if rules.is_paused(row.paused_until, local_day):
        return "paused"
    if schedule is None or not schedule.enabled:
        return "turned off for this kind"
    if not row.channels:
        return "no channel chosen"
    return None


def queue_soon(reminder_ids: list[int]) -> None:
    """Hand reminders to a worker once the transaction commits. If the queue is down they
    stay pending, and the next minute's dispatch picks them up."""
    from alliance.notify import tasks

    transaction.on_commit(lambda: tasks.deliver_reminders(reminder_ids=reminder_ids), robust=True)


# --- Delivering -------------------------------------------------------------------------

SCHEDULED_CONTENT = {
    rules.CHECKIN: (
        gettext_lazy("How are you today?"),
        gettext_lazy("Your check-in takes a few seconds, whenever suits you."),
        "checkins:checkin_today",
    ),
    rules.MODULE: (
        gettext_lazy("Your next module is ready"),
        gettext_lazy("Read a few pages when you have a quiet moment."),
        "care:week",
    ),
    rules.HOMEWORK: (
        gettext_lazy("Your homework"),
        gettext_lazy("A gentle reminder of what you planned to try."),
        "care:week",
    ),
    rules.QUESTIONNAIRE: (
        gettext_lazy("A questionnaire is waiting for you"),
        gettext_lazy(
            "It takes a few minutes and helps you and your supporter see how things are going."
        ),
        "measures:my_questionnaires",
    ),
    rules.APPOINTMENT: (
        gettext_lazy("Your appointment is coming up"),
        gettext_lazy(
            "You have an appointment with your care team in the next 24 hours. "
            "Your week page has the details."
        ),
        "care:week",
    ),
}


def path_of(url_name: str) -> str:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return reverse("care:week")


def content_of(reminder, language: str) -> channels.Content:
    """The words of a reminder (a ``Reminder`` or a ``Due``) in the person's language."""
    if reminder.kind in SCHEDULED_CONTENT and not reminder.title:
        title, body, url_name = SCHEDULED_CONTENT[reminder.kind]
        with translation.override(language):
            return channels.Content(title=str(title), body=str(body), url=path_of(url_name))
    return channels.Content(
        title=reminder.title or "",
        body=reminder.body or "",
        url=reminder.url or path_of("care:week"),
    )


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: int = 0
    attempts: Counter = field(default_factory=Counter)

    def add(self, other: "DeliveryReport") -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.retrying += other.retrying
        self.held += other.held
        self.attempts.update(other.attempts)


@dataclass
class Due:
    """A claimed reminder with what delivering it needs, read in one query."""

    id: int
    patient_id: int
    kind: str
    channels: list
    title: str | None
    body: str | None
    url: str
    local_date: date
    failures: int
    claims: int
    next_attempt_at: datetime
    user_id: int
    email: str
    language: str
    time_zone: str
    all_off: bool | None  # None: the patient has no settings
    paused_until: date | None
    quiet_start: time | None
    quiet_end: time | None


DUE_LOOKUPS = (
    "pk",
    "patient_id",
    "kind",
    "channels",
    "title",
    "body",
    "url",
    "local_date",
    "failures",
    "claims",
    "next_attempt_at",
    "patient__user_id",
    "patient__user__email",
    "patient__user__language",
    "patient__user__time_zone",
    "patient__reminder_settings__all_off",
    "patient__reminder_settings__paused_until",
    "patient__reminder_settings__quiet_start",
    "patient__reminder_settings__quiet_end",
)


@dataclass
class Outcome:
    """What one reminder's channels did in this round."""

    due: Due
    content: channels.Content | None = None
    attempts: list[DeliveryAttempt] = field(default_factory=list)  # channels outside
    database_channels: list[str] = field(default_factory=list)  # in-app, null: sent at commit
    held: tuple[str, str, datetime | None] | None = None  # (status, reason, retry at)


class Batch:
    """One worker's claim on a batch of reminders, kept alive while it works."""

    def __init__(self, reminder_ids: list[int], now: datetime):
        self.token = uuid.uuid4().hex
        self.ids = reminder_ids
        self.lease = timedelta(seconds=conf.lease_seconds())
        self.renewed = self.started = monotonic_time.monotonic()
        self.now = now
        self.claim(now)

    def clock(self) -> datetime:
        """The batch's time: its start, plus the time it has taken so far."""
        return self.now + timedelta(seconds=monotonic_time.monotonic() - self.started)

    def claim(self, now: datetime) -> None:
        Reminder.objects.filter(pk__in=self.ids).filter(
            Q(status__in=[ReminderStatus.PENDING, ReminderStatus.QUEUED], next_attempt_at__lte=now)
            | Q(status=ReminderStatus.SENDING, lease_until__lt=now)
        ).update(
            status=ReminderStatus.SENDING,
            claim_token=self.token,
            lease_until=now + self.lease,
            claims=F("claims") + 1,
        )

    def held(self):
        return Reminder.objects.filter(claim_token=self.token, status=ReminderStatus.SENDING)

    def renew(self, *, force: bool = False) -> None:
        """Push the lease on, every third of it, so a live worker keeps its batch."""
        elapsed = monotonic_time.monotonic() - self.renewed
        if force or elapsed > self.lease.total_seconds() / 3:
            self.held().update(lease_until=timezone.now() + self.lease)
            self.renewed = monotonic_time.monotonic()


def reminders_deliver(*, reminder_ids: list[int], now: datetime | None = None) -> DeliveryReport:
    """Claim these reminders and send each channel not sent yet. Safe to run twice, on two
    workers at once, or after a worker died half-way."""
    now = now or timezone.now()
    report = DeliveryReport()
    batch = Batch(reminder_ids, now)
    dues = [Due(*row) for row in batch.held().order_by("pk").values_list(*DUE_LOOKUPS)]
    report.claimed = len(dues)
    if not dues:
        return report
    held = batch.held()
    # Only a reminder claimed before may have channels sent already (one query, if any).
    claimed_before = [d.id for d in dues if d.claims > 1]
    sent_before = set(
        DeliveryAttempt.objects.filter(
            reminder_id__in=claimed_before, status__in=SENT_STATUSES
        ).values_list("reminder_id", "channel")
        if claimed_before
        else ()
    )
    failures: Counter = Counter()
    if any(d.failures for d in dues):
        failed_before = (
            DeliveryAttempt.objects.filter(
                reminder_id__in=[d.id for d in dues if d.failures], status=AttemptStatus.FAILED
            )
            .values_list("reminder_id", "channel")
            .annotate(n=Count("pk"))
            .order_by()
        )
        failures.update({(rid, channel): n for rid, channel, n in failed_before})
    max_failures = conf.max_failures()
    enabled = set(
        ReminderSchedule.objects.filter(
            patient_id__in=held.values("patient_id"), enabled=True
        ).values_list("patient_id", "kind")
    )
    checked_in = checked_in_on(
        held, {d.patient_id: d.local_date for d in dues if d.kind == rules.CHECKIN}
    )
    devices = push_targets({d.user_id for d in dues if rules.WEBPUSH in d.channels})
    worded: dict[tuple[str, str], channels.Content] = {}
    outcomes = []
    for due in dues:
        outcome = Outcome(due)
        outcomes.append(outcome)
        outcome.held = hold_back(due, enabled, checked_in, now)
        if outcome.held is not None:
            continue
        if due.title:
            outcome.content = content_of(due, due.language)
        else:  # the same words for every scheduled reminder of a kind and language
            key = (due.kind, due.language)
            if key not in worded:
                worded[key] = content_of(due, due.language)
            outcome.content = worded[key]
        for channel in due.channels:
            if (due.id, channel) in sent_before:
                continue
            if failures[(due.id, channel)] >= max_failures:
                continue  # given up on this channel
            if channel in DATABASE_CHANNELS:
                outcome.database_channels.append(channel)
            else:
                attempt = send_outside(due, channel, outcome.content, devices, batch.clock)
                record_now(attempt)
                outcome.attempts.append(attempt)
                batch.renew()
    finish(batch, outcomes, failures, now, report)
    return report


def checked_in_on(held, days_by_patient: dict[int, date]) -> set[int]:
    """Patients who checked in on the day of their check-in reminder (one query)."""
    checkin = checkin_model()
    if checkin is None or not days_by_patient:
        return set()
    rows = checkin.objects.filter(
        patient_id__in=held.filter(kind=rules.CHECKIN).values("patient_id"),
        local_date__in=set(days_by_patient.values()),
    ).values_list("patient_id", "local_date")
    return {pid for pid, day in rows if days_by_patient.get(pid) == day}


def push_targets(user_ids: set[int]) -> dict[int, list[channels.PushTarget]]:
    targets: dict[int, list[channels.PushTarget]] = defaultdict(list)
    if user_ids:
        for sub in PushSubscription.objects.filter(user_id__in=user_ids).order_by("pk"):
            targets[sub.user_id].append(
                channels.PushTarget(sub.pk, sub.endpoint, sub.p256dh, sub.auth)
            )
    return targets


def hold_back(due: Due, enabled: set, checked_in: set, now: datetime):
    """(status, reason, retry at) if the patient's settings now say not to send it yet."""
    zone = zone_named(due.time_zone)
    if due.all_off is None or due.all_off:
        return (ReminderStatus.SKIPPED, "all reminders off", None)
    if rules.is_paused(due.paused_until, now.astimezone(zone).date()):
        return (ReminderStatus.SKIPPED, "paused", None)
    if (due.patient_id, due.kind) not in enabled:
        return (ReminderStatus.SKIPPED, "turned off for this kind", None)
    if due.kind == rules.CHECKIN and due.patient_id in checked_in:
        return (ReminderStatus.SKIPPED, "already checked in", None)
    resume = rules.quiet_hours_end(now, zone, due.quiet_start, due.quiet_end)
    if resume > now:
        return (ReminderStatus.PENDING, "quiet hours", resume)
    return None


def send_outside(
    due: Due, channel: str, content: channels.Content, devices: dict, clock
) -> DeliveryAttempt:
    """Send on a channel that leaves the machine; the attempt, whatever happened."""
    attempt = DeliveryAttempt(reminder_id=due.id, channel=channel, at=clock())
    try:
        if channel == rules.EMAIL:
            attempt.detail = channels.send_email(to=due.email, content=content, reminder_id=due.id)
            attempt.status = AttemptStatus.SENT
        elif channel == rules.WEBPUSH:
            result = channels.send_webpush(
                targets=devices.get(due.user_id, []), content=content, reminder_id=due.id
            )
            forget_devices(result.gone, result.delivered)
            if result.delivered:
                attempt.status = AttemptStatus.SENT
                attempt.detail = f"{len(result.delivered)} device(s)"
            elif result.errors:
                attempt.status = AttemptStatus.FAILED
                attempt.detail = "; ".join(result.errors)[:290]
            else:
                attempt.status = AttemptStatus.SKIPPED
                attempt.detail = "every device had turned notifications off"
        else:
            attempt.status, attempt.detail = AttemptStatus.SKIPPED, f"unknown channel {channel}"
    except channels.NotApplicable as reason:
        attempt.status, attempt.detail = AttemptStatus.SKIPPED, str(reason)[:290]
    except channels.ChannelFailed as error:
        attempt.status, attempt.detail = AttemptStatus.FAILED, str(error)[:290]
        logger.warning("Reminder %s: %s failed: %s", due.id, channel, error)
    except Exception as error:  # one broken channel must not hold up the others
        attempt.status = AttemptStatus.FAILED
        attempt.detail = f"{type(error).__name__}: {error}"[:290]
        logger.exception("Reminder %s: %s failed", due.id, channel)
    attempt.at = clock()
    return attempt


def forget_devices(gone: list[int], delivered: list[int]) -> None:
    if gone:
        PushSubscription.objects.filter(pk__in=gone).delete()
    if delivered:
        PushSubscription.objects.filter(pk__in=delivered).update(last_success_at=timezone.now())


def record_now(attempt: DeliveryAttempt) -> None:
    """Record an attempt that left the machine at once, so a crash after it cannot lose it."""
    try:
        with transaction.atomic():
            attempt.save(force_insert=True)
    except IntegrityError:
        # Another worker recorded this channel as sent: only possible when a send outlived
        # the lease. The repeat carries the same Message-ID / Topic as the first.
        logger.error("Reminder %s was sent twice on %s", attempt.reminder_id, attempt.channel)
        attempt.pk = None


def insert_rows(
    model, names: list[str], rows: list[tuple], *, ignore_conflicts=False, returning=()
) -> list[tuple]:
    """INSERT many rows of a few columns, without a model instance per row (the engine
    writes hundreds of thousands). Values are prepared by the model's own fields; on
    PostgreSQL the rows go as one array per column (UNNEST), as Django's bulk_create does."""
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its per-thread proxy
    fields = [model._meta.get_field(name) for name in names]
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        conflict += " RETURNING " + ", ".join(db.ops.quote_name(name) for name in returning)
    postgres = db.vendor == "postgresql"
    made: list[tuple] = []
    # Values the driver takes as they are need no preparing (most of the cost per row).
    plain = (models.CharField, models.IntegerField, models.BooleanField, models.ForeignKey)
    if postgres:
        plain += (models.DateField,)  # dates and aware datetimes (DateTimeField is one)
    prepare = [None if isinstance(f, plain) else f.get_db_prep_save for f in fields]
    # SQLite allows 32,766 variables in a statement.
    per_statement = 5000 if postgres else max(1, 30000 // len(fields))
    with db.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = [
                [
                    value if prep is None else prep(value, db)
                    for prep, value in zip(prepare, row, strict=True)
                ]
                for row in rows[start : start + per_statement]
            ]
            # Table and column names come from the model; every value is a parameter.
            if postgres:
                arrays = ", ".join(f"%s::{f.db_type(db).split('(')[0]}[]" for f in fields)
                sql = f"INSERT INTO {table} ({columns}) SELECT * FROM UNNEST({arrays})"  # noqa: S608
                params = [list(column) for column in zip(*chunk, strict=True)]
            else:
                one = "(" + ", ".join(["%s"] * len(fields)) + ")"
                sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([one] * len(chunk))  # noqa: S608
                params = [value for row in chunk for value in row]
            cursor.execute(sql + conflict, params)
            if returning:
                made.extend(tuple(row) for row in cursor.fetchall())
    return made


def finish(batch: Batch, outcomes: list[Outcome], failures, now, report) -> None:
    """Write the in-app and null deliveries and every reminder's new state, in one
    transaction, only for the reminders this worker still holds."""
    max_failures = conf.max_failures()
    with transaction.atomic():
        # Lock the rows we still hold until commit (PostgreSQL; SQLite's write lock is
        # the whole database), so no one takes them over half-way.
        still_held = set(batch.held().select_for_update().values_list("pk", flat=True))
        mine = [o for o in outcomes if o.due.id in still_held]
        insert_rows(
            DeliveryAttempt,
            ["reminder", "channel", "status", "detail", "at"],
            [
                (o.due.id, channel, AttemptStatus.SENT, "", now)
                for o in mine
                for channel in o.database_channels
            ],
        )
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=o.due.user_id,
                    reminder_id=o.due.id,
                    kind=o.due.kind,
                    title=o.content.title,
                    body=o.content.body,
                    url=o.content.url,
                    created_at=now,
                )
                for o in mine
                if rules.INAPP in o.database_channels
            ],
            batch_size=500,
        )
        for outcome in mine:
            due = outcome.due
            if outcome.held is not None:
                status, reason, retry_at = outcome.held
                report.held += 1
                Reminder.objects.filter(pk=due.id, claim_token=batch.token).update(
                    status=status,
                    reason=reason,
                    next_attempt_at=retry_at or due.next_attempt_at,
                    claim_token="",
                    lease_until=None,
                    finished_at=None if retry_at else now,
                )
                continue
            for channel in outcome.database_channels:
                report.attempts[(channel, AttemptStatus.SENT)] += 1
            for attempt in outcome.attempts:
                report.attempts[(attempt.channel, attempt.status)] += 1
            state = channel_states(outcome, failures, max_failures)
            if state == "retry":
                report.retrying += 1
                Reminder.objects.filter(pk=due.id, claim_token=batch.token).update(
                    status=ReminderStatus.PENDING,
                    failures=F("failures") + 1,
                    next_attempt_at=now + rules.retry_delay(due.failures + 1),
                    claim_token="",
                    lease_until=None,
                    reason="retrying after a failure",
                )
            elif state == "failed":
                report.failed += 1
                Reminder.objects.filter(pk=due.id, claim_token=batch.token).update(
                    status=ReminderStatus.FAILED,
                    claim_token="",
                    lease_until=None,
                    finished_at=now,
                    reason="gave up after repeated failures",
                )
        # What we still hold now is what was sent: every other one was updated above.
        report.sent += batch.held().update(
            status=ReminderStatus.SENT,
            claim_token="",
            lease_until=None,
            finished_at=now,
            reason="",
        )


def channel_states(outcome: Outcome, failures, max_failures: int) -> str:
    """ "sent", "retry" or "failed": retry while a channel failed fewer than the maximum
    times; sent when every channel is sent or not applicable."""
    failed_now = {a.channel for a in outcome.attempts if a.status == AttemptStatus.FAILED}
    if not failed_now:
        return "sent"
    if any(failures[(outcome.due.id, ch)] + 1 < max_failures for ch in failed_now):
        return "retry"
    return "failed"


# --- The notification centre and opens --------------------------------------------------


def notification_mark_read(*, notification: Notification, now: datetime | None = None) -> bool:
    """Mark one notification read (and its in-app delivery opened). True if it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if changed and notification.reminder_id:
            mark_opened(notification.reminder_id, rules.INAPP, now)
    notification.read_at = notification.read_at or now
    return bool(changed)


def notifications_mark_all_read(*, user: User, now: datetime | None = None) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        unread = Notification.objects.filter(user=user, read_at__isnull=True)
        reminder_ids = list(unread.exclude(reminder=None).values_list("reminder_id", flat=True))
        changed = unread.update(read_at=now)
        DeliveryAttempt.objects.filter(
            reminder_id__in=reminder_ids, channel=rules.INAPP, status=AttemptStatus.SENT
        ).update(status=AttemptStatus.OPENED, opened_at=now)
    return changed


def mark_opened(reminder_id: int, channel: str, now: datetime) -> int:
    return DeliveryAttempt.objects.filter(
        reminder_id=reminder_id, channel=channel, status=AttemptStatus.SENT
    ).update(status=AttemptStatus.OPENED, opened_at=now)


def email_opened(*, token: str, now: datetime | None = None) -> Reminder | None:
    """The e-mail of a reminder was opened (its pixel loaded, or its link followed)."""
    reminder_id = channels.reminder_from_token(token)
    if reminder_id is None:
        return None
    mark_opened(reminder_id, rules.EMAIL, now or timezone.now())
    return Reminder.objects.filter(pk=reminder_id).first()


def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keep a device's push subscription (the same endpoint again updates it)."""
    errors = {}
    if not endpoint.startswith("https://") or len(endpoint) > 1000:
        errors["endpoint"] = [_("The endpoint must be an https:// address.")]
    for name, value in (("p256dh", p256dh), ("auth", auth)):
        if not value or len(value) > 200 or not value.replace("-", "").replace("_", "").isalnum():
            errors[f"keys.{name}"] = [_("A base64url key is required.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
        )
    return subscription, created


def push_subscription_remove(*, user: User, endpoint: str) -> int:
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]
