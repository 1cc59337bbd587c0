"""Reads of the research app, and its access rules built only from the access policy.

Research access, one condition per line (to move into ``accounts/policy.py``):
- only an active member of staff with the researcher role does research;
- a researcher sees the projects of their own service of which they are a member;
- a patient sees and changes only their own research consent.
A project that is missing or not yours is "not found", exactly like one that does not
exist. Nothing here ever returns a patient, a name or a source response to research.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from alliance.accounts import policy
from alliance.accounts.models import Patient, Role, StaffProfile, User
from alliance.measures.models import Response
from alliance.research import agreement
from alliance.research.models import (
    CODING_ROLES,
    Code,
    Coding,
    ConsensusCoding,
    ConsentDocument,
    DocumentCompletion,
    ProjectMember,
    ResearchConsent,
    ResearchDocument,
    ResearchProject,
    Theme,
    ThemeSuggestion,
)

# --- Access --------------------------------------------------------------------------------


def does_research(user: User) -> bool:
    return user.is_authenticated and user.is_active and policy.has_role(user, Role.RESEARCHER)


def projects_visible_to(user: User) -> QuerySet[ResearchProject]:
    if not does_research(user):
        return ResearchProject.objects.none()
    profile = user.staff_profile
    return ResearchProject.objects.filter(service_id=profile.service_id, members__staff=profile)


def access_project(user: User, project_id: int) -> ProjectMember:
    """The user's membership of the project (with ``.project``), or 404."""
    if not does_research(user):
        raise Http404("Not found.")
    member = (
        ProjectMember.objects.select_related("project__lead__user", "project__service", "staff")
        .filter(
            project_id=project_id,
            staff=user.staff_profile,
            project__service_id=user.staff_profile.service_id,
        )
        .first()
    )
    if member is None:
        raise Http404("Not found.")
    return member


def project_document(project: ResearchProject, document_id: int) -> ResearchDocument:
    document = (
        ResearchDocument.objects.select_related("participant")
        .filter(project=project, pk=document_id)
        .first()
    )
    if document is None:
        raise Http404("Not found.")
    return document


def researchers_of(service_id: int) -> QuerySet[StaffProfile]:
    """Who may be invited to a project: the service's active researchers."""
    return StaffProfile.objects.filter(
        service_id=service_id, role=Role.RESEARCHER, user__is_active=True
    ).select_related("user")


def own_patient(user: User) -> Patient:
    """The signed-in patient, for their consent page; 404 for anyone else."""
    if not policy.is_patient(user):
        raise Http404("Not found.")
    return user.patient


# --- Consent -------------------------------------------------------------------------------


def consent_document_current() -> ConsentDocument | None:
    return ConsentDocument.objects.order_by("-version").first()


def consent_in_force(patient: Patient) -> ResearchConsent | None:
    return (
        ResearchConsent.objects.select_related("document")
        .filter(patient=patient, withdrawn_at__isnull=True)
        .first()
    )


def consent_history(patient: Patient) -> list[ResearchConsent]:
    return list(ResearchConsent.objects.select_related("document").filter(patient=patient))


# --- Sources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One open answer that may enter a project: server-side only (it names a patient)."""

    response: Response
    question: str
    question_text: str
    text: str


def period_bounds(project: ResearchProject) -> tuple[datetime | None, datetime | None]:
    """The project's inclusive dates as UTC instants, in the service's own time zone."""
    zone = ZoneInfo(project.service.time_zone)
    start = end = None
    if project.period_start:
        start = datetime.combine(project.period_start, time.min, tzinfo=zone)
    if project.period_end:
        end = datetime.combine(project.period_end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def eligible_responses(project: ResearchProject) -> QuerySet[Response]:
    """Responses of the project's sources from patients whose research consent is in force."""
    # A subquery, not a join on isnull: a patient with no consent at all must not match.
    consenting = ResearchConsent.objects.filter(withdrawn_at__isnull=True).values("patient_id")
    responses = Response.objects.filter(
        patient__service_id=project.service_id,
        patient_id__in=consenting,
        instrument__in=project.instruments,
        text_answers__isnull=False,
    )
    start, end = period_bounds(project)
    if start:
        responses = responses.filter(submitted_at__gte=start)
    if end:
        responses = responses.filter(submitted_at__lt=end)
    if project.programmes:
        responses = responses.filter(episode__programme__key__in=project.programmes)
    return responses.select_related(
        "patient__user", "patient__supporter__user", "episode__supporter__user"
    ).order_by("submitted_at", "pk")


def eligible_answers(project: ResearchProject, questions: dict[str, dict[str, str]]):
    """Every (response, question) answer of the sources. ``questions`` maps instrument
    code → {item key: question text} of the open questions to take."""
    for response in eligible_responses(project).iterator(chunk_size=500):
        wanted = questions.get(response.instrument, {})
        for key, text in sorted((response.text_answers or {}).items()):
            if key in wanted and str(text).strip():
                yield Answer(response, key, wanted[key], str(text))


def names_around(response: Response, staff_names: list[str]) -> list[str]:
    """Names to take out of one patient's answer: theirs, their supporters', the staff's."""
    patient = response.patient
    names = [patient.user.full_name, patient.user.preferred_name, *staff_names]
    for supporter in (patient.supporter, response.episode.supporter if response.episode else None):
        if supporter is not None:
            names += [supporter.user.full_name, supporter.user.preferred_name]
    return [n for n in names if n]


def staff_names_of(service_id: int) -> list[str]:
    return [
        name
        for pair in StaffProfile.objects.filter(service_id=service_id).values_list(
            "user__full_name", "user__preferred_name"
        )
        for name in pair
        if name
    ]


# --- Projects ------------------------------------------------------------------------------


def project_members(project: ResearchProject) -> list[ProjectMember]:
    return list(project.members.select_related("staff__user").order_by("added_at", "pk"))


def coding_members(project: ResearchProject) -> list[ProjectMember]:
    return [m for m in project_members(project) if m.role in CODING_ROLES]


def project_codes(project: ResearchProject) -> list[Code]:
    """The codebook in reading order: each parent followed by its children."""
    codes = list(Code.objects.filter(codebook__project=project).order_by("position", "pk"))
    return ordered_tree(codes)


def ordered_tree(codes: list[Code]) -> list[Code]:
    children: dict[int | None, list[Code]] = defaultdict(list)
    known = {c.pk for c in codes}
    for code in codes:
        children[code.parent_id if code.parent_id in known else None].append(code)
    ordered: list[Code] = []

    def visit(code: Code, depth: int) -> None:
        code.depth = depth
        ordered.append(code)
        for child in children.get(code.pk, []):
            visit(child, depth + 1)

    for code in children[None]:
        visit(code, 0)
    return ordered


@dataclass(frozen=True)
class DocumentRow:
    document: ResearchDocument
    done: bool
    my_codings: int


def document_rows(project: ResearchProject, user: User) -> list[DocumentRow]:
    """The project's documents with the user's own progress, in two queries."""
    documents = list(
        ResearchDocument.objects.filter(project=project)
        .select_related("participant")
        .annotate(my_codings=Count("codings", filter=Q(codings__coder=user)))
        .order_by("pk")
    )
    done = set(
        DocumentCompletion.objects.filter(document__project=project, coder=user).values_list(
            "document_id", flat=True
        )
    )
    return [DocumentRow(d, d.pk in done, d.my_codings) for d in documents]


def visible_codings(project: ResearchProject, document: ResearchDocument, user: User):
    """The codings of a document the user may see: only their own during blind coding."""
    codings = Coding.objects.filter(document=document).select_related("code", "coder")
    if project.others_hidden:
        codings = codings.filter(coder=user)
    codings = list(codings.order_by("start", "end", "pk"))
    for coding in codings:
        coding.passage = document.text[coding.start : coding.end]
    return codings


def neighbours(project: ResearchProject, document: ResearchDocument) -> tuple[int | None, ...]:
    ids = ResearchDocument.objects.filter(project=project)
    before = ids.filter(pk__lt=document.pk).order_by("-pk").values_list("pk", flat=True).first()
    after = ids.filter(pk__gt=document.pk).order_by("pk").values_list("pk", flat=True).first()
    return before, after


@dataclass(frozen=True)
class Segment:
    """A stretch of a document's text and the codings covering all of it."""

    start: int
    end: int
    text: str
    codings: tuple


def segments(text: str, codings: list) -> list[Segment]:
    """Cut the text at every coding boundary, for highlighting overlapping passages."""
    cuts = sorted({0, len(text), *(c.start for c in codings), *(c.end for c in codings)})
    cuts = [c for c in cuts if 0 <= c <= len(text)]
    pieces = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        if start == end:
            continue
        covering = tuple(c for c in codings if c.start <= start and c.end >= end)
        pieces.append(Segment(start, end, text[start:end], covering))
    return pieces


# --- Agreement -----------------------------------------------------------------------------


@dataclass
class ProjectAgreement:
    report: agreement.AgreementReport
    coders: list[ProjectMember]
    codes: list[Code]
    documents: dict[int, ResearchDocument] = field(default_factory=dict)

    def rows(self):
        """(code, statistics) pairs, in codebook order."""
        return [(code, self.report.for_code(code.pk)) for code in self.codes]

    def coder_name(self, user_id: int) -> str:
        for member in self.coders:
            if member.staff.user_id == user_id:
                return member.staff.user.display_name
        return "?"


def project_agreement(project: ResearchProject, *, with_documents: bool = True):
    """Agreement between the project's coders (members who finished at least one document)
    per code and overall, over the documents every one of them has finished."""
    finished = list(
        DocumentCompletion.objects.filter(document__project=project).values_list(
            "document_id", "coder_id"
        )
    )
    coder_ids = {coder for _doc, coder in finished}
    coders = [m for m in coding_members(project) if m.staff.user_id in coder_ids]
    codes = [c for c in project_codes(project) if c.is_codable]
    units = sorted({doc for doc, _coder in finished})
    applied = Coding.objects.filter(document__project=project).values_list(
        "document_id", "code_id", "coder_id"
    )
    report = agreement.agreement_report(
        coders=[m.staff.user_id for m in coders],
        units=units,
        codes=[c.pk for c in codes],
        applied=applied,
        finished=finished,
    )
    documents = {}
    if with_documents and report.disagreements:
        wanted = {d.unit for d in report.disagreements}
        documents = {
            d.pk: d
            for d in ResearchDocument.objects.filter(pk__in=wanted).select_related("participant")
        }
    return ProjectAgreement(report, coders, codes, documents)


@dataclass(frozen=True)
class DisagreementRow:
    document: ResearchDocument
    code: Code
    applied_by: list[str]
    not_applied_by: list[str]
    decision: ConsensusCoding | None


def disagreement_rows(project: ResearchProject) -> list[DisagreementRow]:
    found = project_agreement(project)
    codes = {c.pk: c for c in found.codes}
    decided = {
        (c.document_id, c.code_id): c
        for c in ConsensusCoding.objects.filter(document__project=project, unanimous=False)
    }
    return [
        DisagreementRow(
            document=found.documents[d.unit],
            code=codes[d.code],
            applied_by=[found.coder_name(u) for u in d.applied_by],
            not_applied_by=[found.coder_name(u) for u in d.not_applied_by],
            decision=decided.get((d.unit, d.code)),
        )
        for d in found.report.disagreements
    ]


def consensus_of(project: ResearchProject) -> QuerySet[ConsensusCoding]:
    return ConsensusCoding.objects.filter(document__project=project).select_related(
        "code", "decided_by", "document__participant"
    )


# --- Themes and the report -----------------------------------------------------------------


def project_themes(project: ResearchProject) -> list[Theme]:
    return list(Theme.objects.filter(project=project).prefetch_related("codes"))


QUOTES_PER_CODE = 3


@dataclass
class ReportRow:
    code: Code | None  # None: the theme as a whole
    responses: int
    participants: int
    share: float | None  # of the project's participants, 0..1
    quotes: list[str]

    @property
    def share_percent(self) -> str:
        """The share as the page and the CSV show it: a percentage to one decimal."""
        return "" if self.share is None else f"{self.share * 100:.1f}"


@dataclass
class ReportSection:
    theme: Theme | None  # None: codes that belong to no theme
    total: ReportRow | None
    rows: list[ReportRow]


@dataclass
class Report:
    project: ResearchProject
    participants: int
    responses: int
    sections: list[ReportSection]


def project_report(project: ResearchProject) -> Report:
    """Per theme and code, from the consensus only: responses and participants with the
    code applied, the share of the project's participants, and exemplar quotes (the
    consensus passages, exact substrings of the pseudonymised texts). Seven queries,
    whatever the size of the project."""
    codes = [c for c in project_codes(project) if c.is_codable]
    themes = project_themes(project)
    applied = ConsensusCoding.objects.filter(document__project=project, applied=True)
    per_code = {
        row["code_id"]: row
        for row in applied.values("code_id").annotate(
            responses=Count("document_id", distinct=True),
            participants=Count("document__participant_id", distinct=True),
        )
    }
    per_theme = {
        row["code__themes"]: row
        for row in applied.filter(code__themes__project=project)
        .values("code__themes")
        .annotate(
            responses=Count("document_id", distinct=True),
            participants=Count("document__participant_id", distinct=True),
        )
    }
    totals = ResearchDocument.objects.filter(project=project).aggregate(
        participants=Count("participant_id", distinct=True), responses=Count("pk")
    )
    quotes = exemplar_quotes(applied)
    everyone = totals["participants"]

    def row(code: Code | None, counts: dict | None, texts: list[str]) -> ReportRow:
        responses = counts["responses"] if counts else 0
        participants = counts["participants"] if counts else 0
        share = participants / everyone if everyone else None
        return ReportRow(code, responses, participants, share, texts)

    sections = []
    themed: set[int] = set()
    for theme in themes:
        theme_codes = [c for c in codes if c.pk in {tc.pk for tc in theme.codes.all()}]
        themed.update(c.pk for c in theme_codes)
        theme_quotes = [q for c in theme_codes for q in quotes.get(c.pk, [])][:QUOTES_PER_CODE]
        sections.append(
            ReportSection(
                theme=theme,
                total=row(None, per_theme.get(theme.pk), theme_quotes),
                rows=[row(c, per_code.get(c.pk), quotes.get(c.pk, [])) for c in theme_codes],
            )
        )
    others = [c for c in codes if c.pk not in themed]
    if others:
        sections.append(
            ReportSection(
                theme=None,
                total=None,
                rows=[row(c, per_code.get(c.pk), quotes.get(c.pk, [])) for c in others],
            )
        )
    return Report(project, everyone, totals["responses"], sections)


def exemplar_quotes(applied: QuerySet[ConsensusCoding]) -> dict[int, list[str]]:
    """Up to three different passages per code, from different responses, longest first
    (two queries: the passages' positions, then the texts of the candidate documents)."""
    candidates: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    rows = applied.values_list("code_id", "document_id", "start", "end")
    for code_id, document_id, start, end in sorted(
        rows, key=lambda r: (r[0], -(r[3] - r[2]), r[1])
    ):
        # A few spare candidates, in case two participants wrote the same words.
        if len(candidates[code_id]) < QUOTES_PER_CODE * 3:
            candidates[code_id].append((document_id, start, end))
    wanted = {doc for picks in candidates.values() for doc, _s, _e in picks}
    texts = dict(ResearchDocument.objects.filter(pk__in=wanted).values_list("pk", "text"))
    quotes: dict[int, list[str]] = {}
    for code_id, picks in candidates.items():
        chosen: list[str] = []
        for document_id, start, end in picks:
            passage = texts[document_id][start:end]
            if passage not in chosen and len(chosen) < QUOTES_PER_CODE:
                chosen.append(passage)
        quotes[code_id] = chosen
    return quotes


# --- Suggested themes ----------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestedGroup:
    index: int
    label_words: list[str]
    responses: int
    typical: str


def latest_suggestion(project: ResearchProject) -> ThemeSuggestion | None:
    return ThemeSuggestion.objects.filter(project=project).order_by("-created_at", "-pk").first()


def suggested_groups(suggestion: ThemeSuggestion | None) -> list[SuggestedGroup]:
    """The groups of a finished run with their typical responses (one query)."""
    if suggestion is None or not suggestion.groups:
        return []
    wanted = [g["typical_document_id"] for g in suggestion.groups]
    texts = dict(
        ResearchDocument.objects.filter(project=suggestion.project_id, pk__in=wanted).values_list(
            "pk", "text"
        )
    )
    return [
        SuggestedGroup(
            index=index,
            label_words=group["label_words"],
            responses=len(group["document_ids"]),
            typical=texts.get(group["typical_document_id"], ""),
        )
        for index, group in enumerate(suggestion.groups)
    ]
