"""API schemas of exercise entries: ``ThingIn`` for input, ``ThingOut`` for output."""

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ExerciseEntryIn(Schema):
    kind: str
    # The answers, by field name; see the exercise definitions for the fields of each kind.
    data: dict[str, Any]
    module_key: str = ""
    # Send a fresh random key with each new entry; a retry with the same key returns the
    # entry already made (200) instead of making a second one (201).
    client_key: str | None = Field(default=None, max_length=64)


class ExerciseEntryUpdateIn(Schema):
    data: dict[str, Any]
    # The version the answers were edited from; an entry changed since then is refused.
    expected_version: int


class ExerciseCommentIn(Schema):
    text: str


class AuthorOut(Schema):
    id: int
    name: str


class ExerciseCommentOut(Schema):
    id: int
    author: AuthorOut
    text: str
    created_at: datetime


class ExerciseEntryOut(Schema):
    id: int
    patient_id: int
    kind: str
    title: str
    data: dict[str, Any]
    module_key: str
    version: int
    created_at: datetime
    updated_at: datetime
    comments: list[ExerciseCommentOut]
