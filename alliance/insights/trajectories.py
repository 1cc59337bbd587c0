"""Engagement trajectories: each episode's weekly engagement curve and its class.

**The curve** of an episode is the number of active days (``PatientDay.active``) in each
week since the episode started, on the patient's own calendar, for at most
``CURVE_WEEKS`` weeks: week 0 is the day the episode started and the six days after it.
Only weeks that have begun before the episode ended and finished before today count. An
episode that ended because the patient dropped out or declined is padded with empty weeks
up to ``CURVE_WEEKS``: they stopped, and the curve says so.

**The classes**, by a rule on the curve (``classify``; the thresholds are the constants
below). A week is *engaged* when it has at least ``ENGAGED_DAYS`` active days. In order:

1. ``too_early`` — fewer than ``MIN_WEEKS`` weeks to judge;
2. ``low_throughout`` — no engaged week, or engaged in fewer than ``LOW_SHARE`` of the
   weeks up to the last engaged one: engagement never got going;
3. the curve ends with at least ``GAP_WEEKS`` weeks that are not engaged:
   ``early_drop_off`` when the last engaged week is one of the first ``EARLY_WEEKS``,
   else ``late_disengagement``;
4. ``lapsed_and_resumed`` — at least ``GAP_WEEKS`` not-engaged weeks in a row, and
   engaged again at the end;
5. ``sustained`` — engaged to the end with no lapse.

The rule is deliberately simple and readable: every class is named for what its mean curve
looks like (the service page draws the mean curve of each class), and a supervisor can
check any patient's class by eye against their weekly record.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Avg, Count, FloatField, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient
from alliance.care.models import Episode
from alliance.insights.models import EngagementClass, EngagementLabel
from alliance.insights.report import Outcomes, outcome_groups
from alliance.lib import charts

CURVE_WEEKS = 12
ENGAGED_DAYS = 2
MIN_WEEKS = 4
GAP_WEEKS = 2
EARLY_WEEKS = 4
LOW_SHARE = 0.5

# End reasons after which the missing weeks count as disengaged.
STOPPED_REASONS = ("dropped_out", "declined")

# The classes a service sees, in the order the page lists them.
CLASSES = (
    EngagementLabel.SUSTAINED,
    EngagementLabel.LAPSED_AND_RESUMED,
    EngagementLabel.LATE_DISENGAGEMENT,
    EngagementLabel.EARLY_DROP_OFF,
    EngagementLabel.LOW_THROUGHOUT,
)


def classify(curve: Sequence[int | float]) -> str:
    """The class of a weekly curve of active days (pure; see the module docstring)."""
    weeks = len(curve)
    if weeks < MIN_WEEKS:
        return EngagementLabel.TOO_EARLY
    engaged = [value >= ENGAGED_DAYS for value in curve]
    if not any(engaged):
        return EngagementLabel.LOW_THROUGHOUT
    last_engaged = max(i for i, flag in enumerate(engaged) if flag)
    if sum(engaged) < LOW_SHARE * (last_engaged + 1):
        return EngagementLabel.LOW_THROUGHOUT
    if weeks - 1 - last_engaged >= GAP_WEEKS:
        if last_engaged < EARLY_WEEKS:
            return EngagementLabel.EARLY_DROP_OFF
        return EngagementLabel.LATE_DISENGAGEMENT
    if longest_gap(engaged) >= GAP_WEEKS:
        return EngagementLabel.LAPSED_AND_RESUMED
    return EngagementLabel.SUSTAINED


def longest_gap(engaged: Sequence[bool]) -> int:
    """The longest run of not-engaged weeks after the first engaged one."""
    longest = run = 0
    started = False
    for flag in engaged:
        if flag:
            started, run = True, 0
        elif started:
            run += 1
            longest = max(longest, run)
    return longest


def curve_weeks(start: date, last_day: date) -> int:
    """How many weeks of an episode count: those begun by ``last_day`` (the episode's
    last day, or yesterday), at most ``CURVE_WEEKS``."""
    if last_day < start:
        return 0
    return min(CURVE_WEEKS, (last_day - start).days // 7 + 1)


def weekly_curve(
    active_days: Iterable[date],
    *,
    start: date,
    last_day: date,
    complete_only_until: date,
    stopped: bool = False,
) -> list[int]:
    """The curve of one episode from its active days (pure).

    ``last_day`` is the episode's last day (its end, or today); weeks not finished by
    ``complete_only_until`` (yesterday) are left out, since they may still fill up.
    ``stopped`` pads the curve with empty weeks (the patient dropped out or declined).
    """
    weeks = curve_weeks(start, last_day)
    while weeks and start + timedelta(days=7 * weeks - 1) > complete_only_until and not stopped:
        weeks -= 1
    curve = [0] * weeks
    for day in active_days:
        index = (day - start).days // 7
        if 0 <= index < weeks and day <= last_day:
            curve[index] += 1
    if stopped:
        curve += [0] * (CURVE_WEEKS - len(curve))
    return curve


def mean_curve(curves: Iterable[Sequence[int]]) -> list[float]:
    """The mean active days of each week over the curves that reach it."""
    sums = [0.0] * CURVE_WEEKS
    counts = [0] * CURVE_WEEKS
    for curve in curves:
        for index, value in enumerate(curve[:CURVE_WEEKS]):
            sums[index] += value
            counts[index] += 1
    return [round(sums[i] / counts[i], 2) for i in range(CURVE_WEEKS) if counts[i]]


# --- The service's view: classes, mean curves and outcomes (two queries) -----------------


@dataclass
class ClassSummary:
    label: str
    name: str
    episodes: int
    mean_curve: list[float]
    outcomes: "Outcomes"
    chart: SafeString | None = None


@dataclass
class TrajectorySummary:
    classes: list[ClassSummary]
    too_early: int
    not_classified: int  # episodes the background task has not classified yet

    @property
    def classified(self) -> int:
        return sum(item.episodes for item in self.classes)


def trajectory_summary(patients: QuerySet[Patient]) -> TrajectorySummary:
    """The engagement classes of the episodes of ``patients``: how many in each, the mean
    curve of each (averaged in the database), and the outcomes of the ended ones."""
    episodes = Episode.objects.filter(patient__in=patients)
    weekly = {
        f"w{week}": Avg(Cast(KeyTextTransform(str(week), "curve"), FloatField()))
        for week in range(CURVE_WEEKS)
    }
    found = {
        row["label"]: row
        for row in EngagementClass.objects.filter(episode__in=episodes)
        .values("label")
        .annotate(n=Count("pk"), **weekly)
        .order_by()
    }
    total = episodes.count()
    outcomes = outcome_groups(episodes.filter(ended_at__isnull=False), group="label")
    names = dict(EngagementLabel.choices)
    classes = []
    for label in CLASSES:
        row = found.get(label, {"n": 0})
        curve = [round(row[key], 2) for key in weekly if row.get(key) is not None]
        classes.append(
            ClassSummary(label, str(names[label]), row["n"], curve, outcomes.get(label, Outcomes()))
        )
    too_early = found.get(EngagementLabel.TOO_EARLY, {"n": 0})["n"]
    not_classified = total - sum(row["n"] for row in found.values())
    return TrajectorySummary(classes, too_early, not_classified)


def class_chart(label_name: str, curve: Sequence[float], *, id_prefix: str) -> SafeString:
    """The mean curve of one class: active days (0–7) by week since the episode started."""
    return charts.line_chart(
        [
            charts.Series(
                label_name, [charts.Point(float(week), value) for week, value in enumerate(curve)]
            )
        ],
        title=_("%(name)s: mean active days a week") % {"name": label_name},
        y_min=0,
        y_max=7,
        y_label=_("days"),
        x_label=_("week since the start"),
        width=320,
        height=200,
        id_prefix=id_prefix,
    )
