"""API schemas of exercise entries and check-ins: ``ThingIn`` for input, ``ThingOut`` for
output."""

from datetime import date, datetime
from decimal import Decimal
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


class CheckInIn(Schema):
    # 0 (the lowest) to 10 (the best).
    mood: int
    # Words from the vocabulary: calm, content, hopeful, grateful, tired, anxious, low,
    # irritable, lonely, overwhelmed.
    feelings: list[str] = []
    sleep_hours: Decimal | None = None
    activity: str = ""
    note: str = ""
    # The day in your time zone; by default today. A past day only adds a missing check-in
    # (sent late, up to 14 days); a check-in can be changed only on its own day.
    local_date: date | None = None
    # Instead of local_date: when the check-in was made on the device (sent later, offline).
    made_at: datetime | None = None
    # Send a fresh random key with each save; a retry with the same key changes nothing
    # and answers with the check-in as stored.
    client_key: str | None = Field(default=None, max_length=64)
    # Optional; when given it must be your own patient id.
    patient_id: int | None = None


class CheckInOut(Schema):
    id: int
    patient_id: int
    local_date: date
    mood: int
    feelings: list[str]
    sleep_hours: float | None
    activity: str
    note: str
    created_at: datetime
    updated_at: datetime


class CheckInTodayOut(Schema):
    local_date: date
    done: bool
    checkin: CheckInOut | None
    # Consecutive days with a check-in, ending today or yesterday.
    streak: int
    last_date: date | None
    # True after a gap of several days: a gentle restart, no counting of missed days.
    welcome_back: bool
