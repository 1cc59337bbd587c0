"""The plan's rules, as pure functions: which modules are open to the patient, and progress.

A module in the plan is, in this order of precedence:
- *completed* once the patient finished its last page;
- *skipped* (optional modules) or *waived* (mandatory ones, with a written reason);
- *available* when the supporter unlocked it, or when its own unlock rule is met:
  ``after_previous``: the module before it (ignoring skipped and waived ones) is completed,
  or it is the first; ``days_after_start``: that many days have passed since the episode
  started; ``by_supporter``: only when the supporter unlocks it;
- *locked* otherwise. The patient never sees a locked module's pages.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ModuleState(StrEnum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    WAIVED = "waived"
    AVAILABLE = "available"
    LOCKED = "locked"


CLOSED_STATES = {ModuleState.SKIPPED, ModuleState.WAIVED}


@dataclass(frozen=True)
class PlanItem:
    """What the rules need to know about one assignment, in plan order."""

    unlock_rule: str
    unlock_days: int | None
    unlocked_at: datetime | None
    skipped_at: datetime | None
    waived_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ItemState:
    state: ModuleState
    # For a locked module by days: when it opens. None if it waits on something else.
    opens_at: datetime | None = None
    # "after_previous" / "days_after_start" / "by_supporter": what it waits for.
    waiting_for: str = ""


def opening_time(item: PlanItem, started_at: datetime) -> datetime | None:
    if item.unlock_rule == "days_after_start":
        return started_at + timedelta(days=item.unlock_days or 0)
    return None


def plan_states(items: list[PlanItem], *, started_at: datetime, now: datetime) -> list[ItemState]:
    """The state of every module of a plan, in the same order."""
    states: list[ItemState] = []
    previous_done = True  # the first module has nothing before it
    for item in items:
        state = item_state(item, previous_done=previous_done, started_at=started_at, now=now)
        states.append(state)
        if state.state not in CLOSED_STATES:
            previous_done = state.state == ModuleState.COMPLETED
    return states


def item_state(
    item: PlanItem, *, previous_done: bool, started_at: datetime, now: datetime
) -> ItemState:
    if item.completed_at is not None:
        return ItemState(ModuleState.COMPLETED)
    if item.waived_at is not None:
        return ItemState(ModuleState.WAIVED)
    if item.skipped_at is not None:
        return ItemState(ModuleState.SKIPPED)
    if item.unlocked_at is not None and item.unlocked_at <= now:
        return ItemState(ModuleState.AVAILABLE)
    if item.unlock_rule == "after_previous":
        if previous_done:
            return ItemState(ModuleState.AVAILABLE)
        return ItemState(ModuleState.LOCKED, waiting_for="after_previous")
    if item.unlock_rule == "days_after_start":
        opens_at = opening_time(item, started_at)
        if opens_at <= now:
            return ItemState(ModuleState.AVAILABLE)
        return ItemState(ModuleState.LOCKED, opens_at=opens_at, waiting_for="days_after_start")
    return ItemState(ModuleState.LOCKED, waiting_for="by_supporter")


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def overall_progress(states: list[ItemState]) -> Progress:
    """Modules completed out of those still in the plan (skipped and waived don't count)."""
    counted = [s for s in states if s.state not in CLOSED_STATES]
    done = sum(1 for s in counted if s.state == ModuleState.COMPLETED)
    return Progress(done=done, total=len(counted))


def module_progress(pages_done: int, page_count: int) -> Progress:
    return Progress(done=min(pages_done, page_count), total=page_count)
