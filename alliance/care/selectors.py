"""Reads of the care app: the plan with its states, the patient's week, reviews due and
what is new since the last review, contacts, and the access rules of reviews and contacts.

Each read runs a fixed number of queries, however long the programme or the history.
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from alliance.accounts.models import Patient, Service, StaffProfile
from alliance.accounts.policy import (  # noqa: F401  (rules live in the policy)
    REVIEW_QUEUE_ROLES,
    can_book_contacts,
    can_review,
    can_see_review_queue,
    can_set_review_schedule,
)
from alliance.care import reviews as review_rules
from alliance.care.models import (
    Contact,
    ContactStatus,
    Episode,
    EpisodeStatus,
    FeedbackDelivery,
    Homework,
    ModuleAssignment,
    Review,
    ReviewSchedule,
)
from alliance.care.plans import (
    ItemState,
    ModuleState,
    PlanItem,
    Progress,
    module_progress,
    overall_progress,
    plan_states,
)
from alliance.checkins.exercises import EXERCISE_TITLES
from alliance.content.models import Page


@dataclass
class PlanRow:
    assignment: ModuleAssignment
    state: ItemState
    page_count: int

    @property
    def module(self):
        return self.assignment.module

    @property
    def progress(self) -> Progress:
        done = (
            self.page_count
            if self.state.state == ModuleState.COMPLETED
            else (self.assignment.pages_done)
        )
        return module_progress(done, self.page_count)

    @property
    def is_open(self) -> bool:
        return self.state.state in (ModuleState.AVAILABLE, ModuleState.COMPLETED)


def active_episode(patient: Patient) -> Episode | None:
    return (
        Episode.objects.select_related("programme", "supporter__user")
        .filter(patient=patient, status=EpisodeStatus.ACTIVE)
        .first()
    )


def plan_item(assignment: ModuleAssignment) -> PlanItem:
    return PlanItem(
        unlock_rule=assignment.module.unlock_rule,
        unlock_days=assignment.module.unlock_days,
        unlocked_at=assignment.unlocked_at,
        skipped_at=assignment.skipped_at,
        waived_at=assignment.waived_at,
        completed_at=assignment.completed_at,
    )


def plan_rows(episode: Episode, *, now: datetime | None = None) -> list[PlanRow]:
    """Every module of the plan in order, with its state and page count (one query)."""
    assignments = list(
        ModuleAssignment.objects.filter(episode=episode)
        .select_related("module__programme")
        .annotate(page_count=Count("module__pages"))
        .order_by("position")
    )
    states = plan_states(
        [plan_item(a) for a in assignments],
        started_at=episode.started_at,
        now=now or timezone.now(),
    )
    return [PlanRow(a, s, a.page_count) for a, s in zip(assignments, states, strict=True)]


def open_row(rows: list[PlanRow], assignment_id: int) -> PlanRow | None:
    return next((r for r in rows if r.assignment.pk == assignment_id), None)


def patient_assignment_row(patient: Patient, assignment_id: int) -> tuple[Episode, PlanRow]:
    """The patient's own module, if it is in their active plan; else 404."""
    episode = active_episode(patient)
    row = open_row(plan_rows(episode), assignment_id) if episode else None
    if row is None:
        raise Http404("Not found.")
    return episode, row


@dataclass
class ExerciseToDo:
    kind: str
    row: PlanRow
    page_position: int

    @property
    def title(self) -> str:
        return EXERCISE_TITLES.get(self.kind, self.kind)


@dataclass
class Week:
    """What the patient's home shows: what to do now, and how far they have come."""

    episode: Episode | None
    rows: list[PlanRow] = field(default_factory=list)
    next_row: PlanRow | None = None
    homework: list[Homework] = field(default_factory=list)
    exercises: list[ExerciseToDo] = field(default_factory=list)
    next_contact: Contact | None = None
    progress: Progress | None = None
    next_unlock: PlanRow | None = None
    # The last completed review: its next steps, and its feedback unless it was sent as a
    # message.
    review: Review | None = None

    @property
    def review_feedback_on_week(self) -> bool:
        return bool(
            self.review
            and self.review.feedback
            and self.review.feedback_delivery == FeedbackDelivery.WEEK
        )

    @property
    def review_has_news(self) -> bool:
        return bool(self.review and (self.review_feedback_on_week or self.review.next_steps))


def exercises_to_do(rows: list[PlanRow]) -> list[ExerciseToDo]:
    """The exercises embedded in the open modules the patient has not finished."""
    unfinished = {r.module.pk: r for r in rows if r.state.state == ModuleState.AVAILABLE}
    if not unfinished:
        return []
    pages = (
        Page.objects.filter(module_id__in=unfinished)
        .exclude(exercises=[])
        .order_by("module_id", "position")
        .values_list("module_id", "position", "exercises")
    )
    return [
        ExerciseToDo(kind=kind, row=unfinished[module_id], page_position=position)
        for module_id, position, kinds in pages
        for kind in kinds
    ]


def patient_week(patient: Patient, *, now: datetime | None = None) -> Week:
    now = now or timezone.now()
    episode = active_episode(patient)
    if episode is None:
        return Week(episode=None)
    rows = plan_rows(episode, now=now)
    available = [r for r in rows if r.state.state == ModuleState.AVAILABLE]
    locked_by_days = [r for r in rows if r.state.opens_at is not None]
    return Week(
        episode=episode,
        rows=rows,
        next_row=available[0] if available else None,
        homework=list(
            Homework.objects.filter(episode=episode, done_at=None).order_by("created_at")
        ),
        exercises=exercises_to_do(rows),
        next_contact=Contact.objects.filter(
            episode=episode, status=ContactStatus.SCHEDULED, scheduled_at__gte=now
        )
        .select_related("supporter__user")
        .order_by("scheduled_at")
        .first(),
        progress=overall_progress([r.state for r in rows]),
        next_unlock=min(locked_by_days, key=lambda r: r.state.opens_at, default=None),
        # Free text is encrypted, so it cannot be filtered on: the latest review is shown
        # when it left something for the patient.
        review=Review.objects.filter(episode=episode, completed_at__isnull=False)
        .select_related("reviewer__user")
        .order_by("-completed_at", "-pk")
        .first(),
    )


# --- Access rules of reviews and contacts (built from the policy; to move into it) -------



# --- Review schedules and reviews due ---------------------------------------------------


def review_intervals(service_ids) -> dict[int, dict[str, int]]:
    """Each service's days between reviews by care model (one query; defaults filled in)."""
    ids = set(service_ids)
    configured: dict[int, dict[str, int]] = {sid: {} for sid in ids}
    rows = ReviewSchedule.objects.filter(service_id__in=ids).values_list(
        "service_id", "care_model", "interval_days"
    )
    for service_id, care_model, days in rows:
        configured[service_id][care_model] = days
    return {
        sid: {
            model: review_rules.interval_days(model, found)
            for model in review_rules.DEFAULT_INTERVAL_DAYS
        }
        for sid, found in configured.items()
    }


def review_schedule_of(service: Service) -> dict[str, int]:
    return review_intervals([service.pk])[service.pk]


@dataclass(frozen=True)
class ReviewState:
    """Where an active episode stands with its reviews (see ``alliance.care.reviews``)."""

    episode: Episode
    last_reviewed_at: datetime | None
    interval_days: int
    due_at: datetime
    # When the oldest review still open (by anyone) was opened, if one is.
    open_since: datetime | None
    now: datetime

    @property
    def patient(self) -> Patient:
        return self.episode.patient

    @property
    def is_due(self) -> bool:
        return self.now >= self.due_at

    @property
    def overdue(self) -> timedelta:
        return max(self.now - self.due_at, timedelta(0))

    @property
    def overdue_days(self) -> int:
        return self.overdue.days


def last_review(episode: Episode) -> Review | None:
    """The episode's most recently completed review, with its reviewer."""
    return (
        Review.objects.filter(episode=episode, completed_at__isnull=False)
        .select_related("reviewer__user")
        .order_by("-completed_at", "-pk")
        .first()
    )


def with_review_facts(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    done = Review.objects.filter(episode=OuterRef("pk"), completed_at__isnull=False)
    still_open = Review.objects.filter(episode=OuterRef("pk"), completed_at__isnull=True)
    return episodes.annotate(
        last_reviewed_at=Subquery(done.order_by("-completed_at").values("completed_at")[:1]),
        review_open_since=Subquery(still_open.order_by("opened_at").values("opened_at")[:1]),
    )


def review_states(patients_qs: QuerySet[Patient], now: datetime | None = None) -> list[ReviewState]:
    """The review state of every active episode of these patients, soonest due first.
    Two queries, whatever the number of patients."""
    now = now or timezone.now()
    episodes = list(
        with_review_facts(
            Episode.objects.filter(status=EpisodeStatus.ACTIVE, patient__in=patients_qs)
        ).select_related("patient__user", "supporter__user", "programme")
    )
    intervals = review_intervals(e.patient.service_id for e in episodes)
    states = []
    for episode in episodes:
        days = intervals[episode.patient.service_id].get(episode.care_model, 7)
        states.append(
            ReviewState(
                episode=episode,
                last_reviewed_at=episode.last_reviewed_at,
                interval_days=days,
                due_at=review_rules.review_due_at(
                    started_at=episode.started_at,
                    last_reviewed_at=episode.last_reviewed_at,
                    interval=days,
                ),
                open_since=episode.review_open_since,
                now=now,
            )
        )
    return sorted(states, key=lambda s: (s.due_at, s.episode.pk))


def reviews_due(patients_qs: QuerySet[Patient], now: datetime | None = None) -> list[ReviewState]:
    """The active episodes of these patients that are due a review, most overdue first."""
    return [state for state in review_states(patients_qs, now) if state.is_due]


def review_state(episode: Episode, now: datetime | None = None) -> ReviewState:
    """One episode's review state (two queries)."""
    annotated = with_review_facts(Episode.objects.filter(pk=episode.pk)).values(
        "last_reviewed_at", "review_open_since"
    )[0]
    days = review_intervals([episode.patient.service_id])[episode.patient.service_id]
    interval = days.get(episode.care_model, 7)
    return ReviewState(
        episode=episode,
        last_reviewed_at=annotated["last_reviewed_at"],
        interval_days=interval,
        due_at=review_rules.review_due_at(
            started_at=episode.started_at,
            last_reviewed_at=annotated["last_reviewed_at"],
            interval=interval,
        ),
        open_since=annotated["review_open_since"],
        now=now or timezone.now(),
    )


def open_review(episode: Episode, reviewer: StaffProfile) -> Review | None:
    return Review.objects.filter(episode=episode, reviewer=reviewer, completed_at=None).first()


def earlier_reviews(episode: Episode, limit: int = 5) -> list[Review]:
    return list(
        Review.objects.filter(episode=episode, completed_at__isnull=False)
        .select_related("reviewer__user")
        .order_by("-completed_at", "-pk")[:limit]
    )


# --- What is new since the last review --------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    """One questionnaire answered since the last review: its latest score and the change."""

    instrument: str
    name: str
    new: list  # the responses submitted since, oldest first
    latest: object  # the newest Response
    previous_total: int | None  # the score before the newest one, if any
    first_total: int | None  # the first score of the episode
    reliable_change: str | None  # from the first score to the latest
    severity_label: str = ""  # the latest score's severity band, as the instrument names it

    @property
    def change(self) -> int | None:
        if self.previous_total is None or self.latest.total is None:
            return None
        return self.latest.total - self.previous_total


@dataclass
class SinceLastReview:
    """Everything new in an episode since its last completed review (or its start).

    ``checkins`` and ``messages`` are None when the check-in or messaging app does not
    provide them (yet); a list otherwise.
    """

    episode: Episode
    since: datetime
    last_review: Review | None
    modules_completed: list[PlanRow]
    modules_in_progress: list[PlanRow]
    exercise_entries: list
    checkins: list | None
    scores: list[ScoreChange]
    messages: list | None
    alerts: list
    homework_done: list[Homework]
    homework_open: list[Homework]
    contacts: list[Contact]

    @property
    def is_quiet(self) -> bool:
        """Nothing the patient did since then."""
        return not (
            self.modules_completed
            or self.exercise_entries
            or self.checkins
            or self.scores
            or self.homework_done
            or any(getattr(m, "is_from_patient", False) for m in self.messages or [])
        )


def checkins_since(patient: Patient, since: datetime) -> list | None:
    """The patient's daily check-ins since then, oldest first; None without check-ins."""
    try:
        model = apps.get_model("checkins", "DailyCheckIn")
    except LookupError:
        return None
    # The days since then, in the patient's own time zone (a check-in is for a day).
    first_day = timezone.localtime(since, zoneinfo.ZoneInfo(patient.user.time_zone)).date()
    return list(
        model.objects.filter(patient=patient, local_date__gte=first_day).order_by(
            "local_date", "pk"
        )
    )


def messages_since(patient: Patient, since: datetime) -> list | None:
    """The messages of the patient's thread since then; None without messaging."""
    try:
        from alliance.messaging.selectors import messages_since as messaging_since
    except ImportError:
        return None
    return list(messaging_since(patient, since))


def score_changes(patient: Patient, episode: Episode, since: datetime) -> list[ScoreChange]:
    """Per questionnaire answered since ``since``: its latest score and change (one query)."""
    from alliance.measures.instruments import builtin_instruments
    from alliance.measures.models import Response
    from alliance.measures.outcomes import reliable_change

    by_instrument: dict[str, list] = {}
    responses = (
        Response.objects.filter(patient=patient).exclude(total=None).order_by("submitted_at", "pk")
    )
    for response in responses:
        by_instrument.setdefault(response.instrument, []).append(response)
    instruments = builtin_instruments()
    changes = []
    for code, history in sorted(by_instrument.items()):
        new = [r for r in history if r.submitted_at >= since]
        if not new:
            continue
        definition = instruments.get(code)
        in_episode = [r for r in history if r.episode_id == episode.pk] or history
        first, latest = in_episode[0], history[-1]
        reliable = None
        if definition is not None and definition.reliable_change and first.pk != latest.pk:
            reliable = str(reliable_change(definition, first.total, latest.total).value)
        changes.append(
            ScoreChange(
                instrument=code,
                name=definition.name if definition else code,
                new=new,
                latest=latest,
                previous_total=history[-2].total if len(history) > 1 else None,
                first_total=first.total if first.pk != latest.pk else None,
                reliable_change=reliable,
                severity_label=severity_label(definition, latest.severity),
            )
        )
    return changes


def severity_label(definition, key: str) -> str:
    bands = definition.severity if definition is not None else ()
    return next((band.label for band in bands if band.key == key), key.replace("_", " "))


def since_last_review(episode: Episode, *, now: datetime | None = None) -> SinceLastReview:
    """What the patient did and what happened since the last completed review (or since
    the episode started): a fixed number of queries, whatever the history."""
    from alliance.checkins.selectors import entries_for_patient
    from alliance.insights.models import Alert, AlertState

    now = now or timezone.now()
    patient = episode.patient
    previous = last_review(episode)
    since = previous.completed_at if previous else episode.started_at
    rows = plan_rows(episode, now=now)
    completed_since = [
        r for r in rows if r.assignment.completed_at and r.assignment.completed_at >= since
    ]
    in_progress = [
        r for r in rows if r.state.state == ModuleState.AVAILABLE and r.assignment.pages_done > 0
    ]
    homework = list(
        Homework.objects.filter(episode=episode)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=since))
        .order_by("created_at", "pk")
    )
    return SinceLastReview(
        episode=episode,
        since=since,
        last_review=previous,
        modules_completed=completed_since,
        modules_in_progress=in_progress,
        exercise_entries=list(entries_for_patient(patient, since=since)),
        checkins=checkins_since(patient, since),
        scores=score_changes(patient, episode, since),
        messages=messages_since(patient, since),
        alerts=list(
            Alert.objects.filter(patient=patient)
            .filter(Q(state=AlertState.OPEN) | Q(raised_at__gte=since))
            .order_by("-raised_at")
        ),
        homework_done=[h for h in homework if h.done_at is not None],
        homework_open=[h for h in homework if h.done_at is None],
        contacts=list(
            Contact.objects.filter(episode=episode, scheduled_at__gte=since, scheduled_at__lte=now)
            .select_related("supporter__user")
            .order_by("scheduled_at")
        ),
    )


# --- Contacts ---------------------------------------------------------------------------


def patient_contacts(patient: Patient) -> list[Contact]:
    """Every contact of the patient, over all their episodes, newest first (one query)."""
    return list(
        Contact.objects.filter(episode__patient=patient)
        .select_related("supporter__user", "recorded_by")
        .annotate(homework_count=Count("homework"))
        .order_by("-scheduled_at", "-pk")
    )


def upcoming_contacts(patient: Patient, *, now: datetime | None = None) -> list[Contact]:
    """The patient's contacts from now on, soonest first, cancelled ones included (so a
    calendar file can take them off the patient's calendar)."""
    return list(
        Contact.objects.filter(
            episode__patient=patient,
            scheduled_at__gte=now or timezone.now(),
            status__in=[ContactStatus.SCHEDULED, ContactStatus.CANCELLED],
        )
        .select_related("supporter__user")
        .order_by("scheduled_at", "pk")
    )


def patient_contact(patient: Patient, contact_id: int) -> Contact:
    """One of the patient's contacts; "not found" if it is someone else's."""
    contact = (
        Contact.objects.filter(pk=contact_id, episode__patient=patient)
        .select_related("episode__patient__user", "supporter__user", "recorded_by")
        .first()
    )
    if contact is None:
        raise Http404("Not found.")
    return contact
