"""The writes of the insights app: alerts (raised, acknowledged, resolved; the only code
that writes them), the alerts engine, the engagement record and trajectories, and each
service's insight settings."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Service, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.care.models import Episode, EpisodeStatus
from alliance.insights import engagement, rules, trajectories
from alliance.insights.models import (
    INSIGHT_SETTING_RANGES,
    ActivitySession,
    Alert,
    AlertEvent,
    AlertState,
    EngagementClass,
    EngagementEvent,
    EngagementEventKind,
    InsightSettings,
    PatientDay,
)

_SUPPORTER = object()  # alert_raise's default owner: the patient's named supporter


@transaction.atomic
def alert_raise(
    *,
    patient: Patient,
    kind: str,
    cause: str,
    summary: str,
    owner: StaffProfile | None | object = _SUPPORTER,
    at: datetime | None = None,
) -> Alert:
    """Open an alert for the patient's care team; if one is open for this cause, that one.

    ``owner`` defaults to the patient's named supporter (a rupture goes to a supervisor).
    """
    existing = Alert.objects.filter(
        patient=patient, kind=kind, cause=cause, state=AlertState.OPEN
    ).first()
    if existing is not None:
        return existing
    now = at or timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                patient=patient,
                kind=kind,
                cause=cause,
                summary=summary[:300],
                owner=patient.supporter if owner is _SUPPORTER else owner,
                raised_at=now,
            )
    except IntegrityError:
        return Alert.objects.get(patient=patient, kind=kind, cause=cause, state=AlertState.OPEN)
    AlertEvent.objects.create(alert=alert, at=now, event="raised", note=summary)
    return alert


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User, note: str, request=None) -> None:
    """Close an open alert with a note of the action taken (required)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write what you did about this alert.")})
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.OPEN:
        raise ValidationError({"note": _("This alert has been acknowledged already.")})
    now = timezone.now()
    locked.state = AlertState.ACKNOWLEDGED
    locked.acknowledged_at = now
    locked.acknowledged_by = actor
    locked.action_note = note
    locked.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "action_note"])
    AlertEvent.objects.create(alert=locked, at=now, actor=actor, event="acknowledged", note=note)
    audit_record(
        actor=actor,
        patient=locked.patient,
        action=AuditAction.UPDATE,
        what="alert acknowledged",
        detail={"alert": locked.pk, "old": "open", "new": "acknowledged"},
        request=request,
    )
    alert.state, alert.action_note = locked.state, locked.action_note


@transaction.atomic
def alert_resolve(
    *, alert: Alert, note: str, actor: User | None = None, request=None, at=None
) -> bool:
    """Close an open or acknowledged alert because its cause has gone (``actor`` None: the
    alerts engine found it so). Returns False when it was resolved already."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write why this alert is resolved.")})
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state == AlertState.RESOLVED:
        return False
    old = locked.state
    locked.state = AlertState.RESOLVED
    locked.save(update_fields=["state"])
    AlertEvent.objects.create(
        alert=locked, at=at or timezone.now(), actor=actor, event="resolved", note=note
    )
    if actor is not None:
        audit_record(
            actor=actor,
            patient=locked.patient,
            action=AuditAction.UPDATE,
            what="alert resolved",
            detail={"alert": locked.pk, "old": old, "new": "resolved"},
            request=request,
        )
    alert.state = locked.state
    return True


FEEDBACK_MAX = 4000


@transaction.atomic
def product_feedback_send(*, reporter: User, kind: str, text: str, page: str = ""):
    from alliance.insights.models import FeedbackKind, ProductFeedback

    text = (text or "").strip()
    if kind not in FeedbackKind.values:
        raise ValidationError({"kind": _("Choose a problem or a suggestion.")})
    if not text:
        raise ValidationError({"text": _("Describe the problem or your idea.")})
    if len(text) > FEEDBACK_MAX:
        raise ValidationError({"text": _("Keep it under %(n)d characters.") % {"n": FEEDBACK_MAX}})
    page = page if page.startswith("/") and not page.startswith("//") else ""
    return ProductFeedback.objects.create(
        reporter=reporter,
        service=reporter.staff_profile.service,
        kind=kind,
        text=text,
        page=page[:300],
    )


@transaction.atomic
def product_feedback_triage(*, feedback, actor: User, status: str, note: str = "") -> None:
    from alliance.insights.models import FeedbackStatus

    if status not in FeedbackStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    feedback.status = status
    feedback.triage_note = (note or "").strip()[:500]
    feedback.triaged_by = actor
    feedback.save(update_fields=["status", "triage_note", "triaged_by"])


# --- The engagement record -----------------------------------------------------------------


def engagement_event_record(
    *, patient: Patient | int, kind: str, at: datetime | None = None, key: str = ""
) -> None:
    """Append one engagement event (e.g. a page completed): one INSERT. With a ``key``
    (e.g. ``page:<assignment>:<page>``), recording the same event again adds nothing."""
    if kind not in EngagementEventKind.values:
        raise ValueError(f"unknown engagement event {kind!r}")
    patient_id = patient if isinstance(patient, int) else patient.pk
    event = EngagementEvent(patient_id=patient_id, kind=kind, at=at or timezone.now(), key=key)
    # A repeat of a keyed event meets the unique constraint and is skipped.
    EngagementEvent.objects.bulk_create([event], ignore_conflicts=bool(key))


def activity_touch(*, patient_id: int, at: datetime | None = None) -> None:
    """A patient's visit: extends their current session, or opens a new one when the last
    visit was longer ago than ``engagement.SESSION_GAP``."""
    at = at or timezone.now()
    extended = ActivitySession.objects.filter(
        patient_id=patient_id, last_seen_at__gte=at - engagement.SESSION_GAP, started_at__lte=at
    ).update(last_seen_at=Greatest("last_seen_at", Value(at)))
    if not extended:
        ActivitySession.objects.create(patient_id=patient_id, started_at=at, last_seen_at=at)


RECOMPUTE_CHUNK = 5000


def engagement_recompute(
    *, patient_ids: list[int] | None = None, start: date, end: date, now: datetime | None = None
) -> int:
    """Recompute the engagement record of ``patient_ids`` (every patient when None) for the
    local days ``start`` to ``end``: per time zone, one statement that groups every source
    by patient and day and upserts the days (``engagement.upsert_sql``), then one delete of
    the days that have become empty; atomic per chunk of patients. Returns how many days
    were written."""
    if end < start:
        raise ValidationError({"end": _("The end date is before the start date.")})
    now = now or timezone.now()
    if patient_ids is None:
        chunks: list[list[int] | None] = [None]
    else:
        ids = sorted(set(patient_ids))
        chunks = [ids[i : i + RECOMPUTE_CHUNK] for i in range(0, len(ids), RECOMPUTE_CHUNK)]
    written = 0
    for chunk in chunks:
        with transaction.atomic():
            for scope in engagement.scopes(chunk, start, end):
                sql, params = engagement.upsert_sql(scope, now)
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    written += max(cursor.rowcount, 0)
            # Days that had something before and have nothing now (e.g. a contact moved).
            stale = PatientDay.objects.filter(date__gte=start, date__lte=end, computed_at__lt=now)
            if chunk is not None:
                stale = stale.filter(patient_id__in=chunk)
            stale.delete()
    return written


# --- Trajectories ----------------------------------------------------------------------------

# Episodes that ended longer ago than this keep their class: their curve is final.
CLASS_REFRESH_AFTER_END = timedelta(weeks=14)
CLASS_BATCH = 1000


def engagement_classes_recompute(
    *, episode_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Classify the weekly engagement curve of episodes (by default: every active episode,
    every episode that ended in the last 14 weeks and every one never classified), in
    batches: one read of the active days and one upsert per batch. Returns how many
    episodes were classified."""
    now = now or timezone.now()
    episodes = Episode.objects.select_related("patient__user").order_by("pk")
    if episode_ids is not None:
        episodes = episodes.filter(pk__in=episode_ids)
    else:
        episodes = episodes.filter(
            Q(ended_at__isnull=True)
            | Q(ended_at__gte=now - CLASS_REFRESH_AFTER_END)
            | Q(engagement_class__isnull=True)
        )
    classified = 0
    batch: list[Episode] = []
    for episode in episodes.iterator(chunk_size=CLASS_BATCH):
        batch.append(episode)
        if len(batch) == CLASS_BATCH:
            classified += _classify(batch, now)
            batch = []
    if batch:
        classified += _classify(batch, now)
    return classified


def _classify(episodes: list[Episode], now: datetime) -> int:
    windows = {}
    condition = Q()
    for episode in episodes:
        tz = ZoneInfo(episode.patient.user.time_zone)
        start = episode.started_at.astimezone(tz).date()
        yesterday = now.astimezone(tz).date() - timedelta(days=1)
        last_day = episode.ended_at.astimezone(tz).date() if episode.ended_at else yesterday
        last_day = min(last_day, start + timedelta(weeks=trajectories.CURVE_WEEKS) - timedelta(1))
        windows[episode.pk] = (start, last_day, yesterday)
        condition |= Q(patient_id=episode.patient_id, date__gte=start, date__lte=last_day)
    active: dict[int, list[date]] = {}
    for patient_id, day in PatientDay.objects.filter(condition, active=True).values_list(
        "patient_id", "date"
    ):
        active.setdefault(patient_id, []).append(day)
    rows = []
    for episode in episodes:
        start, last_day, yesterday = windows[episode.pk]
        stopped = (
            episode.status == EpisodeStatus.ENDED
            and episode.end_reason in trajectories.STOPPED_REASONS
        )
        curve = trajectories.weekly_curve(
            (d for d in active.get(episode.patient_id, ()) if start <= d <= last_day),
            start=start,
            last_day=last_day,
            complete_only_until=yesterday,
            stopped=stopped,
        )
        rows.append(
            EngagementClass(
                episode=episode,
                label=trajectories.classify(curve),
                curve=curve,
                computed_at=now,
            )
        )
    EngagementClass.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["episode"],
        update_fields=["label", "curve", "computed_at"],
    )
    return len(rows)


# --- The alerts engine -------------------------------------------------------------------------


def alerts_evaluate(*, service: Service | None = None, now: datetime | None = None) -> dict:
    """Run every alert rule over the patients of ``service`` (of every service when None):
    raise an alert for each new cause, resolve the alerts whose cause has gone. A cause that
    has ever had an alert (open, acknowledged or resolved) is not raised again.

    Returns ``{"raised": n, "resolved": n}``."""
    now = now or timezone.now()
    patients = Patient.objects.all() if service is None else Patient.objects.filter(service=service)
    results = rules.current_causes(patients, now)
    wanted = {cause.key: cause for result in results for cause in result.causes}
    known: set[tuple[int, str, str]] = set()
    keys = list(wanted)
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        known.update(
            Alert.objects.filter(
                patient_id__in={k[0] for k in part}, cause__in={k[2] for k in part}
            ).values_list("patient_id", "kind", "cause")
        )
    new = [cause for key, cause in wanted.items() if key not in known]
    by_id = Patient.objects.select_related("supporter").in_bulk({c.patient_id for c in new})
    raised = 0
    for cause in new:
        extra = {} if cause.owner is None else {"owner": cause.owner}
        alert_raise(
            patient=by_id[cause.patient_id],
            kind=cause.kind,
            cause=cause.cause,
            summary=cause.summary,
            at=now,
            **extra,
        )
        raised += 1
    resolved = 0
    for result in results:
        if not result.rule.auto_resolve:
            continue
        current = Alert.objects.filter(
            patient__in=patients,
            state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
            **rules.evaluated_service_filter(result),
        )
        for alert in current:
            if (alert.patient_id, alert.kind, alert.cause) not in wanted:
                resolved += alert_resolve(alert=alert, note=str(result.rule.resolved_note), at=now)
    return {"raised": raised, "resolved": resolved}


# --- Settings ---------------------------------------------------------------------------------

SETTING_NAMES = (*INSIGHT_SETTING_RANGES, "deterioration_alerts")


def _whole(name: str) -> bool:
    """Whether a setting is a whole number (its range is given in whole numbers)."""
    return all(isinstance(bound, int) for bound in INSIGHT_SETTING_RANGES.get(name, (0.5,)))


@transaction.atomic
def insight_settings_update(*, service: Service, actor: User, **values) -> InsightSettings:
    """Change a service's thresholds. Every value is checked against its range first; one
    out of range changes nothing and names its field."""
    unknown = set(values) - set(SETTING_NAMES)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError({name: [_("This is not a setting.")]})
    errors = {}
    for name, value in values.items():
        if name == "deterioration_alerts":
            if not isinstance(value, bool):
                errors[name] = [_("Choose yes or no.")]
            continue
        low, high = INSIGHT_SETTING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = [_("Enter a number.")]
        elif _whole(name) and value != int(value):
            errors[name] = [_("Enter a whole number.")]
        elif not low <= value <= high:
            errors[name] = [
                _("Enter a value from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
    if errors:
        raise ValidationError(errors)
    settings, _created = InsightSettings.objects.select_for_update().get_or_create(service=service)
    for name, value in values.items():
        setattr(settings, name, int(value) if _whole(name) else value)
    settings.updated_by = actor
    settings.save()
    return settings
