"""API schemas of messaging: ``ThingIn`` for input, ``ThingOut`` for output."""

from datetime import datetime

from ninja import Field, Schema


class MessageIn(Schema):
    body: str
    # Send a fresh random key with each new message; a retry with the same key returns the
    # message already sent (200) instead of sending a second one (201).
    client_key: str | None = Field(default=None, max_length=64)


class AuthorOut(Schema):
    id: int
    name: str
    job_title: str


class MessageOut(Schema):
    id: int
    thread_id: int
    author: AuthorOut
    body: str
    sent_at: datetime
    is_from_patient: bool
    # For the care team only (None for the patient).
    risk_flagged: bool | None


class SentMessageOut(MessageOut):
    # Shown to the patient at once when their message used risk language; else None.
    crisis_information: str | None


class ThreadOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    last_message_at: datetime | None
    awaiting_reply_since: datetime | None
    reply_due_at: datetime | None
    overdue: bool
    # Messages from the other side the caller has not read.
    unread: int
    # A message still waiting for a reply used risk language (None for the patient).
    risk: bool | None


class ReadOut(Schema):
    thread_id: int | None
    read_at: datetime
    unread: int


class MessageTemplateOut(Schema):
    id: int
    title: str
    body: str
    # The body filled in for the patient given as ``patient_id``; else None.
    rendered: str | None


class SupporterChangeIn(Schema):
    reason: str = ""


class SupporterChangeOut(Schema):
    id: int
    status: str
    created_at: datetime
