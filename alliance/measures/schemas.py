"""API schemas of the measures app."""

from datetime import datetime

from ninja import Schema


class OptionOut(Schema):
    value: int
    label: str


class ItemOut(Schema):
    number: int
    key: str
    text: str
    type: str
    options: list[OptionOut]


class InstrumentOut(Schema):
    code: str
    name: str
    title: str
    kind: str
    licensed: bool
    licence: str
    offered: bool


class InstrumentDetailOut(InstrumentOut):
    stem: str | None
    items: list[ItemOut]
    difficulty: ItemOut | None


class QuestionnaireOut(Schema):
    id: int
    instrument: str
    occasion: str
    status: str
    available_from: datetime
    due_at: datetime


class AnswersIn(Schema):
    answers: list[int | None] = []
    text_answers: dict[str, str] = {}
    difficulty: int | None = None


class ResponseOut(Schema):
    id: int
    questionnaire_id: int
    instrument: str
    submitted_at: datetime
    total: int | None
    severity: str
    risk: bool | None
    caseness: bool | None
    item_scores: list[int]
    subscales: dict[str, int]
    mean: float | None
    crisis_information: str | None


class SendIn(Schema):
    instrument: str


class OutcomeOut(Schema):
    episode_id: int
    finished_treatment: bool
    at_caseness: bool | None
    recovered: bool | None
    reliably_improved: bool | None
    reliably_deteriorated: bool | None
    reliably_recovered: bool | None
