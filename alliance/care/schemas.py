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
    """A contact as the patient sees it (no notes)."""

    id: int
    scheduled_at: datetime
    kind: str
    duration_minutes: int
    status: str
    supporter: str | None


class ReviewNoteOut(Schema):
    """What the patient's last review left them: next steps, and the feedback when it was
    not sent as a message."""

    reviewer: str
    completed_at: datetime
    feedback: str | None
    next_steps: str


class WeekOut(Schema):
    episode: EpisodeOut | None
    next_module: PlanModuleOut | None
    homework: list[HomeworkOut]
    exercises: list[dict]
    next_contact: ContactOut | None
    progress: ProgressOut | None
    review: ReviewNoteOut | None = None


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


class ReviewDueOut(Schema):
    patient_id: int
    patient_name: str
    episode_id: int
    care_model: str
    supporter: str | None
    last_reviewed_at: datetime | None
    due_at: datetime
    overdue_days: int
    review_open: bool


class ReviewStartIn(Schema):
    anyway: bool = False


class ReviewCompleteIn(Schema):
    feedback: str = ""
    next_steps: str = ""
    homework: list[str] = []
    minutes_spent: int | None = None


class ReviewOut(Schema):
    id: int
    patient_id: int
    episode_id: int
    reviewer: str
    covers_from: datetime
    opened_at: datetime
    completed_at: datetime | None
    feedback: str
    next_steps: str
    minutes_spent: int | None
    feedback_delivery: str
    homework: list[HomeworkOut]


class ContactRecordOut(ContactOut):
    """A contact as the care team sees it: with its outcome, notes, time and homework."""

    notes: str
    minutes_spent: int | None
    recorded_by: str | None
    recorded_at: datetime | None
    homework: list[HomeworkOut]


class ContactBookIn(Schema):
    kind: str
    scheduled_at: datetime
    duration_minutes: int = 30
    client_key: str | None = None


class ContactOutcomeIn(Schema):
    status: str
    notes: str = ""
    minutes_spent: int | None = None
    homework: list[str] = []
