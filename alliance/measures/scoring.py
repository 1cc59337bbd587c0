"""Scoring of one completed questionnaire: the one function every page, API, task and command uses.

``score_answers`` is pure (no database) and driven entirely by the instrument's definition:
each answer is looked up among its item's options (index or value, reference §9.1) and earns
that option's keyed score, so the EPDS's reverse keying lives in the instrument file only.
Incomplete forms are refused, never prorated: bad input raises ``ScoringError`` naming the
item and the reason.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from alliance.measures.instruments import Instrument, Item, Option

_INTEGER = re.compile(r"[+-]?[0-9]+")


class ScoringError(ValueError):
    """Answers that cannot be scored. ``item`` is the item's number, "difficulty" or None."""

    def __init__(self, *, item: int | str | None = None, reason: str):
        self.item = item
        self.reason = reason
        if item is None:
            message = reason
        elif isinstance(item, int):
            message = f"item {item}: {reason}"
        else:
            message = f"{item}: {reason}"
        super().__init__(message)


@dataclass(frozen=True)
class Score:
    instrument: str  # the instrument's code
    total: int
    severity: str | None  # the band's key; None where the instrument has no bands
    risk: bool  # a risk item is positive (PHQ-9 item 9, EPDS item 10)
    caseness: bool | None  # NHS Talking Therapies caseness; None where it is not defined
    item_scores: tuple[int, ...]  # keyed scores, in item order
    subscales: dict[str, int] = field(default_factory=dict)  # sums
    mean: float | None = None  # mean item score, for instruments that report it (WAI-SR)
    subscale_means: dict[str, float] = field(default_factory=dict)
    risk_items: tuple[int, ...] = ()  # the numbers of the positive risk items
    difficulty: int | None = None  # the PHQ-9/GAD-7 difficulty answer; never in the total

    def as_dict(self) -> dict[str, object]:
        """The result as ``alliance score --json`` prints it (reference §9.2)."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "severity": self.severity,
            "risk": self.risk,
            "caseness": self.caseness,
            "item_scores": list(self.item_scores),
            "subscales": dict(self.subscales),
            "mean": self.mean,
        }


def read_integer(value: object) -> int | None:
    """An integer given by a form, an API or a command line; None when nothing was given.

    Raises ValueError when a value was given but is not a whole number. Text such as " 3 " is
    accepted so that every caller shares these rules; 2.0, "2.5" and True are not integers.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"{value!r} is not an integer")


def score_answers(
    instrument: Instrument, answers: Sequence[object], *, difficulty: object = None
) -> Score:
    """Score a complete set of answers, one per item in item order.

    ``answers`` are given as reference §9.1 says: the option's 0-based index in printed order
    (PHQ-9, GAD-7, EPDS, WSAS) or the ticked value (WAI-SR). ``difficulty`` is the PHQ-9/GAD-7
    difficulty answer, optional and never part of the total.
    """
    if not instrument.is_scored:
        raise ScoringError(reason=f"{instrument.name} is an open-ended survey and has no score")
    options = [
        _chosen_option(item, answer, label=item.number)
        for item, answer in _paired(instrument, answers)
    ]
    item_scores = tuple(option.score for option in options)
    scores_by_key = {
        item.key: score for item, score in zip(instrument.items, item_scores, strict=True)
    }
    total = sum(item_scores)
    band = instrument.band_for(total)
    risk_items = tuple(
        instrument.item(rule.item).number
        for rule in instrument.risk
        if scores_by_key[rule.item] >= rule.min_score
    )
    subscales = {
        subscale.key: sum(scores_by_key[key] for key in subscale.items)
        for subscale in instrument.subscales
    }
    return Score(
        instrument=instrument.code,
        total=total,
        severity=band.key if band else None,
        risk=bool(risk_items),
        caseness=total >= instrument.caseness.min_total if instrument.caseness else None,
        item_scores=item_scores,
        subscales=subscales,
        mean=total / len(item_scores) if instrument.reports_mean else None,
        subscale_means=_subscale_means(instrument, subscales),
        risk_items=risk_items,
        difficulty=_difficulty_answer(instrument, difficulty),
    )


def _paired(instrument: Instrument, answers: Sequence[object]) -> list[tuple[Item, object]]:
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ScoringError(reason=f"expected a list of {len(instrument.items)} answers")
    if len(answers) != len(instrument.items):
        raise ScoringError(reason=f"expected {len(instrument.items)} answers, got {len(answers)}")
    return list(zip(instrument.items, answers, strict=True))


def _chosen_option(item: Item, answer: object, *, label: int | str) -> Option:
    """The option the answer picks; ``label`` names the question in messages."""
    try:
        value = read_integer(answer)
    except ValueError as error:
        raise ScoringError(item=label, reason=str(error)) from None
    if value is None:
        raise ScoringError(item=label, reason="no answer given")
    option = item.option_for(value)
    if option is None:
        low, high = item.answer_range
        raise ScoringError(item=label, reason=f"{value} is out of range {low}–{high}")
    return option


def _difficulty_answer(instrument: Instrument, answer: object) -> int | None:
    if answer is None:
        return None
    if instrument.difficulty is None:
        raise ScoringError(
            item="difficulty", reason=f"{instrument.name} has no difficulty question"
        )
    option = _chosen_option(instrument.difficulty, answer, label="difficulty")
    return option.value


def _subscale_means(instrument: Instrument, sums: dict[str, int]) -> dict[str, float]:
    # The WAI-SR literature reports subscales both as sums (4-20) and means (1-5).
    if not instrument.reports_mean:
        return {}
    return {
        subscale.key: sums[subscale.key] / len(subscale.items) for subscale in instrument.subscales
    }
