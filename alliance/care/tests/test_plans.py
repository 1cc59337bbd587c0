"""The plan's unlock and progress rules, tested directly."""

from datetime import UTC, datetime, timedelta

from alliance.care.plans import (
    ModuleState,
    PlanItem,
    module_progress,
    overall_progress,
    plan_states,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def item(rule="after_previous", days=None, **marks):
    return PlanItem(
        unlock_rule=rule,
        unlock_days=days,
        unlocked_at=marks.get("unlocked"),
        skipped_at=marks.get("skipped"),
        waived_at=marks.get("waived"),
        completed_at=marks.get("completed"),
    )


def states(items, now=START):
    return [s.state for s in plan_states(items, started_at=START, now=now)]


class TestPlanStates:
    def test_it_opens_the_first_module_and_locks_the_next(self):
        assert states([item(), item()]) == [ModuleState.AVAILABLE, ModuleState.LOCKED]

    def test_it_opens_the_next_module_when_the_previous_is_completed(self):
        assert states([item(completed=START), item()]) == [
            ModuleState.COMPLETED,
            ModuleState.AVAILABLE,
        ]

    def test_it_passes_over_skipped_and_waived_modules(self):
        result = states([item(completed=START), item(skipped=START), item(waived=START), item()])
        assert result == [
            ModuleState.COMPLETED,
            ModuleState.SKIPPED,
            ModuleState.WAIVED,
            ModuleState.AVAILABLE,
        ]

    def test_it_keeps_a_module_after_an_unfinished_one_locked(self):
        result = plan_states([item(), item()], started_at=START, now=START)
        assert result[1].waiting_for == "after_previous"

    def test_it_opens_a_days_rule_module_exactly_on_time(self):
        days = [item(completed=START), item("days_after_start", 7)]
        just_before = START + timedelta(days=7) - timedelta(seconds=1)
        locked = plan_states(days, started_at=START, now=just_before)[1]
        assert locked.state == ModuleState.LOCKED
        assert locked.opens_at == START + timedelta(days=7)
        assert states(days, now=START + timedelta(days=7))[1] == ModuleState.AVAILABLE

    def test_it_waits_for_the_supporter(self):
        result = plan_states(
            [item("by_supporter")], started_at=START, now=START + timedelta(days=365)
        )
        assert result[0].state == ModuleState.LOCKED
        assert result[0].waiting_for == "by_supporter"

    def test_it_opens_any_module_the_supporter_unlocked(self):
        result = states(
            [
                item(),
                item("by_supporter", unlocked=START),
                item("days_after_start", 30, unlocked=START),
            ]
        )
        assert result == [ModuleState.AVAILABLE] * 3

    def test_it_keeps_a_module_locked_when_unlocked_in_the_future(self):
        later = START + timedelta(days=1)
        assert states([item("by_supporter", unlocked=later)]) == [ModuleState.LOCKED]

    def test_it_prefers_completed_over_every_other_mark(self):
        assert states([item(completed=START, skipped=START)]) == [ModuleState.COMPLETED]


class TestProgress:
    def test_it_counts_completed_modules_out_of_those_in_the_plan(self):
        result = plan_states(
            [item(completed=START), item(skipped=START), item(), item()],
            started_at=START,
            now=START,
        )
        progress = overall_progress(result)
        assert (progress.done, progress.total, progress.percent) == (1, 3, 33)

    def test_it_reports_an_empty_plan_as_complete(self):
        assert overall_progress([]).percent == 100

    def test_it_caps_module_progress_at_the_page_count(self):
        progress = module_progress(5, 3)
        assert (progress.done, progress.total, progress.percent) == (3, 3, 100)
