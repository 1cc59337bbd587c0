"""Instruments as data: the questionnaire definitions and the checks every instrument file passes.

An instrument file (YAML, one per instrument in ``instruments/``) says everything scoring needs:
the items and their options in printed order, the score each option earns (reverse keying
included), subscales, severity bands, risk items, caseness and reliable change. A file that
breaks a rule is refused with a message naming the file and the field, e.g.
``phq9.yaml: items[3].options: expected 4 options`` (indices in paths count from 0).

A service adds its own instrument the same way: write a file and ``load_instrument(path)``.
"""

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

BUILTIN_DIR = Path(__file__).with_name("instruments")

QUESTIONNAIRE = "questionnaire"
SURVEY = "survey"
# How a patient's answer to an item is given (reference §9.1).
OPTION_INDEX = "option_index"  # the 0-based index of the ticked option, in printed order
OPTION_VALUE = "option_value"  # the ticked value itself (the WAI-SR's 1-5)
LOWER_IS_BETTER = "lower"
HIGHER_IS_BETTER = "higher"

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_KEY = re.compile(r"[a-z][a-z0-9_]*")


class InstrumentFileError(ValueError):
    """An instrument file that cannot be used; the message names the file and the field."""


class UnknownInstrumentError(LookupError):
    def __init__(self, code: str, known: list[str]):
        self.code = code
        super().__init__(f"unknown instrument {code!r} (known: {', '.join(known)})")

    def __str__(self) -> str:
        # LookupError would print the message quoted, like a KeyError.
        return self.args[0]


@dataclass(frozen=True)
class Option:
    value: int  # what the patient's answer is: the index or the ticked value
    score: int  # what the option adds to the total, after keying
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    key: str
    number: int  # 1-based position on the form; messages say "item 4"
    text: str
    type: str  # "choice" or "text"
    options: tuple[Option, ...] = ()
    loinc: str | None = None

    @property
    def answer_range(self) -> tuple[int, int]:
        return self.options[0].value, self.options[-1].value

    @property
    def score_range(self) -> tuple[int, int]:
        scores = [option.score for option in self.options]
        return min(scores), max(scores)

    def option_for(self, value: int) -> Option | None:
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    min: int
    max: int


@dataclass(frozen=True)
class Subscale:
    key: str
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class RiskItem:
    item: str
    min_score: int  # the item is positive at this keyed score or above
    reason: str


@dataclass(frozen=True)
class Caseness:
    min_total: int
    source: str


@dataclass(frozen=True)
class ReliableChangeRule:
    threshold: int  # a first-to-last change of at least this many points is reliable
    better: str  # "lower" or "higher": which direction is improvement


@dataclass(frozen=True)
class Loinc:
    panel: str | None = None
    total: str | None = None


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    title: str
    kind: str
    items: tuple[Item, ...]
    licensed: bool  # offered to patients only once a service records that it holds the licence
    licence: str
    source: str  # the file it was loaded from, for messages
    citation: str | None = None
    stem: str | None = None
    notes: tuple[str, ...] = ()
    loinc: Loinc | None = None
    answer: str | None = None
    reverse_keyed: frozenset[str] = frozenset()
    reports_mean: bool = False
    difficulty: Item | None = None
    severity: tuple[Band, ...] = ()
    subscales: tuple[Subscale, ...] = ()
    risk: tuple[RiskItem, ...] = ()
    caseness: Caseness | None = None
    reliable_change: ReliableChangeRule | None = None

    @property
    def is_scored(self) -> bool:
        return self.kind == QUESTIONNAIRE

    @property
    def total_range(self) -> tuple[int, int]:
        return _total_range(self.items)

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def band_for(self, total: int) -> Band | None:
        for band in self.severity:
            if band.min <= total <= band.max:
                return band
        return None


# ---------------------------------------------------------------- loading


def load_instrument(path: str | Path) -> Instrument:
    """Read and check one instrument file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InstrumentFileError(f"{path.name}: cannot be read: {error.strerror}") from error
    return parse_instrument(text, source=path.name)


def parse_instrument(text: str, *, source: str) -> Instrument:
    """Check an instrument definition given as YAML text; ``source`` names it in messages."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise InstrumentFileError(f"{source}: not valid YAML: {reason}") from error
    try:
        return _instrument(data, source)
    except _Invalid as error:
        raise InstrumentFileError(f"{source}: {error.path}: {error.reason}") from None


@functools.cache
def builtin_instruments() -> Mapping[str, Instrument]:
    """The instruments shipped with Alliance, by code; loaded and checked once per process."""
    instruments = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        instrument = load_instrument(path)
        if instrument.code != path.stem:
            raise InstrumentFileError(
                f"{path.name}: code: {instrument.code!r} does not match the file name"
            )
        instruments[instrument.code] = instrument
    return MappingProxyType(instruments)


def get_instrument(code: str) -> Instrument:
    """A built-in instrument by its code, e.g. ``phq9`` or ``wai-sr``."""
    instruments = builtin_instruments()
    if code not in instruments:
        raise UnknownInstrumentError(code, sorted(instruments))
    return instruments[code]


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice (it would silently keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int):
                continue  # the base loader reports keys that cannot be keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# ---------------------------------------------------------------- checking

_TOP_FIELDS = {
    *("code", "name", "title", "kind", "citation", "licensed", "licence", "notes", "stem"),
    *("loinc", "items"),
}
# Fields of a scored questionnaire only; an open-ended survey has none of them.
_SCORING_FIELDS = {
    *("scoring", "scales", "difficulty", "severity", "subscales", "risk", "caseness"),
    "reliable_change",
}


class _Invalid(Exception):
    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _mapping(value: object, path: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(path or "(file)", "expected a mapping of fields")
    for key in value:
        if key not in allowed:
            raise _Invalid(_at(path, str(key)), "unknown field")
    return value


def _required(data: dict, key: str, path: str) -> object:
    if data.get(key) is None:
        raise _Invalid(_at(path, key), "missing")
    return data[key]


def _text(data: dict, key: str, path: str, *, optional: bool = False) -> str | None:
    if optional and data.get(key) is None:
        return None
    value = _required(data, key, path)
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(_at(path, key), "expected text")
    return value.strip()


def _integer(data: dict, key: str, path: str) -> int:
    value = _required(data, key, path)
    # bool is an int in Python; "true" is never a score.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(_at(path, key), f"expected an integer, got {value!r}")
    return value


def _boolean(data: dict, key: str, path: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _Invalid(_at(path, key), "expected true or false")
    return value


def _list(data: dict, key: str, path: str, *, optional: bool = False) -> list:
    value = data.get(key)
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise _Invalid(_at(path, key), "expected a list")
    return value


def _choice(data: dict, key: str, path: str, choices: tuple[str, ...]) -> str:
    value = _text(data, key, path)
    if value not in choices:
        raise _Invalid(_at(path, key), f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def _instrument(data: object, source: str) -> Instrument:
    top = _mapping(data, "", _TOP_FIELDS | _SCORING_FIELDS)
    code = _text(top, "code", "")
    if not _CODE.fullmatch(code):
        raise _Invalid("code", f"{code!r} must be lower-case letters, digits, '-' or '_'")
    kind = _choice(top, "kind", "", (QUESTIONNAIRE, SURVEY))
    common = {
        "code": code,
        "name": _text(top, "name", ""),
        "title": _text(top, "title", ""),
        "kind": kind,
        "licensed": _boolean(top, "licensed", ""),
        "licence": _text(top, "licence", ""),
        "source": source,
        "citation": _text(top, "citation", "", optional=True),
        "stem": _text(top, "stem", "", optional=True),
        "notes": _notes(top),
        "loinc": _loinc(top.get("loinc")),
    }
    if kind == SURVEY:
        scoring_fields = sorted(_SCORING_FIELDS & top.keys())
        if scoring_fields:
            raise _Invalid(scoring_fields[0], "a survey has no scoring")
        return Instrument(items=_survey_items(top), **common)
    return _questionnaire(top, common)


def _notes(top: dict) -> tuple[str, ...]:
    notes = _list(top, "notes", "", optional=True)
    for index, note in enumerate(notes):
        if not isinstance(note, str):
            raise _Invalid(_at("notes", index), "expected text")
    return tuple(notes)


def _loinc(value: object) -> Loinc | None:
    if value is None:
        return None
    data = _mapping(value, "loinc", {"panel", "total"})
    return Loinc(
        panel=_text(data, "panel", "loinc", optional=True),
        total=_text(data, "total", "loinc", optional=True),
    )


def _survey_items(top: dict) -> tuple[Item, ...]:
    raw_items = _list(top, "items", "")
    _item_keys(raw_items, {"key", "type", "text"})
    items = []
    for index, data in enumerate(raw_items):
        path = _at("items", index)
        _choice(data, "type", path, ("text",))
        items.append(
            Item(
                key=data["key"],
                number=index + 1,
                text=_text(data, "text", path),
                type="text",
            )
        )
    return tuple(items)


def _key(data: dict, path: str) -> str:
    key = _text(data, "key", path)
    if not _KEY.fullmatch(key):
        raise _Invalid(_at(path, "key"), f"{key!r} must be lower-case letters, digits or '_'")
    return key


def _item_keys(raw_items: list, allowed: set[str]) -> list[str]:
    """The items' keys, checked before anything else so that later fields can refer to them."""
    if not raw_items:
        raise _Invalid("items", "expected at least one item")
    keys = []
    for index, raw in enumerate(raw_items):
        path = _at("items", index)
        key = _key(_mapping(raw, path, allowed), path)
        if key in keys:
            raise _Invalid(_at(path, "key"), f"{key!r} is used twice")
        keys.append(key)
    return keys


def _questionnaire(top: dict, common: dict) -> Instrument:
    scoring = _mapping(
        _required(top, "scoring", ""),
        "scoring",
        {"answer", "options_per_item", "reverse_keyed", "mean"},
    )
    answer = _choice(scoring, "answer", "scoring", (OPTION_INDEX, OPTION_VALUE))
    options_per_item = _integer(scoring, "options_per_item", "scoring")
    if options_per_item < 2:
        raise _Invalid("scoring.options_per_item", "expected at least 2")
    raw_items = _list(top, "items", "")
    keys = _item_keys(raw_items, {"key", "text", "loinc", "scale", "options"})
    reverse_keyed = _list(scoring, "reverse_keyed", "scoring", optional=True)
    _check_item_keys(reverse_keyed, "scoring.reverse_keyed", keys)
    scales = _scales(top.get("scales"))

    items = []
    for index, (data, key) in enumerate(zip(raw_items, keys, strict=True)):
        path = _at("items", index)
        raw_options, options_path = _raw_options(data, path, scales)
        options = _options(raw_options, options_path, answer, count=options_per_item)
        _check_keying(options, options_path, key, reversed_=key in reverse_keyed)
        items.append(
            Item(
                key=key,
                number=index + 1,
                text=_text(data, "text", path),
                type="choice",
                options=options,
                loinc=_text(data, "loinc", path, optional=True),
            )
        )
    by_key = {item.key: item for item in items}
    low, high = _total_range(items)
    return Instrument(
        items=tuple(items),
        answer=answer,
        reverse_keyed=frozenset(reverse_keyed),
        reports_mean=_boolean(scoring, "mean", "scoring"),
        difficulty=_difficulty(top.get("difficulty"), scales, answer),
        severity=_severity(top, low, high),
        subscales=_subscales(top, by_key),
        risk=_risk(top, by_key),
        caseness=_caseness(top.get("caseness"), low, high),
        reliable_change=_reliable_change(top.get("reliable_change")),
        **common,
    )


def _total_range(items: tuple[Item, ...] | list[Item]) -> tuple[int, int]:
    ranges = [item.score_range for item in items if item.options]
    return sum(low for low, _ in ranges), sum(high for _, high in ranges)


def _check_item_keys(keys: object, path: str, known: Collection[str]) -> None:
    if not isinstance(keys, list):
        raise _Invalid(path, "expected a list of item keys")
    for index, key in enumerate(keys):
        if not isinstance(key, str) or key not in known:
            raise _Invalid(_at(path, index), f"{key!r} is not an item of this instrument")
        if keys.index(key) != index:
            raise _Invalid(_at(path, index), f"{key!r} is listed twice")


def _scales(value: object) -> dict[str, tuple[object, str]]:
    """Named option lists that items share; checked per item, as keying differs per item."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid("scales", "expected a mapping of named option lists")
    return {name: (options, _at("scales", str(name))) for name, options in value.items()}


def _raw_options(data: dict, path: str, scales: dict) -> tuple[object, str]:
    """An item's options, given inline or by naming a shared scale, and where they are."""
    if ("scale" in data) == ("options" in data):
        raise _Invalid(path, "give either 'scale' or 'options'")
    if "options" in data:
        return data["options"], _at(path, "options")
    name = data["scale"]
    if name not in scales:
        raise _Invalid(_at(path, "scale"), f"no scale named {name!r} under 'scales'")
    return scales[name]


def _options(raw: object, path: str, answer: str, *, count: int | None) -> tuple[Option, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise _Invalid(path, "expected a list of at least 2 options")
    if count is not None and len(raw) != count:
        raise _Invalid(path, f"expected {count} options, got {len(raw)}")
    options = []
    for index, item in enumerate(raw):
        option_path = _at(path, index)
        data = _mapping(item, option_path, {"value", "score", "label", "loinc"})
        option = Option(
            value=_integer(data, "value", option_path),
            score=_integer(data, "score", option_path),
            label=_label(data, option_path),
            loinc=_text(data, "loinc", option_path, optional=True),
        )
        _check_value(option, index, options, option_path, answer)
        options.append(option)
    return tuple(options)


def _label(data: dict, path: str) -> str:
    value = _required(data, "label", path)
    # A YAML label such as 7 reads as a number; the printed label is its text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(data, "label", path)


def _check_value(option: Option, index: int, before: list[Option], path: str, answer: str) -> None:
    if answer == OPTION_INDEX and option.value != index:
        raise _Invalid(
            _at(path, "value"),
            f"expected {index}: answers are the option's index in printed order",
        )
    # Values go up in steps of one, so "out of range 1–5" says exactly what is accepted.
    if before and option.value != before[-1].value + 1:
        raise _Invalid(_at(path, "value"), f"expected {before[-1].value + 1} (values go up by 1)")


def _check_keying(options: tuple[Option, ...], path: str, key: str, *, reversed_: bool) -> None:
    """Forward items score their value; reverse-keyed items score the mirrored value.

    The explicit scores and the list of reverse-keyed items must agree, so a mistyped score
    or a wrong asterisk copied from a reproduction of the form cannot slip through.
    """
    low, high = options[0].value, options[-1].value
    for index, option in enumerate(options):
        expected = low + high - option.value if reversed_ else option.value
        if option.score != expected:
            keyed = "reverse keyed" if reversed_ else "not reverse keyed"
            raise _Invalid(
                _at(_at(path, index), "score"),
                f"expected {expected} because {key} is {keyed}, got {option.score}",
            )


def _difficulty(value: object, scales: dict, answer: str) -> Item | None:
    """The PHQ-9/GAD-7 difficulty question: answered like the items, never scored."""
    if value is None:
        return None
    path = "difficulty"
    data = _mapping(value, path, {"key", "text", "loinc", "scale", "options"})
    key = _key(data, path)
    raw_options, options_path = _raw_options(data, path, scales)
    options = _options(raw_options, options_path, answer, count=None)
    _check_keying(options, options_path, key, reversed_=False)
    return Item(
        key=key,
        number=0,
        text=_text(data, "text", path),
        type="choice",
        options=options,
        loinc=_text(data, "loinc", path, optional=True),
    )


def _severity(top: dict, low: int, high: int) -> tuple[Band, ...]:
    """Bands must cover every possible total exactly once, in order."""
    bands = []
    for index, raw in enumerate(_list(top, "severity", "", optional=True)):
        path = _at("severity", index)
        data = _mapping(raw, path, {"key", "label", "min", "max"})
        band = Band(
            key=_key(data, path),
            label=_text(data, "label", path),
            min=_integer(data, "min", path),
            max=_integer(data, "max", path),
        )
        expected_min = bands[-1].max + 1 if bands else low
        if band.min != expected_min:
            raise _Invalid(_at(path, "min"), f"expected {expected_min}, got {band.min}")
        if band.max < band.min:
            raise _Invalid(_at(path, "max"), f"{band.max} is below min {band.min}")
        if any(other.key == band.key for other in bands):
            raise _Invalid(_at(path, "key"), f"{band.key!r} is used twice")
        bands.append(band)
    if bands and bands[-1].max != high:
        path = _at(_at("severity", len(bands) - 1), "max")
        raise _Invalid(path, f"expected {high} (the highest possible total), got {bands[-1].max}")
    return tuple(bands)


def _subscales(top: dict, items: Mapping[str, Item]) -> tuple[Subscale, ...]:
    subscales = []
    for index, raw in enumerate(_list(top, "subscales", "", optional=True)):
        path = _at("subscales", index)
        data = _mapping(raw, path, {"key", "label", "items"})
        keys = _list(data, "items", path)
        if not keys:
            raise _Invalid(_at(path, "items"), "expected at least one item")
        _check_item_keys(keys, _at(path, "items"), items)
        subscale = Subscale(
            key=_key(data, path), label=_text(data, "label", path), items=tuple(keys)
        )
        if any(other.key == subscale.key for other in subscales):
            raise _Invalid(_at(path, "key"), f"{subscale.key!r} is used twice")
        subscales.append(subscale)
    return tuple(subscales)


def _risk(top: dict, items: Mapping[str, Item]) -> tuple[RiskItem, ...]:
    rules = []
    for index, raw in enumerate(_list(top, "risk", "", optional=True)):
        path = _at("risk", index)
        data = _mapping(raw, path, {"item", "min_score", "reason"})
        item_key = _text(data, "item", path)
        if item_key not in items:
            raise _Invalid(_at(path, "item"), f"{item_key!r} is not an item of this instrument")
        rule = RiskItem(
            item=item_key,
            min_score=_integer(data, "min_score", path),
            reason=_text(data, "reason", path),
        )
        low, high = items[item_key].score_range
        if not low < rule.min_score <= high:
            # At the lowest score every answer would be "at risk"; above the highest, none.
            raise _Invalid(_at(path, "min_score"), f"expected {low + 1}–{high}")
        rules.append(rule)
    return tuple(rules)


def _caseness(value: object, low: int, high: int) -> Caseness | None:
    if value is None:
        return None
    data = _mapping(value, "caseness", {"min_total", "source"})
    caseness = Caseness(
        min_total=_integer(data, "min_total", "caseness"),
        source=_text(data, "source", "caseness"),
    )
    if not low < caseness.min_total <= high:
        raise _Invalid("caseness.min_total", f"expected {low + 1}–{high}")
    return caseness


def _reliable_change(value: object) -> ReliableChangeRule | None:
    if value is None:
        return None
    data = _mapping(value, "reliable_change", {"threshold", "better"})
    rule = ReliableChangeRule(
        threshold=_integer(data, "threshold", "reliable_change"),
        better=_choice(data, "better", "reliable_change", (LOWER_IS_BETTER, HIGHER_IS_BETTER)),
    )
    if rule.threshold < 1:
        raise _Invalid("reliable_change.threshold", "expected at least 1")
    return rule
