"""The alert rules: which alerts should be open now, and the triage order of alerts.

One engine for every alert that is not raised the moment something happens. Each rule
looks at all the patients of a service (or of every service) in a fixed number of queries
and answers the *causes* that should have an open alert; ``services.alerts_evaluate``
raises an alert for each new cause and resolves the alerts whose cause has gone. A cause
names exactly what raised it, so acknowledging an alert never brings it back, and a new
episode of the same trouble (inactive again, a later missed appointment) is a new cause.

- **risk** (``risk``, cause ``response:<id>``): raised at submission by the measures app;
  never resolved automatically, staff acknowledge it;
- **inactivity** (``inactivity``, ``inactivity:since:<date>``): no active day for the
  service's number of days; resolved when the patient is active again;
- **reliable deterioration** (``deterioration``, ``deterioration:<measure>:episode:<id>``):
  the latest PHQ-9 or GAD-7 reliably worse than the first; resolved when it no longer is;
- **rupture** (``rupture``, ``rupture:response:<id>``): the rupture rule on the WAI-SR;
  never resolved automatically, a supervisor acknowledges it;
- **message overdue** (``overdue``, ``message:<thread>:<waiting since>``): past the
  service's reply-time target; resolved when the care team replies;
- **review overdue** (``overdue``, ``review:<episode>:<due date>``): the service's days a
  review may be late have passed; resolved when a review is completed;
- **missed appointment** (``missed_appointment``, ``missed:<contact>``): the latest contacts
  (the service's number in a row) were not attended; resolved by a later attended contact.

Every automatic resolution is also made when the episode ends.

Thresholds are per service (``InsightSettings``): days without activity, rupture k, the
reference SD and repair window, missed appointments in a row, days a review may be late,
and whether reliable deterioration raises alerts. Only patients in an active episode are
looked at (except risk, which is raised whenever it happens).

The owner of an alert is the patient's named supporter; a rupture goes to a supervisor of
the patient's team (for supervision), or to the supporter when the team has none.

``triage_rank`` orders patients by their open alerts: risk, then reliable deterioration,
rupture, overdue, missed appointment, inactivity; inside a kind, the longest waiting first.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Max, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.accounts.models import Patient, Role, StaffProfile
from alliance.care.models import (
    Contact,
    ContactStatus,
    Episode,
    EpisodeStatus,
    Review,
    ReviewSchedule,
)
from alliance.care.reviews import interval_days, review_due_at
from alliance.insights.alliance_scores import RuptureParameters, ratings_by_episode, ruptures_in
from alliance.insights.models import AlertKind, InsightSettings, PatientDay
from alliance.insights.report import GAD7, PHQ9, episode_scores
from alliance.insights.selectors import optional_model, settings_by_service
from alliance.measures.instruments import get_instrument
from alliance.measures.outcomes import ReliableChange, reliable_change

# --- Triage (pure) ---------------------------------------------------------------------

TRIAGE_ORDER = (
    AlertKind.RISK,
    AlertKind.DETERIORATION,
    AlertKind.RUPTURE,
    AlertKind.OVERDUE,
    AlertKind.MISSED_APPOINTMENT,
    AlertKind.INACTIVITY,
)


def triage_rank(alerts: Iterable) -> tuple:
    """Sort key of one patient from their alerts (objects with ``kind``, ``raised_at`` and
    optionally ``state``): lower sorts first.

    (rank of the most urgent open kind, when its oldest alert was raised, minus the number
    of open alerts). A patient without open alerts ranks after every kind. Unknown kinds
    rank after the known ones but before no alert at all.
    """
    open_alerts = [a for a in alerts if getattr(a, "state", "open") == "open"]
    if not open_alerts:
        return (len(TRIAGE_ORDER) + 1, math.inf, 0)
    ranks = [_kind_rank(alert.kind) for alert in open_alerts]
    best = min(ranks)
    oldest = min(
        alert.raised_at.timestamp()
        for alert, rank in zip(open_alerts, ranks, strict=True)
        if rank == best
    )
    return (best, oldest, -len(open_alerts))


def _kind_rank(kind: str) -> int:
    try:
        return TRIAGE_ORDER.index(kind)
    except ValueError:
        return len(TRIAGE_ORDER)


# --- Pure rules --------------------------------------------------------------------------


def inactivity_run(*, last_active: date | None, started: date, today: date) -> tuple[date, int]:
    """The first day without activity of the current run, and how many days it has lasted
    (today not counted, since it is not over): from the day after the last active day, or
    from the episode's start."""
    since = max(last_active + timedelta(days=1), started) if last_active else started
    return since, max((today - since).days, 0)


def missed_in_a_row(statuses_newest_first: list[str], needed: int) -> bool:
    """Whether the latest ``needed`` recorded contacts were all missed."""
    latest = statuses_newest_first[:needed]
    return len(latest) == needed and all(s == ContactStatus.DID_NOT_ATTEND for s in latest)


def review_overdue(*, due_at: datetime, now: datetime, grace_days: int) -> bool:
    return now > due_at + timedelta(days=grace_days)


# --- Causes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cause:
    patient_id: int
    kind: str
    cause: str
    summary: str
    owner: StaffProfile | None = None  # None: the patient's named supporter

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.patient_id, self.kind, self.cause)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    prefix: str  # every cause of the rule starts with it
    auto_resolve: bool
    find: Callable[["Context"], list[Cause] | None]  # None: its source is not there yet
    resolved_note: object = ""  # a lazy translation: the note of the automatic resolution


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    causes: list[Cause]
    # The services where the rule ran: only their alerts of this rule may be resolved.
    service_ids: set[int]


@dataclass
class Context:
    patients: QuerySet[Patient]
    now: datetime
    episodes: list[Episode]  # active, with patient, user, team and supporter
    settings: dict[int, InsightSettings]

    def settings_of(self, episode: Episode) -> InsightSettings:
        return self.settings[episode.patient.service_id]

    def today_of(self, patient: Patient) -> date:
        return self.now.astimezone(ZoneInfo(patient.user.time_zone)).date()

    def local_date(self, patient: Patient, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(patient.user.time_zone)).date()


def context_for(patients: QuerySet[Patient], now: datetime) -> Context:
    """The active episodes of the patients and the settings of every service in scope:
    three queries."""
    episodes = list(
        Episode.objects.filter(patient__in=patients, status=EpisodeStatus.ACTIVE)
        .select_related("patient__user", "patient__supporter")
        .order_by("pk")
    )
    services = set(patients.order_by().values_list("service_id", flat=True).distinct())
    return Context(patients, now, episodes, settings_by_service(services))


def inactivity(context: Context) -> list[Cause]:
    last_active = dict(
        PatientDay.objects.filter(
            patient_id__in=[e.patient_id for e in context.episodes], active=True
        )
        .values("patient_id")
        .annotate(last=Max("date"))
        .values_list("patient_id", "last")
        .order_by()
    )
    causes = []
    for episode in context.episodes:
        patient = episode.patient
        since, days = inactivity_run(
            last_active=last_active.get(patient.pk),
            started=context.local_date(patient, episode.started_at),
            today=context.today_of(patient),
        )
        if days >= context.settings_of(episode).inactivity_days:
            causes.append(
                Cause(
                    patient.pk,
                    AlertKind.INACTIVITY,
                    f"inactivity:since:{since.isoformat()}",
                    _("No activity for %(days)d days (since %(date)s).")
                    % {"days": days, "date": since.isoformat()},
                )
            )
    return causes


def deterioration(context: Context) -> list[Cause]:
    wanted = [e for e in context.episodes if context.settings_of(e).deterioration_alerts]
    patients = {e.pk: e.patient_id for e in wanted}
    scores = episode_scores(Episode.objects.filter(pk__in=[e.pk for e in wanted])).values()
    causes = []
    for row in scores:
        for code in (PHQ9, GAD7):
            if row[f"{code}_n"] < 2:
                continue
            instrument = get_instrument(code)
            first, last = row[f"{code}_first"], row[f"{code}_last"]
            if reliable_change(instrument, first, last) == ReliableChange.DETERIORATION:
                causes.append(
                    Cause(
                        patients[row["eid"]],
                        AlertKind.DETERIORATION,
                        f"deterioration:{code}:episode:{row['eid']}",
                        _("%(measure)s reliably worse: %(first)d at the start, %(last)d now.")
                        % {"measure": instrument.name, "first": first, "last": last},
                    )
                )
    return causes


def supervisors_by_team(team_ids: set[int]) -> dict[int, StaffProfile]:
    """A supervisor of each team (the longest-serving active one): one query."""
    found: dict[int, StaffProfile] = {}
    rows = (
        StaffProfile.objects.filter(role=Role.SUPERVISOR, teams__in=team_ids, user__is_active=True)
        .annotate(team_id=F("teams"))
        .order_by("pk")
    )
    for profile in rows:
        found.setdefault(profile.team_id, profile)
    return found


def rupture(context: Context) -> list[Cause]:
    by_episode = ratings_by_episode([e.pk for e in context.episodes])
    supervisors = supervisors_by_team({e.patient.team_id for e in context.episodes})
    causes = []
    for episode in context.episodes:
        ratings = by_episode.get(episode.pk)
        if not ratings or len(ratings) < 2:
            continue
        parameters = RuptureParameters.of(context.settings_of(episode))
        for found in ruptures_in(ratings, parameters):
            causes.append(
                Cause(
                    episode.patient_id,
                    AlertKind.RUPTURE,
                    f"rupture:response:{found.at.response_id}",
                    _("Alliance rupture: the WAI-SR mean fell from %(before).2f to %(after).2f.")
                    % {"before": found.before.mean, "after": found.at.mean},
                    owner=supervisors.get(episode.patient.team_id) or episode.patient.supporter,
                )
            )
    return causes


def overdue_messages(context: Context) -> list[Cause] | None:
    if optional_model("messaging", "Thread") is None:
        return None
    try:
        from alliance.messaging.selectors import overdue_threads
    except ImportError:
        return None
    active = {e.patient_id for e in context.episodes}
    causes = []
    for thread in overdue_threads(context.patients.filter(pk__in=active), context.now):
        waiting = thread.awaiting_reply_since
        causes.append(
            Cause(
                thread.patient_id,
                AlertKind.OVERDUE,
                f"message:{thread.pk}:{int(waiting.timestamp())}",
                _("A message has waited for a reply since %(date)s.")
                % {"date": context.local_date(thread.patient, waiting).isoformat()},
            )
        )
    return causes


def overdue_reviews(context: Context) -> list[Cause]:
    last_reviewed = dict(
        Review.objects.filter(
            episode_id__in=[e.pk for e in context.episodes], completed_at__isnull=False
        )
        .values("episode_id")
        .annotate(last=Max("completed_at"))
        .values_list("episode_id", "last")
        .order_by()
    )
    configured: dict[int, dict[str, int]] = defaultdict(dict)
    for service_id, care_model, days in ReviewSchedule.objects.filter(
        service_id__in=context.settings
    ).values_list("service_id", "care_model", "interval_days"):
        configured[service_id][care_model] = days
    causes = []
    for episode in context.episodes:
        service_id = episode.patient.service_id
        due_at = review_due_at(
            started_at=episode.started_at,
            last_reviewed_at=last_reviewed.get(episode.pk),
            interval=interval_days(episode.care_model, configured.get(service_id)),
        )
        grace = context.settings_of(episode).review_overdue_days
        if review_overdue(due_at=due_at, now=context.now, grace_days=grace):
            due_day = context.local_date(episode.patient, due_at)
            causes.append(
                Cause(
                    episode.patient_id,
                    AlertKind.OVERDUE,
                    f"review:{episode.pk}:{due_day.isoformat()}",
                    _("A review was due on %(date)s.") % {"date": due_day.isoformat()},
                )
            )
    return causes


MAX_MISSED_IN_A_ROW = 5


def missed_appointments(context: Context) -> list[Cause]:
    recent = (
        Contact.objects.filter(
            episode_id__in=[e.pk for e in context.episodes],
            status__in=[ContactStatus.ATTENDED, ContactStatus.DID_NOT_ATTEND],
            scheduled_at__lte=context.now,
        )
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("episode_id")],
                order_by=[F("scheduled_at").desc(), F("pk").desc()],
            )
        )
        .filter(newest__lte=MAX_MISSED_IN_A_ROW)
        .values_list("episode_id", "pk", "status", "scheduled_at")
        .order_by("episode_id", "-scheduled_at", "-pk")
    )
    by_episode: dict[int, list[tuple[int, str, datetime]]] = defaultdict(list)
    for episode_id, pk, status, at in recent:
        by_episode[episode_id].append((pk, status, at))
    causes = []
    for episode in context.episodes:
        contacts = by_episode.get(episode.pk, [])
        needed = context.settings_of(episode).missed_in_a_row
        if contacts and missed_in_a_row([status for _pk, status, _at in contacts], needed):
            latest_pk, _status, at = contacts[0]
            causes.append(
                Cause(
                    episode.patient_id,
                    AlertKind.MISSED_APPOINTMENT,
                    f"missed:{latest_pk}",
                    _("Did not attend the contact of %(date)s.")
                    % {"date": context.local_date(episode.patient, at).isoformat()},
                )
            )
    return causes


RULES = (
    Rule(
        "inactivity",
        AlertKind.INACTIVITY,
        "inactivity:",
        True,
        inactivity,
        gettext_lazy("Active again, or the episode ended."),
    ),
    Rule(
        "deterioration",
        AlertKind.DETERIORATION,
        "deterioration:",
        True,
        deterioration,
        gettext_lazy("No longer reliably worse than at the start, or the episode ended."),
    ),
    Rule("rupture", AlertKind.RUPTURE, "rupture:", False, rupture),
    Rule(
        "overdue_message",
        AlertKind.OVERDUE,
        "message:",
        True,
        overdue_messages,
        gettext_lazy("Replied, or the episode ended."),
    ),
    Rule(
        "overdue_review",
        AlertKind.OVERDUE,
        "review:",
        True,
        overdue_reviews,
        gettext_lazy("Reviewed, or the episode ended."),
    ),
    Rule(
        "missed_appointment",
        AlertKind.MISSED_APPOINTMENT,
        "missed:",
        True,
        missed_appointments,
        gettext_lazy("A later contact was attended, or the episode ended."),
    ),
)


def current_causes(patients: QuerySet[Patient], now: datetime) -> list[RuleResult]:
    """Every rule's causes for these patients now; rules whose source is missing are left
    out (their alerts are neither raised nor resolved)."""
    context = context_for(patients, now)
    results = []
    for rule in RULES:
        causes = rule.find(context)
        if causes is None:
            continue
        ran_in = set(context.settings)
        if rule.name == "deterioration":
            ran_in = {sid for sid, s in context.settings.items() if s.deterioration_alerts}
        results.append(RuleResult(rule, causes, ran_in))
    return results


def evaluated_service_filter(result: RuleResult) -> dict:
    """The filter on alerts that this rule's evaluation may resolve."""
    return {
        "kind": result.rule.kind,
        "cause__startswith": result.rule.prefix,
        "patient__service_id__in": result.service_ids,
    }
