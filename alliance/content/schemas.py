"""API schemas of the content app: ``ThingOut`` for output (content is read-only here)."""

from datetime import datetime

from ninja import Schema


class PageOut(Schema):
    id: int
    position: int
    title: str
    # Sanitised at load time; exercise slots are <p class="exercise-slot" data-exercise="KEY">.
    body_html: str
    exercises: list[str]


class GuideOut(Schema):
    """The protocol guide for the supporter."""

    online: str
    look_at: str
    ask: list[str]
    homework: list[str]
    call: str


class ModuleOut(Schema):
    id: int
    key: str
    position: int
    title: str
    summary: str
    mandatory: bool
    unlock_rule: str
    unlock_days: int | None
    minutes: int
    session_number: int | None
    session_relation: str
    guide: GuideOut
    homework: list[str]
    pages: list[PageOut]


class ProgrammeOut(Schema):
    id: int
    key: str
    version: int
    title: str
    summary: str
    kind: str
    problems: list[str]
    care_models: list[str]
    content_hash: str
    loaded_at: datetime
    module_count: int


class ProgrammeDetailOut(ProgrammeOut):
    modules: list[ModuleOut]
