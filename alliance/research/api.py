"""API operations of the research app: a patient's research consent; projects, their
pseudonymised documents, codebooks (with REFI-QDA .qdc and .qdpx exchange), codings,
agreement, disagreements, consensus, themes and the report.

Every project operation fetches the project through ``selectors.access_project`` (404
when it is not yours); what comes back names participants only by pseudonym."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.text import slugify
from ninja import File, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from alliance.research import selectors, services
from alliance.research.models import (
    Code,
    Coding,
    MemberRole,
    ProjectMember,
    ProjectStatus,
    ResearchDocument,
    ResearchProject,
    Theme,
)
from alliance.research.schemas import (
    AgreementOut,
    CodeIn,
    CodeOut,
    CodePatch,
    CodingIn,
    CodingOut,
    ConsensusIn,
    ConsensusOut,
    ConsentIn,
    ConsentOut,
    DisagreementOut,
    DocumentOut,
    DoneIn,
    ImportOut,
    MemberIn,
    MemberOut,
    ProjectIn,
    ProjectOut,
    RefreshOut,
    ReportOut,
    StatusIn,
    SuggestionOut,
    ThemeIn,
    ThemeOut,
    WithdrawOut,
)

router = Router(tags=["research"])

MAX_UPLOAD = 60 * 1024 * 1024


# --- Consent (patients) --------------------------------------------------------------------


def consent_out(patient) -> dict:
    document = selectors.consent_document_current()
    in_force = selectors.consent_in_force(patient)
    return {
        "document": document,
        "in_force": {"version": in_force.document.version, "given_at": in_force.given_at}
        if in_force
        else None,
    }


@router.get("/research/consent", response=ConsentOut, url_name="get_research_consent")
def get_research_consent(request):
    """Your research consent (patients): the current text and whether you agreed."""
    return consent_out(selectors.own_patient(request.auth))


@router.post(
    "/research/consent",
    response={200: ConsentOut, 201: ConsentOut},
    url_name="give_research_consent",
)
def give_research_consent(request, payload: ConsentIn):
    """Agree to the current consent text (send its `version`). Agreeing again changes
    nothing (200)."""
    patient = selectors.own_patient(request.auth)
    document = selectors.consent_document_current()
    if document is None or payload.version != document.version:
        raise ValidationError({"version": ["Agree to the current version of the text."]})
    _consent, created = services.consent_give(patient=patient, document=document, request=request)
    return Status(201 if created else 200, consent_out(patient))


@router.delete("/research/consent", response=WithdrawOut, url_name="withdraw_research_consent")
def withdraw_research_consent(request):
    """Withdraw: your answers leave every research project not yet closed."""
    patient = selectors.own_patient(request.auth)
    removed = services.consent_withdraw(patient=patient, request=request)
    return {"documents_removed": removed}


# --- Projects ------------------------------------------------------------------------------


def member_for(request, project_id: int) -> ProjectMember:
    return selectors.access_project(request.auth, project_id)


def lead_for(request, project_id: int) -> ProjectMember:
    member = member_for(request, project_id)
    if member.role != MemberRole.LEAD:
        raise HttpError(403, "Only the project lead can do this.")
    return member


def project_out(project: ResearchProject, member: ProjectMember) -> dict:
    members = selectors.project_members(project)
    return {
        "id": project.pk,
        "title": project.title,
        "description": project.description,
        "status": project.status,
        "blind": project.blind,
        "instruments": project.instruments,
        "questions": project.questions,
        "period_start": project.period_start,
        "period_end": project.period_end,
        "programmes": project.programmes,
        "lead": project.lead.user.display_name,
        "my_role": member.role,
        "members": [
            {"staff_id": m.staff_id, "name": m.staff.user.display_name, "role": m.role}
            for m in members
        ],
        "documents": project.documents.count(),
        "participants": project.participants.count(),
        "created_at": project.created_at,
    }


@router.get("/research/projects", response=list[ProjectOut], url_name="list_projects")
def list_projects(request):
    """Your research projects (researchers)."""
    if not selectors.does_research(request.auth):
        raise HttpError(403, "Research projects are for researchers.")
    members = ProjectMember.objects.filter(
        staff=request.auth.staff_profile,
        project__in=selectors.projects_visible_to(request.auth),
    ).select_related("project__lead__user")
    return [project_out(m.project, m) for m in members]


@router.post("/research/projects", response={201: ProjectOut}, url_name="create_project")
def create_project(request, payload: ProjectIn):
    """Start a project you lead: sources, coders, a starter codebook; the answers of
    consenting participants are pulled in, pseudonymised."""
    if not selectors.does_research(request.auth):
        raise HttpError(403, "Research projects are for researchers.")
    profile = request.auth.staff_profile
    coders = list(selectors.researchers_of(profile.service_id).filter(pk__in=payload.coders))
    if len(coders) != len(set(payload.coders)):
        raise ValidationError({"coders": ["Only active researchers of your service can join."]})
    project = services.project_create(
        lead=profile,
        coders=coders,
        **payload.dict(exclude={"coders"}),
    )
    member = selectors.access_project(request.auth, project.pk)
    return Status(201, project_out(member.project, member))


@router.get("/research/projects/{project_id}", response=ProjectOut, url_name="get_project")
def get_project(request, project_id: int):
    member = member_for(request, project_id)
    return project_out(member.project, member)


@router.post(
    "/research/projects/{project_id}/status", response=ProjectOut, url_name="set_project_status"
)
def set_project_status(request, project_id: int, payload: StatusIn):
    """`reconciliation` (codings become visible; agreed codings become consensus), back to
    `open`, or `closed` (final)."""
    member = lead_for(request, project_id)
    project = services.project_set_status(
        project=member.project, status=payload.status, actor=request.auth
    )
    member.project = project
    return project_out(project, member)


@router.post(
    "/research/projects/{project_id}/refresh",
    response=RefreshOut,
    url_name="refresh_project_documents",
)
def refresh_project_documents(request, project_id: int):
    """Pull in new answers of consenting participants (idempotent)."""
    member = lead_for(request, project_id)
    return {"added": services.project_refresh_documents(project=member.project)}


@router.post(
    "/research/projects/{project_id}/members",
    response={201: MemberOut},
    url_name="add_project_member",
)
def add_project_member(request, project_id: int, payload: MemberIn):
    member = lead_for(request, project_id)
    staff = selectors.researchers_of(member.project.service_id).filter(pk=payload.staff_id).first()
    if staff is None:
        raise ValidationError({"staff_id": ["Only active researchers of your service can join."]})
    added = services.project_add_member(project=member.project, staff=staff, role=payload.role)
    return Status(201, {"staff_id": staff.pk, "name": staff.user.display_name, "role": added.role})


# --- Documents -----------------------------------------------------------------------------


def document_out(document: ResearchDocument, done: bool) -> dict:
    return {
        "id": document.pk,
        "guid": str(document.guid).upper(),
        "participant": document.participant.pseudonym,
        "instrument": document.instrument,
        "question": document.question,
        "question_text": document.question_text,
        "text": document.text,
        "done": done,
    }


@router.get(
    "/research/projects/{project_id}/documents",
    response=list[DocumentOut],
    url_name="list_research_documents",
)
def list_research_documents(request, project_id: int):
    """The project's responses, pseudonymised, with whether you have finished each."""
    member = member_for(request, project_id)
    rows = selectors.document_rows(member.project, request.auth)
    return [document_out(r.document, r.done) for r in rows]


@router.get(
    "/research/projects/{project_id}/documents/{document_id}",
    response=DocumentOut,
    url_name="get_research_document",
)
def get_research_document(request, project_id: int, document_id: int):
    member = member_for(request, project_id)
    document = selectors.project_document(member.project, document_id)
    done = document.completions.filter(coder=request.auth).exists()
    return document_out(document, done)


def coder_for(request, project_id: int) -> ProjectMember:
    member = member_for(request, project_id)
    if member.role not in (MemberRole.LEAD, MemberRole.CODER):
        raise HttpError(403, "Only the project's coders can code.")
    return member


@router.put(
    "/research/projects/{project_id}/documents/{document_id}/done",
    response=DocumentOut,
    url_name="set_document_done",
)
def set_document_done(request, project_id: int, document_id: int, payload: DoneIn):
    """Mark the response finished by you (codes you did not apply are judged absent), or
    reopen it with `done: false`."""
    member = coder_for(request, project_id)
    document = selectors.project_document(member.project, document_id)
    done = services.document_set_done(document=document, coder=request.auth, done=payload.done)
    return document_out(document, done)


# --- Codebook ------------------------------------------------------------------------------


def code_out(code: Code) -> dict:
    return {
        "id": code.pk,
        "guid": str(code.guid).upper(),
        "parent": code.parent_id,
        "name": code.name,
        "definition": code.definition,
        "when_to_use": code.when_to_use,
        "when_not_to_use": code.when_not_to_use,
        "example": code.example,
        "colour": code.colour,
        "is_codable": code.is_codable,
    }


def codebook_code(project: ResearchProject, code_id: int | None, field: str) -> Code | None:
    """A code of this project's codebook, named in a request body; anything else is the
    same "not in this codebook" answer, whether it exists elsewhere or not."""
    if code_id is None:
        return None
    code = Code.objects.filter(pk=code_id, codebook__project=project).first()
    if code is None:
        raise ValidationError({field: [f"Code {code_id} is not in this project's codebook."]})
    return code


@router.get(
    "/research/projects/{project_id}/codebook", response=list[CodeOut], url_name="get_codebook"
)
def get_codebook(request, project_id: int):
    """The codes, each parent followed by its children."""
    member = member_for(request, project_id)
    return [code_out(c) for c in selectors.project_codes(member.project)]


@router.post(
    "/research/projects/{project_id}/codebook/codes",
    response={201: CodeOut},
    url_name="create_code",
)
def create_code(request, project_id: int, payload: CodeIn):
    member = lead_for(request, project_id)
    project = member.project
    data = payload.dict()
    data["parent"] = codebook_code(project, data.pop("parent"), "parent")
    return Status(201, code_out(services.code_create(codebook=project.codebook, **data)))


@router.patch(
    "/research/projects/{project_id}/codebook/codes/{code_id}",
    response=CodeOut,
    url_name="update_code",
)
def update_code(request, project_id: int, code_id: int, payload: CodePatch):
    member = lead_for(request, project_id)
    project = member.project
    code = Code.objects.filter(pk=code_id, codebook__project=project).first()
    if code is None:
        raise HttpError(404, "Not found.")
    changes = payload.dict(exclude_unset=True)
    if "parent" in changes:
        changes["parent"] = codebook_code(project, changes["parent"], "parent")
    changes = {k: v for k, v in changes.items() if v is not None or k == "parent"}
    return code_out(services.code_update(code=code, **changes))


@router.delete(
    "/research/projects/{project_id}/codebook/codes/{code_id}",
    response={204: None},
    url_name="delete_code",
)
def delete_code(request, project_id: int, code_id: int):
    member = lead_for(request, project_id)
    code = Code.objects.filter(pk=code_id, codebook__project=member.project).first()
    if code is None:
        raise HttpError(404, "Not found.")
    services.code_delete(code=code)
    return Status(204, None)


def attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stem(project: ResearchProject) -> str:
    return slugify(project.title) or f"project-{project.pk}"


@router.get("/research/projects/{project_id}/codebook/qdc", url_name="export_codebook")
def export_codebook(request, project_id: int):
    """The codebook as a REFI-QDA codebook file (`.qdc`, `urn:QDA-XML:codebook:1.0`)."""
    member = member_for(request, project_id)
    data = services.codebook_export_qdc(codebook=member.project.codebook)
    return attachment(data, f"{stem(member.project)}.qdc", "application/xml")


def upload_bytes(file: UploadedFile) -> bytes:
    if file.size > MAX_UPLOAD:
        raise ValidationError({"file": ["The file is too large."]})
    return file.read()


@router.post(
    "/research/projects/{project_id}/codebook/qdc",
    response=ImportOut,
    url_name="import_codebook",
)
def import_codebook(request, project_id: int, file: File[UploadedFile]):
    """Import a `.qdc` (multipart field `file`): codes with a known GUID are updated, new
    ones added; on any problem, nothing is imported and the message says why."""
    member = lead_for(request, project_id)
    added, updated = services.codebook_import_qdc(
        codebook=member.project.codebook, data=upload_bytes(file)
    )
    return {"codes_added": added, "codes_updated": updated}


# --- Codings -------------------------------------------------------------------------------


def coding_out(coding: Coding, text: str) -> dict:
    return {
        "id": coding.pk,
        "document_id": coding.document_id,
        "code_id": coding.code_id,
        "code": coding.code.name,
        "coder": coding.coder.display_name,
        "start": coding.start,
        "end": coding.end,
        "passage": text[coding.start : coding.end],
        "memo": coding.memo,
        "created_at": coding.created_at,
    }


@router.get(
    "/research/projects/{project_id}/documents/{document_id}/codings",
    response=list[CodingOut],
    url_name="list_codings",
)
def list_codings(request, project_id: int, document_id: int):
    """The codings of a response you may see: only your own during blind coding."""
    member = member_for(request, project_id)
    document = selectors.project_document(member.project, document_id)
    codings = selectors.visible_codings(member.project, document, request.auth)
    return [coding_out(c, document.text) for c in codings]


@router.post(
    "/research/projects/{project_id}/documents/{document_id}/codings",
    response={201: list[CodingOut]},
    url_name="create_codings",
)
def create_codings(request, project_id: int, document_id: int, payload: CodingIn):
    """Apply codes to a passage: `start`/`end` (Unicode codepoints from 0, end excluded)
    or `quote` (its exact words). The same code on the same passage again is the same
    coding (safe to retry)."""
    member = coder_for(request, project_id)
    project = member.project
    document = selectors.project_document(project, document_id)
    if not payload.codes:
        raise ValidationError({"codes": ["Choose at least one code."]})
    codes = [codebook_code(project, pk, "codes") for pk in payload.codes]
    codings = services.codings_apply(
        document=document,
        coder=request.auth,
        codes=codes,
        start=payload.start,
        end=payload.end,
        quote=payload.quote,
        memo=payload.memo,
    )
    for coding in codings:
        coding.coder = request.auth
    return Status(201, [coding_out(c, document.text) for c in codings])


@router.delete(
    "/research/projects/{project_id}/codings/{coding_id}",
    response={204: None},
    url_name="delete_coding",
)
def delete_coding(request, project_id: int, coding_id: int):
    """Remove one of your own codings (while the project is open for coding)."""
    member = coder_for(request, project_id)
    coding = (
        Coding.objects.select_related("document")
        .filter(pk=coding_id, document__project=member.project, coder=request.auth)
        .first()
    )
    if coding is None:
        raise HttpError(404, "Not found.")
    services.coding_delete(coding=coding, coder=request.auth)
    return Status(204, None)


# --- Agreement and consensus ---------------------------------------------------------------


def stats_out(stats) -> dict:
    return {
        "units": stats.units,
        "prevalence": stats.prevalence,
        "percent_agreement": stats.percent_agreement,
        "cohen_kappa": stats.cohen_kappa,
        "fleiss_kappa": stats.fleiss_kappa,
        "krippendorff_alpha": stats.krippendorff_alpha,
    }


@router.get(
    "/research/projects/{project_id}/agreement", response=AgreementOut, url_name="get_agreement"
)
def get_agreement(request, project_id: int):
    """Per code and overall, at the level of the response, over the responses every coder
    has finished: prevalence, percentage agreement (0–1), Cohen's κ (two coders), Fleiss'
    κ, Krippendorff's α (nominal). `null` where a figure is undefined (no variation)."""
    member = member_for(request, project_id)
    found = selectors.project_agreement(member.project, with_documents=False)
    return {
        "coders": [m.staff.user.display_name for m in found.coders],
        "per_code": [
            {"code_id": code.pk, "code": code.name, **stats_out(stats)}
            for code, stats in found.rows()
        ],
        "overall": stats_out(found.report.overall),
        "disagreements": len(found.report.disagreements),
    }


def reconciliation_open(member: ProjectMember) -> ResearchProject:
    if member.project.others_hidden:
        raise HttpError(403, "Coding is blind until the project lead opens reconciliation.")
    return member.project


@router.get(
    "/research/projects/{project_id}/disagreements",
    response=list[DisagreementOut],
    url_name="list_disagreements",
)
def list_disagreements(request, project_id: int):
    """Every response and code the coders disagree on, who applied it and who did not, and
    the consensus if decided (`true` applied, `false` not, `null` undecided)."""
    project = reconciliation_open(member_for(request, project_id))
    return [
        {
            "document_id": row.document.pk,
            "participant": row.document.participant.pseudonym,
            "question": row.document.question,
            "code_id": row.code.pk,
            "code": row.code.name,
            "applied_by": row.applied_by,
            "not_applied_by": row.not_applied_by,
            "consensus": row.decision.applied if row.decision else None,
        }
        for row in selectors.disagreement_rows(project)
    ]


def consensus_out(consensus) -> dict:
    document = consensus.document
    passage = document.text[consensus.start : consensus.end] if consensus.applied else None
    return {
        "document_id": document.pk,
        "participant": document.participant.pseudonym,
        "code_id": consensus.code_id,
        "code": consensus.code.name,
        "applied": consensus.applied,
        "start": consensus.start,
        "end": consensus.end,
        "passage": passage,
        "unanimous": consensus.unanimous,
        "decided_by": consensus.decided_by.display_name,
        "reason": consensus.reason,
        "decided_at": consensus.decided_at,
    }


@router.get(
    "/research/projects/{project_id}/consensus",
    response=list[ConsensusOut],
    url_name="list_consensus",
)
def list_consensus(request, project_id: int):
    """The consensus coding: what themes and the report use, with who decided and why."""
    project = reconciliation_open(member_for(request, project_id))
    return [consensus_out(c) for c in selectors.consensus_of(project)]


@router.put(
    "/research/projects/{project_id}/consensus",
    response=ConsensusOut,
    url_name="decide_consensus",
)
def decide_consensus(request, project_id: int, payload: ConsensusIn):
    """Settle one response and code (project lead or adjudicator, during reconciliation):
    `applied` with its passage (`start`/`end` or `quote`), and the `reason`."""
    member = member_for(request, project_id)
    if member.role not in (MemberRole.LEAD, MemberRole.ADJUDICATOR):
        raise HttpError(403, "Only the project lead or an adjudicator decides consensus.")
    project = member.project
    document = (
        ResearchDocument.objects.select_related("participant")
        .filter(pk=payload.document_id, project=project)
        .first()
    )
    if document is None:
        raise ValidationError({"document_id": ["This response is not in the project."]})
    code = codebook_code(project, payload.code_id, "code_id")
    consensus = services.consensus_decide(
        document=document,
        code=code,
        actor=request.auth,
        applied=payload.applied,
        reason=payload.reason,
        start=payload.start,
        end=payload.end,
        quote=payload.quote,
    )
    consensus.document, consensus.code, consensus.decided_by = document, code, request.auth
    return consensus_out(consensus)


# --- Themes and the report -----------------------------------------------------------------


def theme_out(theme: Theme) -> dict:
    return {
        "id": theme.pk,
        "name": theme.name,
        "description": theme.description,
        "codes": sorted(c.pk for c in theme.codes.all()),
    }


@router.get(
    "/research/projects/{project_id}/themes", response=list[ThemeOut], url_name="list_themes"
)
def list_themes(request, project_id: int):
    member = member_for(request, project_id)
    return [theme_out(t) for t in selectors.project_themes(member.project)]


@router.post(
    "/research/projects/{project_id}/themes", response={201: ThemeOut}, url_name="create_theme"
)
def create_theme(request, project_id: int, payload: ThemeIn):
    member = lead_for(request, project_id)
    project = member.project
    codes = [codebook_code(project, pk, "codes") for pk in payload.codes]
    theme = services.theme_create(
        project=project, name=payload.name, description=payload.description, codes=codes
    )
    return Status(201, theme_out(theme))


def project_theme(project: ResearchProject, theme_id: int) -> Theme:
    theme = Theme.objects.filter(pk=theme_id, project=project).first()
    if theme is None:
        raise HttpError(404, "Not found.")
    return theme


@router.put(
    "/research/projects/{project_id}/themes/{theme_id}",
    response=ThemeOut,
    url_name="update_theme",
)
def update_theme(request, project_id: int, theme_id: int, payload: ThemeIn):
    member = lead_for(request, project_id)
    project = member.project
    theme = project_theme(project, theme_id)
    codes = [codebook_code(project, pk, "codes") for pk in payload.codes]
    services.theme_update(
        theme=theme, name=payload.name, description=payload.description, codes=codes
    )
    return theme_out(theme)


@router.delete(
    "/research/projects/{project_id}/themes/{theme_id}",
    response={204: None},
    url_name="delete_theme",
)
def delete_theme(request, project_id: int, theme_id: int):
    member = lead_for(request, project_id)
    services.theme_delete(theme=project_theme(member.project, theme_id))
    return Status(204, None)


def row_out(row) -> dict:
    return {
        "code_id": row.code.pk if row.code else None,
        "code": row.code.name if row.code else None,
        "responses": row.responses,
        "participants": row.participants,
        "share": row.share,
        "quotes": row.quotes,
    }


@router.get("/research/projects/{project_id}/report", response=ReportOut, url_name="get_report")
def get_report(request, project_id: int):
    """Per theme and code, from the consensus: responses, participants, the share of the
    project's participants (0–1) and up to three exemplar quotes."""
    member = member_for(request, project_id)
    report = selectors.project_report(member.project)
    return {
        "participants": report.participants,
        "responses": report.responses,
        "sections": [
            {
                "theme_id": s.theme.pk if s.theme else None,
                "theme": s.theme.name if s.theme else None,
                "total": row_out(s.total) if s.total else None,
                "rows": [row_out(r) for r in s.rows],
            }
            for s in report.sections
        ],
    }


# --- REFI-QDA project exchange -------------------------------------------------------------


@router.get("/research/projects/{project_id}/qdpx", url_name="export_project_qdpx")
def export_project_qdpx(request, project_id: int):
    """The project as REFI-QDA (`.qdpx`): pseudonymised sources, coders, codebook, every
    coding with its exact character positions, and the consensus as its own user. During
    blind coding only the project lead may export."""
    member = member_for(request, project_id)
    if member.project.others_hidden and member.role != MemberRole.LEAD:
        raise HttpError(403, "During blind coding only the project lead can export.")
    data = services.project_export_qdpx(project=member.project)
    return attachment(data, f"{stem(member.project)}.qdpx", "application/zip")


@router.post(
    "/research/projects/{project_id}/qdpx", response=ImportOut, url_name="import_project_qdpx"
)
def import_project_qdpx(request, project_id: int, file: File[UploadedFile]):
    """Bring back a `.qdpx` exported from this project and coded elsewhere (multipart
    field `file`): codes merged by GUID, codings of this project's responses added. A
    malformed or unsafe file is refused with its reason and nothing is imported."""
    member = lead_for(request, project_id)
    if member.project.status != ProjectStatus.OPEN:
        raise ValidationError({"file": ["Import codings while the project is open for coding."]})
    return services.project_import_qdpx(
        project=member.project, data=upload_bytes(file), actor=request.auth
    )


# --- Suggested themes ----------------------------------------------------------------------


def suggestion_out(suggestion) -> dict:
    typical = {g.index: g.typical for g in selectors.suggested_groups(suggestion)}
    return {
        "id": suggestion.pk,
        "status": suggestion.status,
        "progress": suggestion.progress,
        "backend": suggestion.backend,
        "error": suggestion.error,
        "created_at": suggestion.created_at,
        "finished_at": suggestion.finished_at,
        "groups": [
            {
                "index": index,
                "label_words": group["label_words"],
                "responses": len(group["document_ids"]),
                "document_ids": group["document_ids"],
                "typical_document_id": group["typical_document_id"],
                "typical_text": typical.get(index, ""),
            }
            for index, group in enumerate(suggestion.groups)
        ],
    }


@router.post(
    "/research/projects/{project_id}/suggestions",
    response={202: SuggestionOut},
    url_name="start_theme_suggestions",
)
def start_theme_suggestions(request, project_id: int):
    """Group the responses by meaning in the background (project lead). Follow it with
    `get_theme_suggestions`; nothing is coded."""
    member = lead_for(request, project_id)
    suggestion = services.suggestion_start(project=member.project, actor=request.auth)
    suggestion.refresh_from_db()
    return Status(202, suggestion_out(suggestion))


@router.get(
    "/research/projects/{project_id}/suggestions/latest",
    response=SuggestionOut,
    url_name="get_theme_suggestions",
)
def get_theme_suggestions(request, project_id: int):
    """The latest run: status, progress (0–1) and, when done, the groups (biggest first)
    with their typical words and response."""
    member = lead_for(request, project_id)
    suggestion = selectors.latest_suggestion(member.project)
    if suggestion is None:
        raise HttpError(404, "Not found.")
    return suggestion_out(suggestion)


@router.post(
    "/research/projects/{project_id}/suggestions/{suggestion_id}/groups/{index}/code",
    response={201: CodeOut},
    url_name="add_suggested_code",
)
def add_suggested_code(request, project_id: int, suggestion_id: int, index: int):
    """Add one suggested group to the codebook as a draft code."""
    member = lead_for(request, project_id)
    suggestion = member.project.suggestions.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise HttpError(404, "Not found.")
    return Status(201, code_out(services.suggestion_add_code(suggestion=suggestion, index=index)))
