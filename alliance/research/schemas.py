"""API schemas of the research app. Nothing here carries a patient: participants appear
only as their project pseudonym, texts only pseudonymised."""

from datetime import date, datetime

from ninja import Schema


class ConsentDocumentOut(Schema):
    version: int
    title: str
    text: str
    published_at: datetime


class ConsentInForceOut(Schema):
    version: int
    given_at: datetime


class ConsentOut(Schema):
    document: ConsentDocumentOut | None
    in_force: ConsentInForceOut | None


class ConsentIn(Schema):
    version: int


class WithdrawOut(Schema):
    documents_removed: int


class ProjectIn(Schema):
    title: str
    description: str = ""
    instruments: list[str]
    questions: list[str] = []
    period_start: date | None = None
    period_end: date | None = None
    programmes: list[str] = []
    blind: bool = True
    coders: list[int] = []
    starter: str | None = None


class MemberOut(Schema):
    staff_id: int
    name: str
    role: str


class ProjectOut(Schema):
    id: int
    title: str
    description: str
    status: str
    blind: bool
    instruments: list[str]
    questions: list[str]
    period_start: date | None
    period_end: date | None
    programmes: list[str]
    lead: str
    my_role: str
    members: list[MemberOut]
    documents: int
    participants: int
    created_at: datetime


class StatusIn(Schema):
    status: str


class RefreshOut(Schema):
    added: int


class MemberIn(Schema):
    staff_id: int
    role: str = "coder"


class DocumentOut(Schema):
    id: int
    guid: str
    participant: str
    instrument: str
    question: str
    question_text: str
    text: str
    done: bool


class DoneIn(Schema):
    done: bool = True


class CodeIn(Schema):
    name: str
    parent: int | None = None
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    colour: str = "#1F5F63"
    is_codable: bool = True


class CodePatch(Schema):
    name: str | None = None
    parent: int | None = None
    definition: str | None = None
    when_to_use: str | None = None
    when_not_to_use: str | None = None
    example: str | None = None
    colour: str | None = None
    is_codable: bool | None = None


class CodeOut(Schema):
    id: int
    guid: str
    parent: int | None
    name: str
    definition: str
    when_to_use: str
    when_not_to_use: str
    example: str
    colour: str
    is_codable: bool


class ImportOut(Schema):
    codes_added: int
    codes_updated: int
    codings_added: int = 0
    warnings: list[str] = []


class CodingIn(Schema):
    codes: list[int]
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    memo: str = ""


class CodingOut(Schema):
    id: int
    document_id: int
    code_id: int
    code: str
    coder: str
    start: int
    end: int
    passage: str
    memo: str
    created_at: datetime


class StatisticsOut(Schema):
    units: int
    prevalence: float | None
    percent_agreement: float | None
    cohen_kappa: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None


class CodeAgreementOut(StatisticsOut):
    code_id: int
    code: str


class AgreementOut(Schema):
    coders: list[str]
    per_code: list[CodeAgreementOut]
    overall: StatisticsOut
    disagreements: int


class DisagreementOut(Schema):
    document_id: int
    participant: str
    question: str
    code_id: int
    code: str
    applied_by: list[str]
    not_applied_by: list[str]
    consensus: bool | None


class ConsensusIn(Schema):
    document_id: int
    code_id: int
    applied: bool
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    reason: str


class ConsensusOut(Schema):
    document_id: int
    participant: str
    code_id: int
    code: str
    applied: bool
    start: int | None
    end: int | None
    passage: str | None
    unanimous: bool
    decided_by: str
    reason: str
    decided_at: datetime


class ThemeIn(Schema):
    name: str
    description: str = ""
    codes: list[int] = []


class ThemeOut(Schema):
    id: int
    name: str
    description: str
    codes: list[int]


class ReportRowOut(Schema):
    code_id: int | None
    code: str | None
    responses: int
    participants: int
    share: float | None
    quotes: list[str]


class ReportSectionOut(Schema):
    theme_id: int | None
    theme: str | None
    total: ReportRowOut | None
    rows: list[ReportRowOut]


class ReportOut(Schema):
    participants: int
    responses: int
    sections: list[ReportSectionOut]


class SuggestedGroupOut(Schema):
    index: int
    label_words: list[str]
    responses: int
    document_ids: list[int]
    typical_document_id: int
    typical_text: str


class SuggestionOut(Schema):
    id: int
    status: str
    progress: float
    backend: str
    error: str
    created_at: datetime
    finished_at: datetime | None
    groups: list[SuggestedGroupOut]
