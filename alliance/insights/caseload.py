"""The caseload: a supporter's patients in triage order, what each one needs now, and the
supervisor's view of their teams' caseloads with each supporter's time.

Reads, the pure triage rule, and the two writes of supervision (moving a patient to
another supporter; settling a patient's request for a different one). ``caseload_rows``
runs a fixed number of queries whatever the caseload size and history length: the
patients with their latest exercise, check-in and message (index lookups and a join on
their thread); their episodes; per episode the latest page progress and the next contact
(two grouped queries); the first and latest PHQ-9 and GAD-7 scores (index lookups in the
patients' query; the page's rows then get their sparklines in one more query); open
alerts; the services' inactivity thresholds; and a fixed few for reviews due and overdue
replies, whose rules belong to the care and messaging apps.

The triage order (``triage_key``) is a pure function of a row:

1. an open **risk** alert;
2. **messages overdue** (past the service's reply-time target);
3. a **review overdue or due** (and alerts about something overdue);
4. **deterioration**: reliable deterioration of the PHQ-9 or GAD-7 from the first to the
   latest score, or an open deterioration or alliance-rupture alert;
5. **inactivity**: nothing done in an active episode for the service's number of days
   (``INACTIVE_DAYS`` by default), or an open inactivity or missed-appointment alert;
6. any other open alert;
7. the rest: unanswered messages first, then the soonest next contact.

Inside a tier the longest-waiting comes first. The alerts engine feeds the same function
through the row's open alerts, so a new kind of alert needs only a line in ``ALERT_TIERS``.
"""

import importlib
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum
from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from alliance.accounts import policy
from alliance.accounts.models import Patient, Role, StaffProfile, User
from alliance.accounts.services import patient_assign_supporter
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.care.models import Contact, ContactStatus, Episode, EpisodeStatus, ModuleAssignment
from alliance.checkins.models import DailyCheckIn, ExerciseEntry
from alliance.insights.models import Alert, AlertKind, AlertState
from alliance.measures.instruments import builtin_instruments
from alliance.measures.models import Response
from alliance.measures.outcomes import ReliableChange, reliable_change

# Nothing done for this long in an active episode counts as inactive, unless the service
# set its own number of days (InsightSettings.inactivity_days).
INACTIVE_DAYS = 7
# How many of the latest scores the sparkline of each measure shows.
SPARK_POINTS = 8
TRACKED_MEASURES = ("phq9", "gad7")

SCOPES = ("mine", "team")
STATUSES = ("all", "active", "waiting", "ended")
NEEDS = ("all", "attention", "risk", "messages", "review", "deterioration", "inactive")
SORTS = ("triage", "name", "last_activity", "next_contact", "phq9", "gad7")


# --- Access (built only from the policy; to move into accounts/policy.py) --------------

CASELOAD_ROLES = (Role.SUPPORTER, Role.DIGITAL_NAVIGATOR, Role.SUPERVISOR)
SUPERVISION_ROLES = (Role.SUPERVISOR, Role.SERVICE_MANAGER)


def can_view_caseload(user: User) -> bool:
    """Supporters, digital navigators and supervisors: the patients of their teams."""
    return policy.has_role(user, *CASELOAD_ROLES)


def can_supervise(user: User) -> bool:
    """Supervisors (their teams) and service managers (their service)."""
    return policy.has_role(user, *SUPERVISION_ROLES)


def caseload_patients(user: User, scope: str = "mine") -> QuerySet[Patient]:
    """``mine``: the patients whose named supporter is ``user``; ``team``: every patient
    ``user`` may see. Both only through the policy."""
    visible = policy.patients_visible_to(user)
    if scope == "mine":
        return visible.filter(supporter__user=user)
    return visible


# --- Links to the other pages about a patient ------------------------------------------

# (key, label, URL name) of the pages about a patient, in the order of a morning's work.
PATIENT_PAGES = (
    ("brief", _lazy("Brief"), "support:brief"),
    ("review", _lazy("Review"), "care:review"),
    ("messages", _lazy("Messages"), "messaging:patient_thread"),
    ("contacts", _lazy("Contacts"), "care:contacts"),
    ("plan", _lazy("Plan"), "care:plan"),
    ("scores", _lazy("Scores"), "measures:patient_scores"),
)
# Reversed once per request with this stand-in id, then filled in for every patient.
_ANY_ID = 987654321


def page_templates() -> list[tuple[str, str, str]]:
    """(key, label, path with ``{id}``) of each page about a patient."""
    return [
        (key, str(label), reverse(name, args=[_ANY_ID]).replace(str(_ANY_ID), "{id}"))
        for key, label, name in PATIENT_PAGES
    ]


def patient_links(
    patient_id: int, *, without: str = "", templates: list | None = None
) -> list[tuple[str, str, str]]:
    """(key, label, href) of each page about the patient, in the order of a morning's work."""
    return [
        (key, label, path.format(id=patient_id))
        for key, label, path in (templates or page_templates())
        if key != without
    ]


# --- Optional sources: apps built alongside this one -----------------------------------


def optional(module: str, name: str) -> Any:
    """``module.name`` if that app provides it yet, else None (the caseload then says
    "not known" rather than failing)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


# --- Rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreTrend:
    """A measure's latest scores for a sparkline, and reliable change first → latest."""

    instrument: str
    recent: tuple[int, ...]  # the latest totals, oldest first (at most SPARK_POINTS)
    first: int  # the patient's first total of this measure
    # How many totals there are in all; None until the rows shown are filled in
    # (``with_recent_scores``): triage needs only the first and the latest.
    count: int | None = None

    @property
    def latest(self) -> int:
        return self.recent[-1]

    @cached_property
    def change(self) -> str | None:
        """ "improvement", "no_reliable_change" or "deterioration"; None with one score."""
        definition = builtin_instruments().get(self.instrument)
        if self.count is not None and self.count < 2:
            return None
        if definition is None or definition.reliable_change is None:
            return None
        return str(reliable_change(definition, self.first, self.latest))

    @property
    def points(self) -> int:
        """Latest minus first."""
        return self.latest - self.first


@dataclass
class CaseloadRow:
    patient: Patient
    status: str  # "active", "waiting" (no episode yet) or "ended"
    episode: Episode | None
    last_activity_at: datetime | None
    next_contact_at: datetime | None
    scores: dict[str, ScoreTrend] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)  # open ones, oldest first
    inactive_days: int | None = None  # days without activity, in an active episode
    inactive_after: int = INACTIVE_DAYS  # the service's threshold
    review_due_at: datetime | None = None
    review_overdue: bool = False
    unanswered_messages: int = 0
    oldest_unanswered_at: datetime | None = None
    messages_overdue: bool = False

    @property
    def phq9(self) -> ScoreTrend | None:
        return self.scores.get("phq9")

    @property
    def gad7(self) -> ScoreTrend | None:
        return self.scores.get("gad7")

    @property
    def alert_kinds(self) -> set[str]:
        return {alert.kind for alert in self.alerts}

    @property
    def risk(self) -> bool:
        return AlertKind.RISK in self.alert_kinds

    @property
    def deteriorated(self) -> bool:
        """Reliable deterioration on the PHQ-9 or the GAD-7, first score to latest."""
        return any(t.change == ReliableChange.DETERIORATION for t in self.scores.values())

    @property
    def inactive(self) -> bool:
        return self.inactive_days is not None and self.inactive_days >= self.inactive_after

    @property
    def review_due(self) -> bool:
        return self.review_due_at is not None or self.review_overdue

    @property
    def tier(self) -> "Tier":
        return triage_tier(self)

    @property
    def reasons(self) -> list[str]:
        return triage_reasons(self)


# --- Triage: pure ------------------------------------------------------------------------


class Tier(IntEnum):
    RISK = 0
    MESSAGES_OVERDUE = 1
    REVIEW_DUE = 2
    DETERIORATION = 3
    INACTIVE = 4
    OTHER_ALERT = 5
    REST = 6


# Which tier an open alert of each kind puts its patient in (at least).
ALERT_TIERS = {
    AlertKind.RISK: Tier.RISK,
    AlertKind.OVERDUE: Tier.REVIEW_DUE,
    AlertKind.DETERIORATION: Tier.DETERIORATION,
    AlertKind.RUPTURE: Tier.DETERIORATION,
    AlertKind.INACTIVITY: Tier.INACTIVE,
    AlertKind.MISSED_APPOINTMENT: Tier.INACTIVE,
}


def triage_tier(row: CaseloadRow) -> Tier:
    """The most urgent reason the patient needs their supporter, as a tier."""
    tiers = [ALERT_TIERS.get(kind, Tier.OTHER_ALERT) for kind in row.alert_kinds]
    if row.messages_overdue:
        tiers.append(Tier.MESSAGES_OVERDUE)
    if row.review_due:
        tiers.append(Tier.REVIEW_DUE)
    if row.deteriorated:
        tiers.append(Tier.DETERIORATION)
    if row.inactive:
        tiers.append(Tier.INACTIVE)
    return min(tiers, default=Tier.REST)


def _moment(value: datetime | None) -> float:
    return value.timestamp() if value is not None else math.inf


def triage_key(row: CaseloadRow) -> tuple:
    """Sort key of the triage order: the tier, then who has waited longest in it."""
    tier = triage_tier(row)
    if tier == Tier.RISK:
        waiting = min(_moment(a.raised_at) for a in row.alerts if a.kind == AlertKind.RISK)
    elif tier == Tier.MESSAGES_OVERDUE:
        waiting = _moment(row.oldest_unanswered_at)
    elif tier == Tier.REVIEW_DUE:
        # Overdue before merely due; then the earliest due.
        waiting = _moment(row.review_due_at) - (1e12 if row.review_overdue else 0)
    elif tier == Tier.INACTIVE:
        waiting = -(row.inactive_days or 0)
    elif tier in (Tier.DETERIORATION, Tier.OTHER_ALERT):
        waiting = min((_moment(a.raised_at) for a in row.alerts), default=math.inf)
    else:
        waiting = _moment(row.next_contact_at)
    name = row.patient.user.full_name.casefold()
    return (int(tier), -row.unanswered_messages if tier == Tier.REST else 0, waiting, name)


def triage_reasons(row: CaseloadRow) -> list[str]:
    """Why the patient is where they are, most urgent first, in words for the page."""
    reasons = []
    labels = dict(AlertKind.choices)
    if row.risk:
        reasons.append(_("Risk alert"))
    if row.messages_overdue:
        reasons.append(_("Reply overdue"))
    elif row.unanswered_messages:
        reasons.append(
            ngettext(
                "%(n)d unanswered message", "%(n)d unanswered messages", row.unanswered_messages
            )
            % {"n": row.unanswered_messages}
        )
    if row.review_overdue:
        reasons.append(_("Review overdue"))
    elif row.review_due:
        reasons.append(_("Review due"))
    for code, trend in sorted(row.scores.items()):
        if trend.change == ReliableChange.DETERIORATION:
            name = builtin_instruments()[code].name
            reasons.append(_("%(measure)s reliably worse") % {"measure": name})
    if row.inactive:
        reasons.append(
            ngettext("Inactive for %(n)d day", "Inactive for %(n)d days", row.inactive_days)
            % {"n": row.inactive_days}
        )
    for kind in sorted(row.alert_kinds - {AlertKind.RISK}):
        reasons.append(str(labels.get(kind, kind)))
    return reasons


# --- Filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadFilter:
    scope: str = "mine"
    status: str = "all"
    need: str = "all"
    sort: str = "triage"
    page: int = 1


def parse_filter(params, *, default_scope: str = "mine") -> tuple[CaseloadFilter, dict]:
    """The filter asked for in a query string, and an error per unknown value (by field).

    An unknown value falls back to the default, so the page still shows the caseload."""
    chosen, errors = {}, {}
    allowed = {"scope": SCOPES, "status": STATUSES, "need": NEEDS, "sort": SORTS}
    defaults = {"scope": default_scope, "status": "all", "need": "all", "sort": "triage"}
    for name, values in allowed.items():
        value = (params.get(name) or defaults[name]).strip()
        if value not in values:
            errors[name] = [
                _("%(value)s is not one of: %(allowed)s.")
                % {"value": value[:40], "allowed": ", ".join(values)}
            ]
            value = defaults[name]
        chosen[name] = value
    raw_page = (params.get("page") or "1").strip()
    if raw_page.isdigit() and int(raw_page) >= 1:
        chosen["page"] = int(raw_page)
    else:
        chosen["page"] = 1
        errors["page"] = [_("%(value)s is not a page number.") % {"value": raw_page[:20]}]
    return CaseloadFilter(**chosen), errors


def matches(row: CaseloadRow, wanted: CaseloadFilter) -> bool:
    if wanted.status != "all" and row.status != wanted.status:
        return False
    need = wanted.need
    if need == "attention":
        return row.tier != Tier.REST
    if need == "risk":
        return row.risk
    if need == "messages":
        return row.messages_overdue or row.unanswered_messages > 0
    if need == "review":
        return row.review_due
    if need == "deterioration":
        return row.deteriorated or bool(
            row.alert_kinds & {AlertKind.DETERIORATION, AlertKind.RUPTURE}
        )
    if need == "inactive":
        return row.inactive or AlertKind.INACTIVITY in row.alert_kinds
    return True


def _latest_first(value: datetime | None) -> float:
    return -_moment(value) if value is not None else math.inf


def sort_key(sort: str):
    name = lambda row: row.patient.user.full_name.casefold()  # noqa: E731
    if sort == "name":
        return name
    if sort == "last_activity":
        return lambda row: (_latest_first(row.last_activity_at), name(row))
    if sort == "next_contact":
        return lambda row: (_moment(row.next_contact_at), name(row))
    if sort in TRACKED_MEASURES:
        # Highest (most severe) first; patients without a score last.
        return lambda row: (
            -row.scores[sort].latest if sort in row.scores else math.inf,
            name(row),
        )
    return triage_key


# --- The read ---------------------------------------------------------------------------


# Rows per page: the most urgent come first, so the first page is where the work is.
PAGE_SIZE = 50


@dataclass
class Caseload:
    rows: list[CaseloadRow]  # the rows of the page asked for
    filter: CaseloadFilter
    total: int  # patients in scope before the status and need filters
    matching: int  # patients that pass the filters, on every page
    tier_counts: dict[Tier, int]
    sources: dict[str, bool]  # which optional sources were there (reviews, messages)
    page_size: int = PAGE_SIZE

    @property
    def needing_attention(self) -> int:
        return sum(n for tier, n in self.tier_counts.items() if tier != Tier.REST)

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.page_size))

    @property
    def first_number(self) -> int:
        return (self.filter.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


def caseload(
    user: User,
    wanted: CaseloadFilter,
    *,
    now: datetime | None = None,
    page_size: int = PAGE_SIZE,
) -> Caseload:
    """The caseload page and API: rows filtered, sorted and cut into pages, with counts
    per tier over the whole caseload."""
    now = now or timezone.now()
    rows, sources = caseload_rows(caseload_patients(user, wanted.scope), now=now)
    counts = {tier: 0 for tier in Tier}
    for row in rows:
        counts[row.tier] += 1
    shown = sorted((r for r in rows if matches(r, wanted)), key=sort_key(wanted.sort))
    start = (wanted.page - 1) * page_size
    page = with_recent_scores(shown[start : start + page_size])
    return Caseload(page, wanted, len(rows), len(shown), counts, sources, page_size)


def _last(queryset: QuerySet, value: str, *, order: str | None = None) -> Subquery:
    return Subquery(queryset.order_by(f"-{order or value}").values(value)[:1])


def annotated_patients(patients: QuerySet[Patient], now: datetime) -> QuerySet[Patient]:
    """The patients, each with the time of their latest exercise, check-in and message:
    one query of index lookups, however long their histories."""
    patient = OuterRef("pk")
    annotations = {
        "last_exercise_at": _last(ExerciseEntry.objects.filter(patient=patient), "updated_at"),
        # The newest day by the (patient, day) unique index, then when it was saved.
        "last_checkin_at": _last(
            DailyCheckIn.objects.filter(patient=patient), "updated_at", order="local_date"
        ),
    }
    patients = (
        patients.select_related("user", "team", "supporter__user")
        .only(*ROW_FIELDS)
        .annotate(**annotations)
    )
    return with_score_summaries(with_message_facts(patients))


# What a row shows of a patient: enough for names, links and the access already checked.
ROW_FIELDS = (
    "service_id",
    "team_id",
    "supporter_id",
    "user__full_name",
    "user__preferred_name",
    "user__email",
    "team__name",
    "supporter__user__full_name",
    "supporter__user__preferred_name",
    "supporter__user__email",
)


def with_message_facts(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Each patient's latest message, and how many of theirs wait for a reply since when
    (the thread keeps when the wait began), when the messaging app is there. Index lookups
    on the thread's (thread, sent_at) index, however long the conversation."""
    thread = optional("alliance.messaging.models", "Thread")
    message = optional("alliance.messaging.models", "Message")
    if thread is None or message is None:
        return patients
    # One thread per patient (a unique constraint): a join, not a lookup per patient.
    patients = patients.annotate(
        thread_pk=F("message_threads__id"),
        oldest_unanswered_at=F("message_threads__awaiting_reply_since"),
    )
    from_patient = message.objects.filter(thread_id=OuterRef("thread_pk"), is_from_patient=True)
    waiting = from_patient.filter(sent_at__gte=OuterRef("oldest_unanswered_at"))
    count_waiting = Subquery(
        waiting.order_by().values("thread_id").annotate(n=Count("pk")).values("n")[:1]
    )
    return patients.annotate(
        last_message_at=_last(from_patient, "sent_at"),
        # Counted only for the threads that wait for a reply: most don't.
        unanswered_count=Case(When(oldest_unanswered_at__isnull=False, then=count_waiting)),
    )


def latest_episodes(patient_ids: list[int]) -> dict[int, Episode]:
    """Each patient's active episode, else their latest: one query."""
    chosen: dict[int, Episode] = {}
    episodes = (
        Episode.objects.filter(patient_id__in=patient_ids)
        .only("patient_id", "care_model", "status", "started_at", "ended_at", "supporter_id")
        .order_by("started_at", "pk")
    )
    for episode in episodes:
        current = chosen.get(episode.patient_id)
        if current is None or current.status != EpisodeStatus.ACTIVE:
            chosen[episode.patient_id] = episode
    return chosen


def with_score_summaries(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Each patient's first and latest PHQ-9 and GAD-7 totals, as ``<code>_first`` and
    ``<code>_latest``: index lookups on the (patient, instrument, submitted_at) index,
    however long the history."""
    annotations = {}
    for code in TRACKED_MEASURES:
        scored = Response.objects.filter(
            patient=OuterRef("pk"), instrument=code, total__isnull=False
        )
        annotations[f"{code}_first"] = Subquery(
            scored.order_by("submitted_at", "pk").values("total")[:1]
        )
        annotations[f"{code}_latest"] = Subquery(
            scored.order_by("-submitted_at", "-pk").values("total")[:1]
        )
    return patients.annotate(**annotations)


def summary_trends(patient: Patient) -> dict[str, ScoreTrend]:
    """The trends of an annotated patient, with only the latest score as ``recent`` (the
    page's rows get the rest from ``with_recent_scores``)."""
    trends = {}
    for code in TRACKED_MEASURES:
        latest = getattr(patient, f"{code}_latest", None)
        if latest is not None:
            trends[code] = ScoreTrend(
                instrument=code,
                recent=(latest,),
                first=getattr(patient, f"{code}_first"),
            )
    return trends


def recent_scores(patient_ids: list[int]) -> dict[tuple[int, str], tuple[tuple[int, ...], int]]:
    """(patient id, measure) -> (the latest SPARK_POINTS totals, oldest first; how many
    totals there are in all): one query, its rows bounded by SPARK_POINTS per patient and
    measure."""
    series = [F("patient_id"), F("instrument")]
    newest_first = [F("submitted_at").desc(), F("pk").desc()]
    rows = (
        Response.objects.filter(
            patient_id__in=patient_ids, instrument__in=TRACKED_MEASURES, total__isnull=False
        )
        .annotate(
            from_latest=Window(RowNumber(), partition_by=series, order_by=newest_first),
            how_many=Window(Count("pk"), partition_by=series),
        )
        .filter(from_latest__lte=SPARK_POINTS)
        # Only numbers come back: no date to parse for each of the rows.
        .values_list("patient_id", "instrument", "from_latest", "total", "how_many")
    )
    found: dict[tuple[int, str], list] = {}
    for patient_id, instrument, position, total, count in rows:
        found.setdefault((patient_id, instrument), []).append((position, total, count))
    return {
        key: (tuple(v[1] for v in sorted(values, reverse=True)), values[0][2])
        for key, values in found.items()
    }


def with_recent_scores(rows: list["CaseloadRow"]) -> list["CaseloadRow"]:
    """Give the rows shown their sparklines' scores and their counts: one query for the
    page, not for the whole caseload (triage needs only the first and latest scores)."""
    recent = recent_scores([row.patient.pk for row in rows if row.scores])
    for row in rows:
        filled = {}
        for code, trend in row.scores.items():
            totals, count = recent.get((row.patient.pk, code), (trend.recent, 1))
            filled[code] = replace(trend, recent=totals, count=count)
        row.scores = filled
    return rows


def episode_moments(episode_ids: list[int], now: datetime) -> tuple[dict, dict]:
    """Per episode, the last page progress (a module started or finished) and the next
    scheduled contact: two grouped queries on indexed columns."""
    progress = (
        ModuleAssignment.objects.filter(episode_id__in=episode_ids)
        .values("episode_id")
        .annotate(at=Max(Coalesce("completed_at", "started_at")))
        .order_by()
    )
    upcoming = (
        Contact.objects.filter(
            episode_id__in=episode_ids, status=ContactStatus.SCHEDULED, scheduled_at__gte=now
        )
        .values("episode_id")
        .annotate(at=Min("scheduled_at"))
        .order_by()
    )
    return (
        {row["episode_id"]: row["at"] for row in progress},
        {row["episode_id"]: row["at"] for row in upcoming},
    )


def open_alerts(patient_ids: list[int]) -> dict[int, list[Alert]]:
    found: dict[int, list[Alert]] = {}
    alerts = Alert.objects.filter(patient_id__in=patient_ids, state=AlertState.OPEN).order_by(
        "raised_at", "pk"
    )
    for alert in alerts:
        found.setdefault(alert.patient_id, []).append(alert)
    return found


def reviews_due_by_patient(patients: QuerySet[Patient], now: datetime) -> dict | None:
    """patient id -> (due at, overdue by a day or more) for the active episodes due a
    review under their service's schedule (the care app's rules, ``review_due_at`` and
    ``review_intervals``); None when the care app has no reviews. Two queries."""
    with_review_facts = optional("alliance.care.selectors", "with_review_facts")
    review_intervals = optional("alliance.care.selectors", "review_intervals")
    review_due_at = optional("alliance.care.reviews", "review_due_at")
    if None in (with_review_facts, review_intervals, review_due_at):
        return None
    episodes = list(
        with_review_facts(
            Episode.objects.filter(status=EpisodeStatus.ACTIVE, patient__in=patients)
        ).values(
            "patient_id", "patient__service_id", "care_model", "started_at", "last_reviewed_at"
        )
    )
    intervals = review_intervals({e["patient__service_id"] for e in episodes})
    found = {}
    for e in episodes:
        days = intervals[e["patient__service_id"]].get(e["care_model"], 7)
        due_at = review_due_at(
            started_at=e["started_at"], last_reviewed_at=e["last_reviewed_at"], interval=days
        )
        if now >= due_at:
            found[e["patient_id"]] = (due_at, (now - due_at).days >= 1)
    return found


def overdue_message_patients(patients: QuerySet[Patient], now: datetime) -> set[int] | None:
    """The patients with a thread past the reply-time target; None without messaging."""
    overdue_threads = optional("alliance.messaging.selectors", "overdue_threads")
    if overdue_threads is None:
        return None
    return {thread.patient_id for thread in overdue_threads(patients, now)}


def inactivity_thresholds(service_ids: set[int]) -> dict[int, int]:
    """Each service's days without activity before a patient counts as inactive."""
    settings_model = optional("alliance.insights.models", "InsightSettings")
    found = {}
    if settings_model is not None:
        found = dict(
            settings_model.objects.filter(service_id__in=service_ids).values_list(
                "service_id", "inactivity_days"
            )
        )
    return {sid: found.get(sid, INACTIVE_DAYS) for sid in service_ids}


def caseload_rows(
    patients: QuerySet[Patient], *, now: datetime | None = None
) -> tuple[list[CaseloadRow], dict[str, bool]]:
    """A row per patient (name order), and which optional sources were known."""
    now = now or timezone.now()
    found = list(annotated_patients(patients, now).order_by("user__full_name", "pk"))
    ids = [p.pk for p in found]
    if not ids:
        return [], {"reviews": True, "messages": True}
    episodes = latest_episodes(ids)
    progress, upcoming = episode_moments([e.pk for e in episodes.values()], now)
    alerts = open_alerts(ids)
    in_scope = Patient.objects.filter(pk__in=ids)
    thresholds = inactivity_thresholds({p.service_id for p in found})
    reviews = reviews_due_by_patient(in_scope, now)
    overdue = overdue_message_patients(in_scope, now)
    rows = []
    for patient in found:
        episode = episodes.get(patient.pk)
        status = (
            "waiting"
            if episode is None
            else ("active" if episode.status == EpisodeStatus.ACTIVE else "ended")
        )
        last = max(
            (
                t
                for t in (
                    progress.get(episode.pk) if episode else None,
                    patient.last_exercise_at,
                    patient.last_checkin_at,
                    getattr(patient, "last_message_at", None),
                )
                if t is not None
            ),
            default=None,
        )
        inactive_days = None
        if status == "active":
            since = max(last, episode.started_at) if last else episode.started_at
            inactive_days = max((now - since).days, 0)
        row = CaseloadRow(
            patient=patient,
            status=status,
            episode=episode,
            last_activity_at=last,
            next_contact_at=upcoming.get(episode.pk) if episode else None,
            scores=summary_trends(patient),
            alerts=alerts.get(patient.pk, []),
            inactive_days=inactive_days,
            inactive_after=thresholds[patient.service_id],
            unanswered_messages=getattr(patient, "unanswered_count", None) or 0,
            oldest_unanswered_at=getattr(patient, "oldest_unanswered_at", None),
        )
        if reviews is not None and patient.pk in reviews:
            row.review_due_at, row.review_overdue = reviews[patient.pk]
        if overdue is not None:
            row.messages_overdue = patient.pk in overdue
        rows.append(row)
    return rows, {"reviews": reviews is not None, "messages": overdue is not None}


# --- Supervision -----------------------------------------------------------------------

# Supporter time is summed over this many weeks, then given per patient per week.
TIME_WEEKS = 4


@dataclass
class SupporterCaseload:
    """One supporter's caseload as their supervisor sees it, with the time they spent."""

    supporter: StaffProfile
    rows: list[CaseloadRow]
    # patient id -> minutes of reviews and contacts by this supporter in TIME_WEEKS weeks
    minutes: dict[int, int]
    weeks: int = TIME_WEEKS

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())

    @property
    def minutes_per_patient_per_week(self) -> float | None:
        if not self.rows:
            return None
        return round(self.total_minutes / len(self.rows) / self.weeks, 1)

    @property
    def needing_attention(self) -> int:
        return sum(1 for row in self.rows if row.tier != Tier.REST)

    @property
    def patient_times(self) -> list[tuple[CaseloadRow, float]]:
        """Each patient of the caseload with this supporter's minutes per week for them."""
        return [
            (row, round(self.minutes.get(row.patient.pk, 0) / self.weeks, 1)) for row in self.rows
        ]


@dataclass
class Supervision:
    supporters: list[SupporterCaseload]
    # Patients in scope with no named supporter among the supporters shown.
    unassigned: list[CaseloadRow]
    change_requests: list
    requests_known: bool
    weeks: int = TIME_WEEKS


def supporters_in_scope(user: User, patients: QuerySet[Patient]) -> QuerySet[StaffProfile]:
    """The supporters of the teams of the patients ``user`` sees, and anyone named as one
    of those patients' supporter."""
    team_ids = patients.order_by().values("team_id")
    return (
        StaffProfile.objects.filter(role=Role.SUPPORTER)
        .filter(Q(teams__in=team_ids) | Q(patients__in=patients))
        .select_related("user")
        .prefetch_related("teams")
        .distinct()
        .order_by("user__full_name", "pk")
    )


def supporter_minutes(patients: QuerySet[Patient], since: datetime, now: datetime) -> dict:
    """(supporter id, patient id) -> minutes of completed reviews and of contacts held
    between ``since`` and ``now``: two grouped queries. A contact counts its recorded
    time, or its booked length when it was attended and no time was recorded."""
    minutes: dict[tuple[int, int], int] = {}
    contact_time = Coalesce(
        "minutes_spent",
        Case(When(status=ContactStatus.ATTENDED, then="duration_minutes"), default=Value(0)),
        output_field=IntegerField(),
    )
    contacts = (
        Contact.objects.filter(
            episode__patient__in=patients,
            scheduled_at__gte=since,
            scheduled_at__lte=now,
            supporter__isnull=False,
        )
        .exclude(status=ContactStatus.SCHEDULED)
        .values("supporter_id", "episode__patient_id")
        .annotate(total=Sum(contact_time))
        .order_by()
    )
    for row in contacts:
        key = (row["supporter_id"], row["episode__patient_id"])
        minutes[key] = minutes.get(key, 0) + (row["total"] or 0)
    review = optional("alliance.care.models", "Review")
    if review is not None:
        reviews = (
            review.objects.filter(
                episode__patient__in=patients,
                completed_at__gte=since,
                completed_at__lte=now,
            )
            .values("reviewer_id", "episode__patient_id")
            .annotate(total=Sum("minutes_spent"))
            .order_by()
        )
        for row in reviews:
            key = (row["reviewer_id"], row["episode__patient_id"])
            minutes[key] = minutes.get(key, 0) + (row["total"] or 0)
    return minutes


def supervision(user: User, *, now: datetime | None = None) -> Supervision:
    """The caseloads of the supporters of ``user``'s teams (a service manager: of the
    service), each with the time spent per patient per week, and the open requests for a
    different supporter. A fixed number of queries."""
    now = now or timezone.now()
    patients = policy.patients_visible_to(user)
    rows, _sources = caseload_rows(patients, now=now)
    with_recent_scores(rows)
    supporters = list(supporters_in_scope(user, patients))
    minutes = supporter_minutes(patients, now - timedelta(weeks=TIME_WEEKS), now)
    by_supporter: dict[int, list[CaseloadRow]] = {s.pk: [] for s in supporters}
    unassigned = []
    for row in sorted(rows, key=triage_key):
        if row.patient.supporter_id in by_supporter:
            by_supporter[row.patient.supporter_id].append(row)
        else:
            unassigned.append(row)
    caseloads = []
    for supporter in supporters:
        theirs = {pid: m for (sid, pid), m in minutes.items() if sid == supporter.pk}
        caseloads.append(SupporterCaseload(supporter, by_supporter[supporter.pk], theirs))
    requests_for = optional("alliance.messaging.selectors", "supporter_change_requests_for")
    requests = list(requests_for(user)) if requests_for is not None else []
    return Supervision(caseloads, unassigned, requests, requests_for is not None)


# --- Writes of supervision (to move into insights/services.py) --------------------------


@transaction.atomic
def patient_reassign(
    *, actor: User, patient: Patient, supporter_id: int | None, request=None
) -> StaffProfile:
    """Move a patient to another supporter of their own team (supervisors, service
    managers, administrators). A supporter of another team or service is refused, naming
    the field, and nothing changes. The active episode follows the patient's named
    supporter. Moving a patient to the supporter they have changes nothing (a retry)."""
    if not policy.can_change_patient_care_team(actor):
        raise PermissionDenied(_("Only a supervisor or a service manager can move a patient."))
    supporter = None
    if supporter_id is not None:
        supporter = policy.supporters_assignable_by(actor, patient).filter(pk=supporter_id).first()
    if supporter is None:
        raise ValidationError(
            {
                "supporter_id": [
                    _("Choose a supporter of %(team)s, %(name)s's team.")
                    % {"team": patient.team.name, "name": patient.user.full_name}
                ]
            }
        )
    if supporter.pk == patient.supporter_id:
        return supporter  # a retry, or nothing to change: the record stays as it is
    patient_assign_supporter(actor=actor, patient=patient, supporter=supporter, request=request)
    episode_follow_supporter(actor=actor, patient=patient, request=request)
    return supporter


def episode_follow_supporter(*, actor: User, patient: Patient, request=None) -> None:
    """Give the active episode the patient's named supporter (contacts and reviews default
    to the episode's supporter), audited. Nothing when they are the same already."""
    episode = (
        Episode.objects.select_for_update(of=("self",))
        .select_related("supporter__user")
        .filter(patient=patient, status=EpisodeStatus.ACTIVE)
        .first()
    )
    if episode is None or episode.supporter_id == patient.supporter_id:
        return
    old = episode.supporter.user.email if episode.supporter else None
    episode.supporter = patient.supporter
    episode.save(update_fields=["supporter"])
    audit_record(
        actor=actor,
        patient=patient,
        action=AuditAction.UPDATE,
        what="episode supporter",
        detail={
            "episode": episode.pk,
            "old": old,
            "new": patient.supporter.user.email if patient.supporter else None,
        },
        request=request,
    )


@transaction.atomic
def supporter_change_settle(
    *, actor: User, change_request, approve: bool, note: str, supporter_id=None, request=None
):
    """Decide a patient's request for a different supporter: approve it with the new
    supporter (of the patient's team), or decline it; a note is required either way
    (messaging's ``supporter_change_decide`` holds the rules and the audit)."""
    decide = optional("alliance.messaging.services", "supporter_change_decide")
    if decide is None:
        raise ValidationError({"decision": [_("Requests cannot be decided yet.")]})
    supporter = None
    if approve:
        patient = change_request.patient
        supporter = (
            policy.supporters_assignable_by(actor, patient).filter(pk=supporter_id).first()
            if supporter_id is not None
            else None
        )
        if supporter is None:
            raise ValidationError(
                {"supporter_id": [_("Choose the new supporter, from the patient's team.")]}
            )
    decided = decide(
        change_request=change_request, actor=actor, note=note, supporter=supporter, request=request
    )
    if supporter is not None:
        decided.patient.refresh_from_db(fields=["supporter"])
        episode_follow_supporter(actor=actor, patient=decided.patient, request=request)
    return decided
