"""Reads of the care app: the plan with its states, the patient's week, access helpers.

Each read runs a fixed number of queries, however long the programme or the history.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.http import Http404
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care.models import (
    Contact,
    ContactStatus,
    Episode,
    EpisodeStatus,
    Homework,
    ModuleAssignment,
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
    )
