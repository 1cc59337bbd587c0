"""The HTML form of an exercise, drawn from its definition; ``validate_entry`` judges it.

A plain form that works without JavaScript: a repeating group (emotions, barriers, ideas)
is a fixed number of rows, and rows left blank are ignored. The form only turns the
browser's strings into the types ``validate_entry`` expects; it has no rules of its own.
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from alliance.checkins.exercises import (
    MAX_ROWS,
    Exercise,
    ExerciseField,
    FieldType,
    parse_datetime,
    whole_number_or_raw,
)

YES, NO = "yes", "no"


@dataclass
class BoundPart:
    name: str  # the HTML name, e.g. emotions-0-intensity
    id: str
    label: Any
    type: FieldType
    value: str
    minimum: int
    maximum: int


@dataclass
class BoundRow:
    number: int
    parts: list[BoundPart]


@dataclass
class BoundField:
    field: ExerciseField
    value: str = ""
    rows: list[BoundRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def id(self) -> str:
        """The id of the first input, which the error summary links to."""
        if self.field.is_group:
            return self.rows[0].parts[0].id
        if self.field.type is FieldType.BOOL:
            return f"id_{self.name}_yes"
        return f"id_{self.name}"

    @property
    def describedby(self) -> str:
        ids = [f"id_{self.name}_hint"] if self.field.help_text else []
        if self.errors:
            ids.append(f"id_{self.name}_error")
        return " ".join(ids)


class ExerciseForm:
    def __init__(self, exercise: Exercise, values: dict[str, Any], errors=None):
        self.exercise = exercise
        # Scalars as the strings the inputs show; groups as lists of {part: string}.
        self.values = values
        self.errors: dict[str, list[str]] = dict(errors or {})

    @classmethod
    def from_post(cls, exercise: Exercise, post: QueryDict) -> "ExerciseForm":
        values: dict[str, Any] = {}
        for f in exercise.fields:
            if f.is_group:
                values[f.name] = [
                    {part.name: post.get(f"{f.name}-{index}-{part.name}", "") for part in f.parts}
                    for index in range(MAX_ROWS)
                    if any(f"{f.name}-{index}-{part.name}" in post for part in f.parts)
                ]
            else:
                values[f.name] = post.get(f.name, "")
        return cls(exercise, values)

    @classmethod
    def from_data(cls, exercise: Exercise, data: dict) -> "ExerciseForm":
        """The form showing stored answers, to edit them."""
        values: dict[str, Any] = {}
        for f in exercise.fields:
            stored = data.get(f.name)
            if f.is_group:
                values[f.name] = [
                    {part.name: as_text(row.get(part.name)) for part in f.parts}
                    for row in stored or []
                ]
            elif f.type is FieldType.BOOL:
                values[f.name] = "" if stored is None else (YES if stored else NO)
            elif f.type is FieldType.DATETIME and stored:
                moment = timezone.localtime(parse_datetime(stored))
                values[f.name] = moment.strftime("%Y-%m-%dT%H:%M")
            else:
                values[f.name] = as_text(stored)
        return cls(exercise, values)

    def data(self) -> dict[str, Any]:
        """What was entered, typed for ``validate_entry``; blank inputs left out."""
        data: dict[str, Any] = {}
        for f in self.exercise.fields:
            raw = self.values.get(f.name)
            if f.is_group:
                rows = [
                    {part.name: typed(part.type, row.get(part.name, "")) for part in f.parts}
                    for row in raw or []
                ]
                data[f.name] = [row for row in rows if any(v is not None for v in row.values())]
            else:
                data[f.name] = typed(f.type, raw or "")
        return {name: value for name, value in data.items() if value not in (None, [])}

    def fields(self) -> list[BoundField]:
        return [self.bound(f) for f in self.exercise.fields]

    def bound(self, f: ExerciseField) -> BoundField:
        errors = self.errors.get(f.name, [])
        if not f.is_group:
            return BoundField(f, value=self.values.get(f.name, ""), errors=errors)
        filled = [
            row
            for row in self.values.get(f.name) or []
            if any(str(value).strip() for value in row.values())
        ]
        count = min(MAX_ROWS, max(f.form_rows, len(filled) + 1))
        rows = []
        for index in range(count):
            row = filled[index] if index < len(filled) else {}
            parts = [
                BoundPart(
                    name=f"{f.name}-{index}-{part.name}",
                    id=f"id_{f.name}-{index}-{part.name}",
                    label=part.label,
                    type=part.type,
                    value=row.get(part.name, ""),
                    minimum=part.minimum,
                    maximum=part.maximum,
                )
                for part in f.parts
            ]
            rows.append(BoundRow(number=index + 1, parts=parts))
        return BoundField(f, rows=rows, errors=errors)

    def summary_errors(self) -> list[tuple[str | None, str]]:
        """(anchor id or None, message) for the error summary: errors about the whole entry
        first, then each field's in the order of the form."""
        names = {f.name for f in self.exercise.fields}
        found = [
            (None, message)
            for name, messages in self.errors.items()
            if name not in names
            for message in messages
        ]
        for f in self.exercise.fields:
            found.extend((self.bound(f).id, message) for message in self.errors.get(f.name, []))
        return found


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def typed(kind: FieldType, raw: str) -> Any:
    if kind is FieldType.RATING:
        return whole_number_or_raw(raw)
    if kind is FieldType.BOOL:
        return {YES: True, NO: False, "": None}.get(raw.strip(), raw)
    return raw if raw.strip() else None
