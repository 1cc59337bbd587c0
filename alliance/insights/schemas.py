"""API schemas of the insights app."""

from datetime import datetime

from ninja import Schema


class AlertOut(Schema):
    id: int
    patient_id: int
    kind: str
    summary: str
    state: str
    raised_at: datetime
    acknowledged_at: datetime | None
    action_note: str


class AcknowledgeIn(Schema):
    note: str


class ProductFeedbackIn(Schema):
    kind: str
    text: str
    page: str = ""


class ProductFeedbackOut(Schema):
    id: int
    kind: str
    text: str
    page: str
    status: str
    created_at: datetime
