"""Change over an episode: reliable change, NHS Talking Therapies outcomes and alliance ruptures.

Pure functions, no database. ``episode_outcome`` follows reference §5.2 to the letter, with
None wherever §5.2 leaves a flag undefined (the episode is then outside that metric's
denominator). Caseness and reliable-change thresholds come from the instrument files
(PHQ-9: caseness 10, reliable change 6; GAD-7: caseness 8, reliable change 4).
``find_ruptures`` is the platform's rupture rule of reference §8, every parameter configurable.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from alliance.measures.instruments import HIGHER_IS_BETTER, Instrument, get_instrument
from alliance.measures.scoring import read_integer

# Float scores (WAI-SR means such as 37/12) must not miss an inclusive boundary by rounding.
_EPSILON = 1e-9


class OutcomeError(ValueError):
    """Input that an outcome cannot be computed from; the message names the field."""

    def __init__(self, *, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ReliableChange(StrEnum):
    IMPROVEMENT = "improvement"
    NO_RELIABLE_CHANGE = "no_reliable_change"
    DETERIORATION = "deterioration"


def reliable_change(instrument: Instrument, first: int, last: int) -> ReliableChange:
    """Whether the change from ``first`` to ``last`` reaches the instrument's threshold.

    Thresholds are inclusive: a PHQ-9 fall of exactly 6 points is a reliable improvement.
    """
    rule = instrument.reliable_change
    if rule is None:
        raise ValueError(f"{instrument.name} has no reliable-change threshold")
    worsening = last - first if rule.better != HIGHER_IS_BETTER else first - last
    if worsening <= -rule.threshold:
        return ReliableChange.IMPROVEMENT
    if worsening >= rule.threshold:
        return ReliableChange.DETERIORATION
    return ReliableChange.NO_RELIABLE_CHANGE


@dataclass(frozen=True)
class EpisodeOutcome:
    finished_treatment: bool
    at_caseness: bool | None
    recovered: bool | None
    reliably_improved: bool | None
    reliably_deteriorated: bool | None
    reliably_recovered: bool | None
    phq9_change: int | None = None  # last - first; None with fewer than 2 scores
    gad7_change: int | None = None

    def as_dict(self) -> dict[str, bool | None]:
        """The six flags as ``alliance outcome --json`` prints them (reference §9.3)."""
        return {
            "finished_treatment": self.finished_treatment,
            "at_caseness": self.at_caseness,
            "recovered": self.recovered,
            "reliably_improved": self.reliably_improved,
            "reliably_deteriorated": self.reliably_deteriorated,
            "reliably_recovered": self.reliably_recovered,
        }


def episode_outcome(
    *,
    phq9_scores: Sequence[object],
    gad7_scores: Sequence[object],
    treatment_contacts: object,
) -> EpisodeOutcome:
    """The NHS Talking Therapies outcome of one episode (reference §5.2).

    ``phq9_scores`` and ``gad7_scores`` are every completed total of each measure in time
    order; only the first and the last count. ``treatment_contacts`` is the number of attended
    treatment (or assessment-and-treatment) appointments; pure assessments do not count.
    """
    phq9, gad7 = get_instrument("phq9"), get_instrument("gad7")
    phq9_totals = _checked_totals(phq9, phq9_scores)
    gad7_totals = _checked_totals(gad7, gad7_scores)
    contacts = _checked_contacts(treatment_contacts)

    finished = contacts >= 2
    at_caseness = _any_case(_first_is_case(phq9, phq9_totals), _first_is_case(gad7, gad7_totals))
    phq9_change = _first_to_last(phq9_totals)
    gad7_change = _first_to_last(gad7_totals)
    # NHS Digital needs a first and a last score on both measures; without them, or without
    # a finished course, the episode is in no outcome denominator.
    paired = phq9_change is not None and gad7_change is not None
    if not (finished and paired):
        return EpisodeOutcome(
            finished_treatment=finished,
            at_caseness=at_caseness,
            recovered=None,
            reliably_improved=None,
            reliably_deteriorated=None,
            reliably_recovered=None,
            phq9_change=phq9_change,
            gad7_change=gad7_change,
        )

    changes = [
        reliable_change(phq9, phq9_totals[0], phq9_totals[-1]),
        reliable_change(gad7, gad7_totals[0], gad7_totals[-1]),
    ]
    decrease = ReliableChange.IMPROVEMENT in changes
    increase = ReliableChange.DETERIORATION in changes
    # A mixed case (one measure reliably down, the other reliably up) is neither.
    reliably_improved = decrease and not increase
    recovered = None
    reliably_recovered = None
    if at_caseness:
        recovered = not _is_case(phq9, phq9_totals[-1]) and not _is_case(gad7, gad7_totals[-1])
        reliably_recovered = recovered and reliably_improved
    return EpisodeOutcome(
        finished_treatment=finished,
        at_caseness=at_caseness,
        recovered=recovered,
        reliably_improved=reliably_improved,
        reliably_deteriorated=increase and not decrease,
        reliably_recovered=reliably_recovered,
        phq9_change=phq9_change,
        gad7_change=gad7_change,
    )


def _checked_totals(instrument: Instrument, scores: Sequence[object]) -> list[int]:
    if isinstance(scores, str | bytes) or not isinstance(scores, Sequence):
        raise OutcomeError(field=instrument.code, reason="expected a list of total scores")
    low, high = instrument.total_range
    totals = []
    for number, raw in enumerate(scores, start=1):
        field = f"{instrument.code} score {number}"
        try:
            total = read_integer(raw)
        except ValueError as error:
            raise OutcomeError(field=field, reason=str(error)) from None
        if total is None:
            raise OutcomeError(field=field, reason="no score given")
        if not low <= total <= high:
            raise OutcomeError(field=field, reason=f"{total} is out of range {low}–{high}")
        totals.append(total)
    return totals


def _checked_contacts(value: object) -> int:
    try:
        contacts = read_integer(value)
    except ValueError as error:
        raise OutcomeError(field="contacts", reason=str(error)) from None
    if contacts is None:
        raise OutcomeError(field="contacts", reason="the number of treatment contacts is required")
    if contacts < 0:
        raise OutcomeError(field="contacts", reason=f"{contacts} is negative")
    return contacts


def _is_case(instrument: Instrument, total: int) -> bool:
    return total >= instrument.caseness.min_total


def _first_is_case(instrument: Instrument, totals: list[int]) -> bool | None:
    return _is_case(instrument, totals[0]) if totals else None


def _any_case(*flags: bool | None) -> bool | None:
    """Caseness on either measure; unknown when no known measure is a case and one is missing.

    A first PHQ-9 of 12 makes a case whatever the missing GAD-7 would have said; a first
    PHQ-9 of 5 with no GAD-7 does not show that the patient is not a case.
    """
    if any(flag is True for flag in flags):
        return True
    if all(flag is False for flag in flags):
        return False
    return None


def _first_to_last(totals: list[int]) -> int | None:
    return totals[-1] - totals[0] if len(totals) >= 2 else None


# ---------------------------------------------------------------- alliance ruptures


@dataclass(frozen=True)
class Rupture:
    index: int  # position in the series of the session whose score dropped
    drop: float  # the score before minus the score at the drop (positive)
    sigma: float  # the standard deviation the drop was judged against
    length: int  # sessions from the drop on that stayed below the pre-drop level
    repaired: bool | None  # None: not repaired yet, and the repair window is still open


def find_ruptures(
    scores: Sequence[float],
    *,
    sample_sd: float,
    k: float = 2.0,
    repair_window: int = 2,
    repair_margin: float = 0.5,
    min_sessions: int = 4,
) -> list[Rupture]:
    """Ruptures in one patient's sessional alliance scores (e.g. WAI-SR means), in time order.

    The platform rule of reference §8: with d_t = A_t − A_{t−1}, a rupture at t is
    d_t ≤ −k·σ, where σ is the larger of the SD of the patient's own earlier d's and
    ``sample_sd`` (the SD of d's in a reference sample). Until ``min_sessions`` scores precede
    t, σ is ``sample_sd`` alone. The rupture is repaired when, within ``repair_window``
    sessions after t, the score returns to at least A_{t−1} − ``repair_margin``·σ.
    k = 2 is Stiles-like; k = 1 gives a Strauss-like sensitive flag.
    """
    _check_rupture_parameters(sample_sd, k, repair_window, repair_margin, min_sessions)
    values = [float(score) for score in scores]
    ruptures = []
    for t in range(1, len(values)):
        sigma = _sigma_before(values, t, sample_sd, min_sessions)
        before, drop = values[t - 1], values[t - 1] - values[t]
        if drop < k * sigma - _EPSILON:
            continue
        ruptures.append(
            Rupture(
                index=t,
                drop=drop,
                sigma=sigma,
                length=_sessions_below(values, t, before),
                repaired=_repaired(values, t, before - repair_margin * sigma, repair_window),
            )
        )
    return ruptures


def _check_rupture_parameters(
    sample_sd: float, k: float, repair_window: int, repair_margin: float, min_sessions: int
) -> None:
    if sample_sd <= 0:
        raise ValueError("sample_sd must be positive")
    if k <= 0:
        raise ValueError("k must be positive")
    if repair_window < 1:
        raise ValueError("repair_window must be at least 1")
    if repair_margin < 0:
        raise ValueError("repair_margin must not be negative")
    if min_sessions < 3:
        # The patient's own SD needs at least two earlier differences.
        raise ValueError("min_sessions must be at least 3")


def _sigma_before(values: list[float], t: int, sample_sd: float, min_sessions: int) -> float:
    """σ for judging d_t, from the differences before t only.

    Leaving d_t out keeps a drop from inflating the SD it is judged against, and keeps a
    flagged rupture flagged when later sessions arrive. A stable patient's own SD can be tiny,
    hence the floor of the sample SD (reference §8).
    """
    if t < min_sessions:
        return sample_sd
    own_differences = [values[i] - values[i - 1] for i in range(1, t)]
    return max(statistics.stdev(own_differences), sample_sd)


def _sessions_below(values: list[float], t: int, level: float) -> int:
    length = 0
    for value in values[t:]:
        if value >= level - _EPSILON:
            break
        length += 1
    return length


def _repaired(values: list[float], t: int, target: float, window: int) -> bool | None:
    later = values[t + 1 : t + 1 + window]
    if any(value >= target - _EPSILON for value in later):
        return True
    return False if len(later) == window else None
