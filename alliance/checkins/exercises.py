"""The exercises a patient fills in: their keys, titles, fields and the rules for an entry.

``EXERCISES`` defines each kind; ``EXERCISE_KEYS`` and ``EXERCISE_TITLES`` are the
interface the content loader relies on (``{{ exercise: KEY }}`` in a module page).
``validate_entry`` is pure (no database): it turns what a patient sent into the data that
is stored, or lists every problem by field, each message naming the field and the reason.

Stored data is plain JSON: text as ``str``, ratings as ``int``, yes/no as ``bool``, a day
and time as an ISO 8601 string in UTC, and repeating groups as lists of objects. A field
left empty is left out.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 5000
# The most rows a repeating group (emotions, barriers, options) may hold.
MAX_ROWS = 10


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    DATETIME = "datetime"
    BOOL = "bool"
    RATING = "rating"  # a whole number between ``minimum`` and ``maximum``
    EMOTIONS = "emotions"  # rows of {emotion, intensity 0–100}
    BARRIERS = "barriers"  # rows of {barrier, plan}
    OPTIONS = "options"  # rows of {option, pros, cons}


@dataclass(frozen=True)
class RowPart:
    """One part of a row of a repeating group, e.g. the intensity of an emotion."""

    name: str
    label: Any
    type: FieldType  # TEXT, LONG_TEXT or RATING
    required: bool = False
    minimum: int = 0
    maximum: int = 100


ROW_PARTS: dict[FieldType, tuple[RowPart, ...]] = {
    FieldType.EMOTIONS: (
        RowPart("emotion", _("Emotion"), FieldType.TEXT, required=True),
        RowPart("intensity", _("Intensity (0–100)"), FieldType.RATING, required=True),
    ),
    FieldType.BARRIERS: (
        RowPart("barrier", _("What might get in the way"), FieldType.TEXT, required=True),
        RowPart("plan", _("What you will do then"), FieldType.LONG_TEXT, required=True),
    ),
    FieldType.OPTIONS: (
        RowPart("option", _("Idea"), FieldType.TEXT, required=True),
        RowPart("pros", _("Pros"), FieldType.LONG_TEXT),
        RowPart("cons", _("Cons"), FieldType.LONG_TEXT),
    ),
}


@dataclass(frozen=True)
class ExerciseField:
    name: str
    label: Any
    type: FieldType
    required: bool = False
    help_text: Any = ""
    minimum: int = 0
    maximum: int = 10
    # Repeating groups: how many rows the page form shows when it is empty.
    form_rows: int = 3

    @property
    def is_group(self) -> bool:
        return self.type in ROW_PARTS

    @property
    def parts(self) -> tuple[RowPart, ...]:
        return ROW_PARTS.get(self.type, ())


@dataclass(frozen=True)
class Exercise:
    key: str
    title: Any
    description: Any
    fields: tuple[ExerciseField, ...]
    # The fields whose first non-empty value names an entry in a list.
    summary_fields: tuple[str, ...]

    def field(self, name: str) -> ExerciseField | None:
        return next((f for f in self.fields if f.name == name), None)


F = FieldType

EXERCISES: dict[str, Exercise] = {
    exercise.key: exercise
    for exercise in (
        Exercise(
            key="activity_plan",
            title=_("Activity plan"),
            description=_(
                "Plan something to do, and when. Afterwards, note whether you did it and "
                "how much pleasure and sense of achievement it gave you."
            ),
            fields=(
                ExerciseField(
                    "activity",
                    _("Activity"),
                    F.TEXT,
                    required=True,
                    help_text=_(
                        "Something small and specific, like “walk to the shop after breakfast”."
                    ),
                ),
                ExerciseField("planned_for", _("Day and time"), F.DATETIME, required=True),
                ExerciseField(
                    "done", _("Did you do it?"), F.BOOL, help_text=_("Fill this in afterwards.")
                ),
                ExerciseField(
                    "pleasure",
                    _("Pleasure"),
                    F.RATING,
                    help_text=_("How much you enjoyed it: 0 is not at all, 10 is very much."),
                ),
                ExerciseField(
                    "mastery",
                    _("Mastery"),
                    F.RATING,
                    help_text=_(
                        "How much of a sense of achievement it gave "
                        "you: 0 is none, 10 is a great deal."
                    ),
                ),
                ExerciseField("notes", _("Notes"), F.LONG_TEXT),
            ),
            summary_fields=("activity",),
        ),
        Exercise(
            key="thought_record",
            title=_("Thought record"),
            description=_(
                "Catch a thought that came with a drop in your mood, weigh up the evidence "
                "for and against it, and find a more balanced thought."
            ),
            fields=(
                ExerciseField(
                    "situation",
                    _("Situation"),
                    F.LONG_TEXT,
                    required=True,
                    help_text=_(
                        "Where were you, and what was happening? Keep it short and factual."
                    ),
                ),
                ExerciseField(
                    "emotions",
                    _("Emotions"),
                    F.EMOTIONS,
                    required=True,
                    help_text=_("Name each feeling and how strong it was, from 0 to 100."),
                ),
                ExerciseField(
                    "automatic_thought",
                    _("Automatic thought"),
                    F.LONG_TEXT,
                    required=True,
                    help_text=_("What went through your mind?"),
                ),
                ExerciseField(
                    "thought_belief",
                    _("Belief in the thought"),
                    F.RATING,
                    maximum=100,
                    help_text=_("How much you believed it, from 0 to 100."),
                ),
                ExerciseField(
                    "evidence_for",
                    _("Evidence for the thought"),
                    F.LONG_TEXT,
                    help_text=_("Facts, not feelings."),
                ),
                ExerciseField(
                    "evidence_against",
                    _("Evidence against the thought"),
                    F.LONG_TEXT,
                    help_text=_("What does not fit? What would you say to a friend?"),
                ),
                ExerciseField(
                    "balanced_thought",
                    _("Balanced thought"),
                    F.LONG_TEXT,
                    help_text=_("A thought that takes account of all the evidence."),
                ),
                ExerciseField(
                    "balanced_belief",
                    _("Belief in the balanced thought"),
                    F.RATING,
                    maximum=100,
                    help_text=_("How much you believe it, from 0 to 100."),
                ),
                ExerciseField(
                    "emotions_after",
                    _("Emotions now"),
                    F.EMOTIONS,
                    help_text=_("Rate your feelings again, from 0 to 100."),
                ),
            ),
            summary_fields=("situation", "automatic_thought"),
        ),
        Exercise(
            key="goal_plan",
            title=_("Goal and action plan"),
            description=_(
                "Choose a goal and plan what you will do, when, where and how. Think about "
                "what might get in the way, and what you will do then."
            ),
            fields=(
                ExerciseField("goal", _("Goal"), F.TEXT, required=True),
                ExerciseField("action_what", _("What you will do"), F.LONG_TEXT, required=True),
                ExerciseField(
                    "action_when",
                    _("When"),
                    F.TEXT,
                    required=True,
                    help_text=_(
                        "A day and time, or how often, like “Monday and Thursday after lunch”."
                    ),
                ),
                ExerciseField("action_where", _("Where"), F.TEXT),
                ExerciseField(
                    "action_how",
                    _("How"),
                    F.LONG_TEXT,
                    help_text=_("What you need, and the steps."),
                ),
                ExerciseField(
                    "barriers",
                    _("Barriers and plans"),
                    F.BARRIERS,
                    help_text=_("What might get in the way, and what you will do if it does."),
                ),
                ExerciseField(
                    "confidence",
                    _("Confidence"),
                    F.RATING,
                    help_text=_(
                        "How sure you are that you can do it: 0 is not at all, 10 is completely."
                    ),
                ),
            ),
            summary_fields=("goal",),
        ),
        Exercise(
            key="problem_solving",
            title=_("Problem-solving worksheet"),
            description=_(
                "Work through one practical problem step by step: describe it, list ideas, "
                "weigh them up, choose one, plan it and review how it went."
            ),
            fields=(
                ExerciseField(
                    "problem",
                    _("Problem"),
                    F.LONG_TEXT,
                    required=True,
                    help_text=_("What exactly is the problem? When and where does it happen?"),
                ),
                ExerciseField(
                    "options",
                    _("Ideas"),
                    F.OPTIONS,
                    required=True,
                    form_rows=5,
                    help_text=_("As many ideas as you can, with the pros and cons of each."),
                ),
                ExerciseField("chosen_option", _("Idea you will try"), F.TEXT),
                ExerciseField(
                    "steps",
                    _("Plan"),
                    F.LONG_TEXT,
                    help_text=_("What you will do, when and where."),
                ),
                ExerciseField(
                    "review",
                    _("Review"),
                    F.LONG_TEXT,
                    help_text=_("Afterwards: what went well, what was harder, what next?"),
                ),
            ),
            summary_fields=("problem",),
        ),
        Exercise(
            key="journal",
            title=_("Reflection journal"),
            description=_(
                "Write about your week: what happened, what you noticed and what you learned."
            ),
            fields=(
                ExerciseField("title", _("Title"), F.TEXT),
                ExerciseField("reflection", _("Reflection"), F.LONG_TEXT, required=True),
            ),
            summary_fields=("title", "reflection"),
        ),
    )
}

EXERCISE_TITLES = {key: exercise.title for key, exercise in EXERCISES.items()}
EXERCISE_KEYS = tuple(EXERCISE_TITLES)

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def validate_entry(kind: str, data: Any) -> tuple[dict, dict[str, list[str]]]:
    """The data to store for an entry of ``kind``, and every problem by field name.

    A naive day and time is read in the current time zone (the person's own, on a page).
    """
    exercise = EXERCISES.get(kind)
    if exercise is None:
        return {}, {"kind": [_("There is no exercise called “%(kind)s”.") % {"kind": kind}]}
    if not isinstance(data, dict):
        return {}, {"data": [_("The entry must be an object of fields.")]}
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in data:
        if exercise.field(str(name)) is None:
            errors[str(name)] = [
                _("%(exercise)s has no field called “%(name)s”.")
                % {"exercise": exercise.title, "name": name}
            ]
    for field in exercise.fields:
        value, problems = clean_field(field, data.get(field.name))
        if problems:
            errors[field.name] = problems
        elif value is not None:
            clean[field.name] = value
    return (clean, {}) if not errors else ({}, errors)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def clean_field(field: ExerciseField, value: Any) -> tuple[Any, list[str]]:
    label = str(field.label)
    if field.is_group:
        return clean_group(field, value)
    if is_empty(value):
        if field.required:
            return None, [_("%(label)s: this cannot be left empty.") % {"label": label}]
        return None, []
    if field.type in (F.TEXT, F.LONG_TEXT):
        problem = text_problem(value, field.type)
        return (None, [f"{label}: {problem}"]) if problem else (value.strip(), [])
    if field.type is F.RATING:
        if not is_whole_number_in(value, field.minimum, field.maximum):
            return None, [rating_message(label, field.minimum, field.maximum)]
        return value, []
    if field.type is F.BOOL:
        if not isinstance(value, bool):
            return None, [_("%(label)s: choose yes or no.") % {"label": label}]
        return value, []
    if field.type is F.DATETIME:
        moment = parse_datetime(value)
        if moment is None:
            return None, [
                _("%(label)s: enter a date and time, like 2025-03-14 18:30.") % {"label": label}
            ]
        return moment.astimezone(UTC).isoformat(), []
    raise AssertionError(f"unknown field type {field.type}")


def text_problem(value: Any, kind: FieldType) -> str | None:
    limit = SHORT_TEXT_MAX if kind is F.TEXT else LONG_TEXT_MAX
    if not isinstance(value, str):
        return _("enter text.")
    if len(value.strip()) > limit:
        return _("keep this to %(limit)d characters or fewer.") % {"limit": limit}
    return None


def is_whole_number_in(value: Any, minimum: int, maximum: int) -> bool:
    # bool is a kind of int in Python; true/false is not a rating.
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def rating_message(label: str, minimum: int, maximum: int) -> str:
    return _("%(label)s: enter a whole number from %(min)d to %(max)d.") % {
        "label": label,
        "min": minimum,
        "max": maximum,
    }


def parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            return None
    else:
        return None
    if not 1900 <= moment.year <= 2999:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def clean_group(field: ExerciseField, value: Any) -> tuple[list | None, list[str]]:
    """Rows of a repeating group; wholly blank rows are ignored."""
    label = str(field.label)
    if value is None:
        value = []
    if not isinstance(value, list):
        return None, [_("%(label)s: send a list of rows.") % {"label": label}]
    rows, problems = [], []
    for number, row in enumerate(value, start=1):
        if isinstance(row, dict) and all(is_empty(v) for v in row.values()):
            continue
        clean_row, row_problems = clean_group_row(field, row, number)
        problems.extend(row_problems)
        if clean_row is not None:
            rows.append(clean_row)
    if problems:
        return None, problems
    if len(rows) > MAX_ROWS:
        return None, [
            _("%(label)s: fill in %(max)d rows or fewer.") % {"label": label, "max": MAX_ROWS}
        ]
    if not rows and field.required:
        return None, [_("%(label)s: fill in at least one row.") % {"label": label}]
    return (rows or None), []


def clean_group_row(field: ExerciseField, row: Any, number: int) -> tuple[dict | None, list[str]]:
    where = _("%(label)s, row %(number)d") % {"label": field.label, "number": number}
    if not isinstance(row, dict):
        return None, [
            _("%(where)s: send an object with %(parts)s.")
            % {"where": where, "parts": ", ".join(p.name for p in field.parts)}
        ]
    problems = []
    known = {part.name for part in field.parts}
    for name in row:
        if name not in known:
            problems.append(
                _("%(where)s: there is no part called “%(name)s”.") % {"where": where, "name": name}
            )
    clean = {}
    for part in field.parts:
        value = row.get(part.name)
        part_where = f"{where}, {str(part.label)}"
        if is_empty(value):
            if part.required:
                problems.append(_("%(where)s: this cannot be left empty.") % {"where": part_where})
            continue
        if part.type is F.RATING:
            if not is_whole_number_in(value, part.minimum, part.maximum):
                problems.append(rating_message(part_where, part.minimum, part.maximum))
                continue
            clean[part.name] = value
        else:
            problem = text_problem(value, part.type)
            if problem:
                problems.append(f"{part_where}: {problem}")
                continue
            clean[part.name] = value.strip()
    return (None, problems) if problems else (clean, [])


def whole_number_or_raw(raw: str) -> Any:
    """A form's text as a whole number when it is one; blank as None; anything else as sent."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else raw


@dataclass(frozen=True)
class DisplayRow:
    field: ExerciseField
    # A datetime for DATETIME fields, rows of (part, value) for groups; else as stored.
    value: Any  # None when empty


def display_rows(kind: str, data: dict) -> list[DisplayRow]:
    """Every field of the exercise in order, with its stored value ready to show."""
    rows = []
    for field in EXERCISES[kind].fields:
        value = data.get(field.name)
        if field.type is F.DATETIME and value is not None:
            value = parse_datetime(value)
        elif field.is_group and value is not None:
            # Each row as (part, value) pairs, in the parts' order.
            value = [[(part, row.get(part.name)) for part in field.parts] for row in value]
        rows.append(DisplayRow(field, value))
    return rows


def entry_summary(kind: str, data: dict) -> str:
    """A short name for an entry in a list: its first filled-in summary field."""
    for name in EXERCISES[kind].summary_fields:
        if data.get(name):
            return str(data[name])
    return str(EXERCISES[kind].title)
