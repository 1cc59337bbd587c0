"""The pre-session brief: what a patient did since their last contact, on one screen.

A supporter reads it in two minutes before a session or call: since the last attended
contact (or the start of the episode) the modules done, the latest exercises, the mood
trend of the daily check-ins, the PHQ-9 and GAD-7 with reliable change, the alliance
(WAI-SR) where there is one, open alerts, unanswered messages, homework done and not done,
and a suggested agenda drawn from all of it.

``patient_brief`` runs a fixed number of queries whatever the history: each part is one
query bounded by time (since the contact) or by a count. ``suggested_agenda`` is pure.
The caller fetches the patient through ``policy.access_patient`` (which audits the read).
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts import policy
from alliance.accounts.models import Patient, Role, User
from alliance.care.models import Contact, ContactStatus, Episode, Homework, ModuleAssignment
from alliance.care.selectors import active_episode
from alliance.checkins.exercises import EXERCISE_TITLES, entry_summary
from alliance.checkins.models import DailyCheckIn, ExerciseEntry
from alliance.insights.alliance_scores import SUBSCALES, alliance_summary
from alliance.insights.caseload import SPARK_POINTS, optional
from alliance.insights.models import Alert, AlertKind, AlertState
from alliance.measures.instruments import builtin_instruments
from alliance.measures.models import Response
from alliance.measures.outcomes import ReliableChange, reliable_change

# The newest exercise entries the brief shows (the exercises page has them all).
RECENT_EXERCISES = 5
# The mood chart covers the time since the last contact, but at least MOOD_DAYS_MIN days
# (a trend needs some days) and at most MOOD_DAYS_MAX.
MOOD_DAYS_MIN = 28
MOOD_DAYS_MAX = 90
# Mean mood since the contact this much below the mean before it is a dip worth asking about.
MOOD_DIP = 1.5
# Scores read per measure: enough to find the one at the last contact.
SCORES_READ = 12
BRIEF_MEASURES = ("phq9", "gad7")
# The longest excerpt of a patient's words the agenda quotes.
QUOTE_MAX = 60


def can_read_brief(user: User) -> bool:
    """The care team: supporters, digital navigators and supervisors of the patient's team
    (``access_patient`` then checks the patient is theirs). To move into policy.py."""
    return policy.has_role(user, Role.SUPPORTER, Role.DIGITAL_NAVIGATOR, Role.SUPERVISOR)


@dataclass(frozen=True)
class ExerciseNote:
    entry_id: int
    kind: str
    title: str
    summary: str
    updated_at: datetime
    # For a thought record: the situation, the automatic thought and the balanced thought.
    details: tuple[tuple[str, str], ...] = ()

    @property
    def is_thought_record(self) -> bool:
        return self.kind == "thought_record"


@dataclass(frozen=True)
class MeasureChange:
    instrument: str
    name: str
    latest: int
    latest_at: datetime
    severity: str
    first: int
    count: int
    at_last_contact: int | None  # the latest score before the last contact
    new_since_contact: bool  # the latest score came after the last contact
    recent: tuple[int, ...]  # oldest first, for the sparkline
    y_max: int

    @property
    def change(self) -> str | None:
        """Reliable change from the first score to the latest."""
        definition = builtin_instruments().get(self.instrument)
        if self.count < 2 or definition is None or definition.reliable_change is None:
            return None
        return str(reliable_change(definition, self.first, self.latest))

    @property
    def since_contact(self) -> int | None:
        if self.at_last_contact is None or not self.new_since_contact:
            return None
        return self.latest - self.at_last_contact


@dataclass(frozen=True)
class AllianceReading:
    """The latest WAI-SR: its mean (1–5), subscale means, and any unrepaired rupture."""

    mean: float
    at: datetime
    subscales: dict[str, float]
    previous_mean: float | None
    rupture: bool

    @property
    def drop(self) -> float | None:
        if self.previous_mean is None:
            return None
        return round(self.previous_mean - self.mean, 2)


@dataclass(frozen=True)
class MoodDay:
    day: date
    mood: int


@dataclass
class Brief:
    patient: Patient
    episode: Episode | None
    now: datetime
    since: datetime  # the last attended contact, else the episode's start
    last_contact: Contact | None
    next_contact: Contact | None
    modules_done: list[ModuleAssignment] = field(default_factory=list)
    modules_started: list[ModuleAssignment] = field(default_factory=list)
    exercises: list[ExerciseNote] = field(default_factory=list)
    mood: list[MoodDay] = field(default_factory=list)
    measures: list[MeasureChange] = field(default_factory=list)
    alliance: AllianceReading | None = None
    alerts: list[Alert] = field(default_factory=list)
    unanswered: list = field(default_factory=list)
    messages_known: bool = False
    homework_done: list[Homework] = field(default_factory=list)
    homework_open: list[Homework] = field(default_factory=list)

    @property
    def since_day(self) -> date:
        return timezone.localtime(self.since).date()

    @property
    def mood_since(self) -> list[MoodDay]:
        return [m for m in self.mood if m.day >= self.since_day]

    @property
    def mood_before(self) -> list[MoodDay]:
        return [m for m in self.mood if m.day < self.since_day]

    @property
    def mood_since_mean(self) -> float | None:
        values = [m.mood for m in self.mood_since]
        return round(statistics.fmean(values), 1) if values else None

    @property
    def mood_before_mean(self) -> float | None:
        values = [m.mood for m in self.mood_before]
        return round(statistics.fmean(values), 1) if values else None

    @property
    def mood_dipped(self) -> bool:
        since, before = self.mood_since_mean, self.mood_before_mean
        return since is not None and before is not None and before - since >= MOOD_DIP

    @property
    def risk_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.kind == AlertKind.RISK]

    @property
    def deteriorated(self) -> list[MeasureChange]:
        return [m for m in self.measures if m.change == ReliableChange.DETERIORATION]

    @property
    def improved(self) -> list[MeasureChange]:
        return [m for m in self.measures if m.change == ReliableChange.IMPROVEMENT]

    @property
    def rupture(self) -> bool:
        alert = any(a.kind == AlertKind.RUPTURE for a in self.alerts)
        return alert or (self.alliance is not None and self.alliance.rupture)

    @property
    def did_nothing(self) -> bool:
        """No module, exercise or check-in since the last contact."""
        return not (self.modules_done or self.modules_started or self.exercises or self.mood_since)

    @property
    def agenda(self) -> list[str]:
        return suggested_agenda(self)


# --- The agenda: pure --------------------------------------------------------------------


def quoted(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1].rstrip() + "…"


def suggested_agenda(brief: Brief) -> list[str]:
    """A short agenda for the session, most important first, drawn from the brief."""
    items = []
    if brief.risk_alerts:
        items.append(_("Check safety first: a risk alert is open."))
    for measure in brief.deteriorated:
        items.append(
            _(
                "Talk about what has been harder: the %(measure)s is reliably worse (%(first)s → "
                "%(latest)s)."
            )
            % {"measure": measure.name, "first": measure.first, "latest": measure.latest}
        )
    if brief.rupture:
        items.append(_("Check how the sessions are working for them: the alliance score fell."))
    if brief.mood_dipped:
        items.append(_("Ask about the dip in mood since the last contact."))
    if brief.unanswered:
        items.append(_("Pick up the messages they are waiting for an answer to."))
    if brief.homework_open:
        items.append(_("Review homework: what got in the way."))
    if brief.homework_done:
        items.append(_("Recognise the homework they did."))
    thought_record = next((e for e in brief.exercises if e.is_thought_record), None)
    if thought_record is not None:
        items.append(
            _("Go through the thought record about “%(situation)s”.")
            % {"situation": quoted(thought_record.summary)}
        )
    other = next((e for e in brief.exercises if not e.is_thought_record), None)
    if other is not None:
        items.append(
            _("Look at their %(exercise)s together: “%(summary)s”.")
            % {"exercise": other.title.lower(), "summary": quoted(other.summary)}
        )
    for assignment in brief.modules_done[:2]:
        items.append(
            _("Ask what they took from “%(module)s”.") % {"module": assignment.module.title}
        )
    if brief.improved and not brief.deteriorated:
        items.append(_("Notice the progress together: the scores have reliably improved."))
    if brief.did_nothing and brief.episode is not None:
        items.append(_("Ask gently what made the programme hard to use since the last contact."))
    items.append(_("Agree the next steps and homework for next time."))
    return items


# --- The read ------------------------------------------------------------------------------


def patient_brief(patient: Patient, *, now: datetime | None = None) -> Brief:
    """Everything the brief shows, in a fixed number of queries."""
    now = now or timezone.now()
    episode = active_episode(patient)
    contacts = Contact.objects.filter(episode=episode) if episode else Contact.objects.none()
    last_contact = (
        contacts.filter(status=ContactStatus.ATTENDED, scheduled_at__lte=now)
        .order_by("-scheduled_at")
        .first()
        if episode
        else None
    )
    since = (
        last_contact.scheduled_at
        if last_contact
        else (episode.started_at if episode else patient.created_at)
    )
    brief = Brief(
        patient=patient,
        episode=episode,
        now=now,
        since=since,
        last_contact=last_contact,
        next_contact=(
            contacts.filter(status=ContactStatus.SCHEDULED, scheduled_at__gte=now)
            .select_related("supporter__user")
            .order_by("scheduled_at")
            .first()
            if episode
            else None
        ),
    )
    if episode is not None:
        read_modules(brief)
        read_homework(brief)
    brief.exercises = recent_exercises(patient, since)
    brief.mood = mood_days(patient, since, now)
    brief.measures = read_scores(patient, since)
    brief.alliance = alliance_reading(brief)
    brief.alerts = list(
        Alert.objects.filter(patient=patient, state=AlertState.OPEN).order_by("raised_at", "pk")
    )
    read_messages(brief)
    return brief


def read_modules(brief: Brief) -> None:
    assignments = (
        ModuleAssignment.objects.filter(episode=brief.episode)
        .filter(
            Q(completed_at__gte=brief.since)
            | Q(completed_at=None, started_at__isnull=False, skipped_at=None)
        )
        .select_related("module")
        .annotate(page_count=Count("module__pages"))
        .order_by("position")
    )
    for assignment in assignments:
        if assignment.completed_at is not None:
            brief.modules_done.append(assignment)
        else:
            brief.modules_started.append(assignment)


def read_homework(brief: Brief) -> None:
    homework = Homework.objects.filter(episode=brief.episode).filter(
        Q(done_at=None) | Q(done_at__gte=brief.since)
    )
    for item in homework.order_by("created_at", "pk"):
        (brief.homework_open if item.done_at is None else brief.homework_done).append(item)


def exercise_note(entry: ExerciseEntry) -> ExerciseNote:
    data = entry.data or {}
    details = ()
    if entry.kind == "thought_record":
        details = tuple(
            (label, str(data[key]))
            for key, label in (
                ("situation", _("Situation")),
                ("automatic_thought", _("Automatic thought")),
                ("balanced_thought", _("Balanced thought")),
            )
            if data.get(key)
        )
    return ExerciseNote(
        entry_id=entry.pk,
        kind=entry.kind,
        title=str(EXERCISE_TITLES.get(entry.kind, entry.kind)),
        summary=entry_summary(entry.kind, data) if entry.kind in EXERCISE_TITLES else "",
        updated_at=entry.updated_at,
        details=details,
    )


def recent_exercises(patient: Patient, since: datetime) -> list[ExerciseNote]:
    entries = ExerciseEntry.objects.filter(patient=patient, updated_at__gte=since).order_by(
        "-updated_at", "-pk"
    )[:RECENT_EXERCISES]
    return [exercise_note(entry) for entry in entries]


def mood_days(patient: Patient, since: datetime, now: datetime) -> list[MoodDay]:
    days = (now - since).days + 1
    start = (now - timedelta(days=min(max(days, MOOD_DAYS_MIN), MOOD_DAYS_MAX))).date()
    rows = (
        DailyCheckIn.objects.filter(patient=patient, local_date__gte=start)
        .order_by("local_date")
        .values_list("local_date", "mood")
    )
    return [MoodDay(day, mood) for day, mood in rows]


def read_scores(patient: Patient, since: datetime) -> list[MeasureChange]:
    """The PHQ-9 and GAD-7: one query of the latest few of each, and the first."""
    series = [F("instrument")]
    responses = (
        Response.objects.filter(
            patient=patient,
            instrument__in=BRIEF_MEASURES,
            total__isnull=False,
        )
        .only("instrument", "submitted_at", "total", "severity")
        .annotate(
            from_latest=Window(
                RowNumber(),
                partition_by=series,
                order_by=[F("submitted_at").desc(), F("pk").desc()],
            ),
            from_first=Window(
                RowNumber(), partition_by=series, order_by=[F("submitted_at"), F("pk")]
            ),
            how_many=Window(Count("pk"), partition_by=series),
        )
        .filter(Q(from_latest__lte=SCORES_READ) | Q(from_first=1))
        .order_by("instrument", "submitted_at", "pk")
    )
    by_instrument: dict[str, list[Response]] = {}
    for response in responses:
        by_instrument.setdefault(response.instrument, []).append(response)
    instruments = builtin_instruments()
    measures = []
    for code in BRIEF_MEASURES:
        found = by_instrument.get(code)
        if not found:
            continue
        latest = found[-1]
        before = [r for r in found if r.submitted_at < since]
        definition = instruments.get(code)
        measures.append(
            MeasureChange(
                instrument=code,
                name=definition.name if definition else code,
                latest=latest.total,
                latest_at=latest.submitted_at,
                severity=(latest.severity or "").replace("_", " "),
                first=found[0].total,
                count=latest.how_many,
                at_last_contact=before[-1].total if before else None,
                new_since_contact=latest.submitted_at >= since,
                recent=tuple(r.total for r in found if r.from_latest <= SPARK_POINTS),
                y_max=definition.total_range[1] if definition else max(r.total for r in found),
            )
        )
    return measures


def alliance_reading(brief: Brief) -> AllianceReading | None:
    """The latest WAI-SR of the episode with its subscale means; a rupture when one found
    by the service's rupture rule (``alliance_summary``, reference §8) is not repaired."""
    summary = alliance_summary(brief.episode or brief.patient)
    latest = summary.latest
    if latest is None:
        return None
    previous = summary.ratings[-2] if len(summary.ratings) > 1 else None
    return AllianceReading(
        mean=round(latest.mean, 2),
        at=latest.submitted_at,
        subscales={
            name: latest.subscale_mean(name)
            for name in SUBSCALES
            if latest.subscale_mean(name) is not None
        },
        previous_mean=round(previous.mean, 2) if previous else None,
        rupture=any(found.repaired is not True for found in summary.ruptures),
    )


def read_messages(brief: Brief) -> None:
    """The patient's messages still waiting for an answer, when messaging is there."""
    unanswered_messages = optional("alliance.messaging.selectors", "unanswered_messages")
    if unanswered_messages is None:
        return
    brief.messages_known = True
    brief.unanswered = list(unanswered_messages(brief.patient))
