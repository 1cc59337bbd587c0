"""API schemas of the care app."""

from datetime import date, datetime

from ninja import Schema


class ProgressOut(Schema):
    done: int
    total: int
    percent: int


class PlanModuleOut(Schema):
    assignment_id: int
    position: int
    module_key: str
    title: str
    minutes: int
    mandatory: bool
    is_addon: bool
    state: str
    opens_at: datetime | None
    waiting_for: str
    pages_done: int
    page_count: int
    waive_reason: str


class EpisodeOut(Schema):
    id: int
    programme_key: str
    programme_version: int
    programme_title: str
    care_model: str
    supporter: str | None
    status: str
    started_at: datetime
    ended_at: datetime | None


class PlanOut(Schema):
    episode: EpisodeOut
    modules: list[PlanModuleOut]
    progress: ProgressOut


class HomeworkOut(Schema):
    id: int
    text: str
    due_date: date | None
    done: bool


class ContactOut(Schema):
    scheduled_at: datetime
    kind: str
    supporter: str | None


class WeekOut(Schema):
    episode: EpisodeOut | None
    next_module: PlanModuleOut | None
    homework: list[HomeworkOut]
    exercises: list[dict]
    next_contact: ContactOut | None
    progress: ProgressOut | None


class EpisodeStartIn(Schema):
    programme_id: int
    care_model: str
    supporter_id: int | None = None


class EpisodeEndIn(Schema):
    reason: str


class PlanChangeIn(Schema):
    reason: str = ""
    position: int | None = None


class AddonIn(Schema):
    module_id: int


class HomeworkIn(Schema):
    text: str
    due_date: date | None = None


class HomeworkDoneIn(Schema):
    done: bool


class PageDoneOut(Schema):
    module_finished: bool
    pages_done: int
    page_count: int
