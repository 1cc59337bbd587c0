"""Writes of the research app: consent, projects and their documents, codebooks, codings,
consensus, themes, and REFI-QDA snapshots.

Every write with more than one effect is one transaction; a rejected input raises
``ValidationError({field: [message]})`` and changes nothing.
"""

import hashlib
import hmac
import logging
import re
import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Role, StaffProfile, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.content.models import Programme
from alliance.measures.services import service_instruments
from alliance.research import codebooks, qdc, selectors
from alliance.research.exchange_types import (
    CodeRef,
    ProjectSnapshot,
    SelectionRef,
    SourceRef,
    UserRef,
)
from alliance.research.models import (
    ACTIVE_STATUSES,
    Code,
    Codebook,
    Coding,
    ConsensusCoding,
    ConsentDocument,
    DocumentCompletion,
    MemberRole,
    Participant,
    ProjectMember,
    ProjectStatus,
    ResearchConsent,
    ResearchDocument,
    ResearchProject,
    SuggestionStatus,
    Theme,
    ThemeSuggestion,
)
from alliance.research.pseudonymise import pseudonymise

logger = logging.getLogger("alliance.research")

MAX_MEMO = 5000
MAX_REASON = 5000


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --- Consent -------------------------------------------------------------------------------


@transaction.atomic
def consent_document_publish(*, title: str, text: str) -> ConsentDocument:
    """A new version of the consent text. Consents to older versions stay in force; the
    patient is asked to read and agree to the new one on their consent page."""
    if not title.strip():
        raise invalid("title", _("Give the consent text a title."))
    if not text.strip():
        raise invalid("text", _("Write the consent text."))
    last = ConsentDocument.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
    return ConsentDocument.objects.create(
        version=last + 1, title=title.strip(), text=text.strip(), published_at=timezone.now()
    )


@transaction.atomic
def consent_give(
    *, patient: Patient, document: ConsentDocument, request=None
) -> tuple[ResearchConsent, bool]:
    """The patient agrees to the current consent text. Agreeing again to the same version
    changes nothing; agreeing to a newer version renews the consent in force."""
    current = selectors.consent_document_current()
    if current is None or document.pk != current.pk:
        raise invalid("document", _("Read and agree to the current version of the text."))
    # Lock the patient's row: two clicks at once give one consent.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    in_force = ResearchConsent.objects.filter(patient=patient, withdrawn_at__isnull=True).first()
    if in_force is not None and in_force.document_id == document.pk:
        return in_force, False
    now = timezone.now()
    old_version = None
    if in_force is not None:
        old_version = in_force.document.version
        in_force.withdrawn_at = now
        in_force.renewed = True
        in_force.save(update_fields=["withdrawn_at", "renewed"])
    consent = ResearchConsent.objects.create(patient=patient, document=document, given_at=now)
    audit_record(
        actor=patient.user,
        patient=patient,
        action=AuditAction.CREATE if in_force is None else AuditAction.UPDATE,
        what="research consent",
        detail={"old": {"version": old_version}, "new": {"version": document.version}},
        request=request,
    )
    return consent, True


@transaction.atomic
def consent_withdraw(*, patient: Patient, request=None) -> int:
    """Withdraw research consent. The patient's documents, and every coding and consensus
    of them, leave every project not yet closed; closed projects keep what they had (their
    results may already be reported). Returns how many documents were removed."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    in_force = ResearchConsent.objects.filter(patient=patient, withdrawn_at__isnull=True).first()
    if in_force is None:
        return 0
    in_force.withdrawn_at = timezone.now()
    in_force.save(update_fields=["withdrawn_at"])
    participants = Participant.objects.filter(patient=patient, project__status__in=ACTIVE_STATUSES)
    projects = sorted(set(participants.values_list("project_id", flat=True)))
    removed = ResearchDocument.objects.filter(participant__in=participants).count()
    participants.delete()  # documents, codings, completions and consensus go with them
    audit_record(
        actor=patient.user,
        patient=patient,
        action=AuditAction.UPDATE,
        what="research consent withdrawn",
        detail={
            "old": {"version": in_force.document.version, "in_force": True},
            "new": {"in_force": False},
            "removed_from_projects": projects,
            "documents_removed": removed,
        },
        request=request,
    )
    return removed


# --- Projects ------------------------------------------------------------------------------


def open_questions(service) -> dict[str, dict[str, str]]:
    """Instrument code → {item key: question text} for every instrument with open items."""
    found = {}
    for code, instrument in service_instruments(service).items():
        items = {i.key: i.text for i in instrument.items if i.type == "text"}
        if items:
            found[code] = items
    return found


def checked_sources(
    service, instruments: list[str], questions: list[str], programmes: list[str]
) -> tuple[list[str], list[str], list[str]]:
    available = open_questions(service)
    instruments = sorted(set(instruments))
    if not instruments:
        raise invalid("instruments", _("Choose at least one questionnaire with open questions."))
    unknown = [code for code in instruments if code not in available]
    if unknown:
        raise invalid(
            "instruments",
            _("%(code)s is not a questionnaire with open questions.") % {"code": unknown[0]},
        )
    keys = {key for code in instruments for key in available[code]}
    questions = sorted(set(questions))
    stray = [q for q in questions if q not in keys]
    if stray:
        raise invalid(
            "questions",
            _("%(key)s is not an open question of the chosen questionnaires.") % {"key": stray[0]},
        )
    programmes = sorted(set(programmes))
    known = set(Programme.objects.filter(key__in=programmes).values_list("key", flat=True))
    missing = [p for p in programmes if p not in known]
    if missing:
        raise invalid("programmes", _("%(key)s is not a programme.") % {"key": missing[0]})
    return instruments, questions, programmes


def checked_coder(project_service_id: int, staff: StaffProfile, field: str) -> StaffProfile:
    if (
        staff.service_id != project_service_id
        or staff.role != Role.RESEARCHER
        or not staff.user.is_active
    ):
        raise invalid(field, _("Only active researchers of your service can join a project."))
    return staff


@transaction.atomic
def project_create(
    *,
    lead: StaffProfile,
    title: str,
    instruments: list[str],
    description: str = "",
    questions: list[str] = (),
    period_start: date | None = None,
    period_end: date | None = None,
    programmes: list[str] = (),
    blind: bool = True,
    coders: list[StaffProfile] = (),
    starter: str | None = None,
) -> ResearchProject:
    """A project led by ``lead``, its codebook (empty or from a starter codebook), its
    coders, and the documents of its sources pulled in at once."""
    checked_coder(lead.service_id, lead, "lead")
    if not title.strip():
        raise invalid("title", _("Give the project a title."))
    if len(title.strip()) > 200:
        raise invalid("title", _("Keep the title under 200 characters."))
    instruments, questions, programmes = checked_sources(
        lead.service, list(instruments), list(questions), list(programmes)
    )
    if period_start and period_end and period_start > period_end:
        raise invalid("period_end", _("The end of the period must not be before its start."))
    if starter and starter not in codebooks.starter_codebooks():
        raise invalid("starter", _("Choose one of the starter codebooks."))
    project = ResearchProject.objects.create(
        service=lead.service,
        lead=lead,
        title=title.strip(),
        description=description.strip(),
        instruments=instruments,
        questions=questions,
        period_start=period_start,
        period_end=period_end,
        programmes=programmes,
        blind=blind,
    )
    codebook = Codebook.objects.create(project=project)
    ProjectMember.objects.create(project=project, staff=lead, role=MemberRole.LEAD)
    for coder in coders:
        if coder.pk != lead.pk:
            checked_coder(lead.service_id, coder, "coders")
            ProjectMember.objects.get_or_create(
                project=project, staff=coder, defaults={"role": MemberRole.CODER}
            )
    if starter:
        codebook_load_starter(codebook=codebook, key=starter)
    project_refresh_documents(project=project)
    return project


def pseudonym_for(project: ResearchProject, patient: Patient, taken: set[str]) -> str:
    """HMAC-SHA256 of the patient's pseudonym under the project's key: stable within the
    project, unrelated across projects. Longer only if the short form is already taken."""
    digest = hmac.new(
        project.secret.encode(), str(patient.pseudonym).encode(), hashlib.sha256
    ).hexdigest()
    for length in (6, 8, 10, 14):
        candidate = f"P-{digest[:length].upper()}"
        if candidate not in taken:
            return candidate
    raise RuntimeError("pseudonym space exhausted")  # 2^56 values: not in this universe


@transaction.atomic
def project_refresh_documents(*, project: ResearchProject) -> int:
    """Pull in every answer of the project's sources from consenting participants that is
    not there yet, pseudonymised. Idempotent. Returns how many documents were added."""
    project = (
        ResearchProject.objects.select_for_update().select_related("service").get(pk=project.pk)
    )
    if not project.is_active:
        raise invalid("status", _("A closed project does not take new documents."))
    available = open_questions(project.service)
    questions = {
        code: {
            k: v
            for k, v in available.get(code, {}).items()
            if not project.questions or k in project.questions
        }
        for code in project.instruments
    }
    have = set(
        ResearchDocument.objects.filter(project=project).values_list(
            "source_response_id", "question"
        )
    )
    participants = {p.patient_id: p for p in Participant.objects.filter(project=project)}
    taken = {p.pseudonym for p in participants.values()}
    staff_names = selectors.staff_names_of(project.service_id)
    new_documents, new_participants = [], []
    for answer in selectors.eligible_answers(project, questions):
        response = answer.response
        if (response.pk, answer.question) in have:
            continue
        participant = participants.get(response.patient_id)
        if participant is None:
            pseudonym = pseudonym_for(project, response.patient, taken)
            taken.add(pseudonym)
            participant = Participant.objects.create(
                project=project, patient=response.patient, pseudonym=pseudonym
            )
            participants[response.patient_id] = participant
            new_participants.append(participant)
        text = normalised_text(answer.text)
        new_documents.append(
            ResearchDocument(
                project=project,
                participant=participant,
                instrument=response.instrument,
                question=answer.question,
                question_text=answer.question_text[:500],
                text=pseudonymise(text, names=selectors.names_around(response, staff_names)),
                source_response=response,
            )
        )
        have.add((response.pk, answer.question))
    ResearchDocument.objects.bulk_create(new_documents)
    for participant in new_participants:
        # The patient's record shows that their (pseudonymised) answers went to research.
        audit_record(
            actor=project.lead.user,
            patient=participant.patient,
            action=AuditAction.EXPORT,
            what="pseudonymised answers for research",
            detail={"project": project.pk},
        )
    project.documents_refreshed_at = timezone.now()
    project.save(update_fields=["documents_refreshed_at"])
    return len(new_documents)


def normalised_text(text: str) -> str:
    """Line endings as \\n, so positions mean the same in every QDA tool (REFI-QDA pitfall)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@transaction.atomic
def project_add_member(
    *, project: ResearchProject, staff: StaffProfile, role: str = MemberRole.CODER
) -> ProjectMember:
    if role not in (MemberRole.CODER, MemberRole.ADJUDICATOR):
        raise invalid("role", _("Invite as a coder or as an adjudicator."))
    checked_coder(project.service_id, staff, "staff_id")
    if project.status == ProjectStatus.CLOSED:
        raise invalid("status", _("The project is closed."))
    if ProjectMember.objects.filter(project=project, staff=staff).exists():
        raise invalid(
            "staff_id", _("%(name)s is already a member.") % {"name": staff.user.display_name}
        )
    return ProjectMember.objects.create(project=project, staff=staff, role=role)


TRANSITIONS = {
    ProjectStatus.OPEN: {ProjectStatus.RECONCILIATION},
    ProjectStatus.RECONCILIATION: {ProjectStatus.OPEN, ProjectStatus.CLOSED},
    ProjectStatus.CLOSED: set(),
}


@transaction.atomic
def project_set_status(*, project: ResearchProject, status: str, actor: User) -> ResearchProject:
    """Open reconciliation (the coders' work becomes visible and every coding all who
    finished a document agree on becomes consensus), go back to coding, or close."""
    project = ResearchProject.objects.select_for_update().get(pk=project.pk)
    if status not in TRANSITIONS.get(project.status, set()):
        raise invalid(
            "status",
            _("A project that is %(now)s cannot become %(new)s.")
            % {"now": project.get_status_display().lower(), "new": status},
        )
    project.status = status
    now = timezone.now()
    if status == ProjectStatus.RECONCILIATION:
        project.reconciliation_opened_at = now
        project.save(update_fields=["status", "reconciliation_opened_at"])
        consensus_accept_unanimous(project=project, actor=actor)
    elif status == ProjectStatus.CLOSED:
        project.closed_at = now
        project.save(update_fields=["status", "closed_at"])
    else:
        project.save(update_fields=["status"])
    return project


# --- Codebooks -----------------------------------------------------------------------------


def refuse_if_closed(project: ResearchProject, field: str = "status") -> None:
    if project.status == ProjectStatus.CLOSED:
        raise invalid(field, _("The project is closed: nothing in it can change."))


def clean_code_fields(
    codebook: Codebook,
    *,
    name: str,
    parent: Code | None,
    colour: str,
    code: Code | None = None,
) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise invalid("name", _("Give the code a name."))
    if len(name) > 200:
        raise invalid("name", _("Keep the name under 200 characters."))
    colour = (colour or "#1F5F63").strip()
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        raise invalid("colour", _("Give a colour as #RRGGBB, for example #1F5F63."))
    if parent is not None:
        if parent.codebook_id != codebook.pk:
            raise invalid("parent", _("The parent code must be in the same codebook."))
        ancestor = parent
        while ancestor is not None:
            if code is not None and ancestor.pk == code.pk:
                raise invalid("parent", _("A code cannot be placed inside itself."))
            ancestor = ancestor.parent
    siblings = Code.objects.filter(codebook=codebook, parent=parent, name__iexact=name)
    if code is not None:
        siblings = siblings.exclude(pk=code.pk)
    if siblings.exists():
        raise invalid("name", _("There is already a code called %(name)s here.") % {"name": name})
    return name, colour.upper()


@transaction.atomic
def code_create(
    *,
    codebook: Codebook,
    name: str,
    parent: Code | None = None,
    definition: str = "",
    when_to_use: str = "",
    when_not_to_use: str = "",
    example: str = "",
    colour: str = "#1F5F63",
    is_codable: bool = True,
    guid: str | None = None,
) -> Code:
    refuse_if_closed(codebook.project)
    name, colour = clean_code_fields(codebook, name=name, parent=parent, colour=colour)
    position = (Code.objects.filter(codebook=codebook).aggregate(p=Max("position"))["p"] or 0) + 1
    code = Code(
        codebook=codebook,
        parent=parent,
        name=name,
        definition=definition.strip(),
        when_to_use=when_to_use.strip(),
        when_not_to_use=when_not_to_use.strip(),
        example=example.strip(),
        colour=colour,
        is_codable=is_codable,
        position=position,
    )
    if guid:
        code.guid = uuid.UUID(guid.strip("{}"))
    code.save()
    return code


CODE_TEXTS = ("definition", "when_to_use", "when_not_to_use", "example")


@transaction.atomic
def code_update(*, code: Code, **changes) -> Code:
    """Change any of name, parent, colour, is_codable and the four texts."""
    code = Code.objects.select_for_update().select_related("codebook__project").get(pk=code.pk)
    refuse_if_closed(code.codebook.project)
    parent = changes.get("parent", code.parent)
    name, colour = clean_code_fields(
        code.codebook,
        name=changes.get("name", code.name),
        parent=parent,
        colour=changes.get("colour", code.colour),
        code=code,
    )
    if changes.get("is_codable") is False and code.codings.exists():
        raise invalid("is_codable", _("This code has been applied, so it must stay codable."))
    code.name, code.colour, code.parent = name, colour, parent
    for text in CODE_TEXTS:
        if text in changes:
            setattr(code, text, (changes[text] or "").strip())
    if "is_codable" in changes:
        code.is_codable = bool(changes["is_codable"])
    code.save()
    return code


@transaction.atomic
def code_delete(*, code: Code) -> None:
    refuse_if_closed(code.codebook.project)
    if code.children.exists():
        raise invalid(
            "code", _("Move or delete the codes inside %(name)s first.") % {"name": code.name}
        )
    used = code.codings.count() + code.consensus.count()
    if used:
        raise invalid(
            "code",
            _("%(name)s has been applied %(n)d times; a code in use cannot be deleted.")
            % {"name": code.name, "n": used},
        )
    code.themes.clear()
    code.delete()


@transaction.atomic
def codebook_load_starter(*, codebook: Codebook, key: str) -> int:
    """Add a starter codebook's codes. Returns how many were added."""
    starter = codebooks.starter_codebooks().get(key)
    if starter is None:
        raise invalid("starter", _("Choose one of the starter codebooks."))
    made: dict[int, Code] = {}
    for item, parent in starter.walk():
        made[id(item)] = code_create(
            codebook=codebook,
            name=item.name,
            parent=made[id(parent)] if parent is not None else None,
            definition=item.definition,
            when_to_use=item.when_to_use,
            when_not_to_use=item.when_not_to_use,
            example=item.example,
            colour=item.colour,
            is_codable=item.codable,
        )
    return len(made)


def code_refs(codes: list[Code]) -> list[CodeRef]:
    by_pk = {c.pk: c for c in codes}
    return [
        CodeRef(
            guid=str(c.guid).upper(),
            name=c.name,
            color=c.colour.upper(),
            description=codebooks.description_of(
                definition=c.definition,
                when_to_use=c.when_to_use,
                when_not_to_use=c.when_not_to_use,
                example=c.example,
            ),
            parent_guid=str(by_pk[c.parent_id].guid).upper() if c.parent_id in by_pk else None,
            is_codable=c.is_codable,
        )
        for c in codes
    ]


def codebook_export_qdc(*, codebook: Codebook) -> bytes:
    codes = selectors.project_codes(codebook.project)
    if not codes:
        raise invalid("codebook", _("The codebook is empty: add a code before exporting it."))
    return qdc.export_codebook(code_refs(codes), origin="Alliance")


@transaction.atomic
def codebook_merge(*, codebook: Codebook, codes: list[CodeRef]) -> tuple[int, int]:
    """Add codes by GUID (parents first), updating the ones already there.
    Returns (added, updated)."""
    refuse_if_closed(codebook.project, "file")
    existing = {str(c.guid).upper(): c for c in Code.objects.filter(codebook=codebook)}
    added = updated = 0
    for ref in codes:
        guid = qdc.guid_text(ref.guid)
        parent = existing.get(qdc.guid_text(ref.parent_guid)) if ref.parent_guid else None
        texts = codebooks.texts_from_description(ref.description or "")
        try:
            if guid in existing:
                existing[guid] = code_update(
                    code=existing[guid],
                    name=ref.name,
                    parent=parent,
                    colour=ref.color or existing[guid].colour,
                    is_codable=ref.is_codable or existing[guid].codings.exists(),
                    **texts,
                )
                updated += 1
            else:
                existing[guid] = code_create(
                    codebook=codebook,
                    name=ref.name,
                    parent=parent,
                    colour=ref.color or "#1F5F63",
                    is_codable=ref.is_codable,
                    guid=guid,
                    **texts,
                )
                added += 1
        except ValidationError as error:
            reasons = "; ".join(m for ms in error.message_dict.values() for m in ms)
            raise invalid(
                "file", _("Code %(name)s: %(reason)s") % {"name": ref.name, "reason": reasons}
            ) from None
    return added, updated


def codebook_import_qdc(*, codebook: Codebook, data: bytes) -> tuple[int, int]:
    """Import a REFI-QDA codebook (``.qdc``): all of it or, on any problem, nothing."""
    try:
        codes = qdc.import_codebook(data)
    except qdc.QdcError as error:
        raise invalid("file", str(error)) from None
    return codebook_merge(codebook=codebook, codes=codes)


# --- Coding --------------------------------------------------------------------------------


def passage_of(text: str, *, start=None, end=None, quote: str | None = None) -> tuple[int, int]:
    """The [start, end) of a passage given by positions or by quoting its exact words.
    Positions are Unicode codepoints from 0, end excluded."""
    if quote and quote.strip():
        return passage_quoted(text, quote.strip())
    if start in (None, "") or end in (None, ""):
        raise invalid("start", _("Select a passage, give its start and end, or quote its words."))
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise invalid("start", _("The start and end must be whole numbers.")) from None
    if start < 0 or start >= len(text):
        raise invalid(
            "start",
            _("The selection must lie within the text: start from 0 to %(last)d.")
            % {"last": max(len(text) - 1, 0)},
        )
    if end <= start or end > len(text):
        raise invalid(
            "end",
            _("The selection must lie within the text: end after the start, at most %(n)d.")
            % {"n": len(text)},
        )
    return start, end


def passage_quoted(text: str, quote: str) -> tuple[int, int]:
    """Find the quoted words: exactly, else ignoring case and differences in spacing."""
    found = [m.span() for m in re.finditer(re.escape(quote), text)]
    if not found:
        loose = r"\s+".join(re.escape(word) for word in quote.split())
        found = [m.span() for m in re.finditer(loose, text, re.IGNORECASE)]
    if not found:
        raise invalid("quote", _("These words are not in the text. Copy them exactly."))
    if len(found) > 1:
        raise invalid(
            "quote",
            _("These words appear %(n)d times in the text: quote a few more words.")
            % {"n": len(found)},
        )
    return found[0]


def checked_codes(document: ResearchDocument, codes: list[Code]) -> list[Code]:
    if not codes:
        raise invalid("codes", _("Choose at least one code."))
    for code in codes:
        if code.codebook.project_id != document.project_id:
            raise invalid(
                "codes", _("%(name)s is not in this project's codebook.") % {"name": code.name}
            )
        if not code.is_codable:
            raise invalid(
                "codes",
                _("%(name)s groups other codes and cannot be applied itself.")
                % {"name": code.name},
            )
    return codes


@transaction.atomic
def codings_apply(
    *,
    document: ResearchDocument,
    coder: User,
    codes: list[Code],
    start=None,
    end=None,
    quote: str | None = None,
    memo: str = "",
) -> list[Coding]:
    """Apply one or more codes to a passage. Applying the same code to the same passage
    again (a retry) returns the coding there: one coding, never two."""
    project = ResearchProject.objects.select_for_update().get(pk=document.project_id)
    if project.status != ProjectStatus.OPEN:
        raise invalid("codes", _("Coding has ended in this project."))
    checked_codes(document, codes)
    start, end = passage_of(document.text, start=start, end=end, quote=quote)
    memo = (memo or "").strip()
    if len(memo) > MAX_MEMO:
        raise invalid("memo", _("Keep the memo under %(n)d characters.") % {"n": MAX_MEMO})
    codings = []
    for code in codes:
        coding, created = Coding.objects.get_or_create(
            document=document, code=code, coder=coder, start=start, end=end, defaults={"memo": memo}
        )
        if not created and memo and coding.memo != memo:
            coding.memo = memo
            coding.save(update_fields=["memo"])
        codings.append(coding)
    return codings


@transaction.atomic
def coding_delete(*, coding: Coding, coder: User) -> None:
    if coding.coder_id != coder.pk:
        raise invalid("coding", _("You can remove only your own codings."))
    project = ResearchProject.objects.select_for_update().get(pk=coding.document.project_id)
    if project.status != ProjectStatus.OPEN:
        raise invalid("coding", _("Coding has ended in this project."))
    coding.delete()


@transaction.atomic
def document_set_done(*, document: ResearchDocument, coder: User, done: bool = True) -> bool:
    """Mark a document finished (every code not applied is judged absent), or reopen it."""
    project = ResearchProject.objects.select_for_update().get(pk=document.project_id)
    if project.status != ProjectStatus.OPEN:
        raise invalid("done", _("Coding has ended in this project."))
    if done:
        DocumentCompletion.objects.get_or_create(document=document, coder=coder)
    else:
        DocumentCompletion.objects.filter(document=document, coder=coder).delete()
    return done


# --- Consensus -----------------------------------------------------------------------------


def overlap(a: Coding, b: Coding) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def representative(codings: list[Coding]) -> Coding:
    """The passage that overlaps the others most (ties: the earliest)."""
    return max(
        codings, key=lambda c: (sum(overlap(c, o) for o in codings if o is not c), -c.start, -c.pk)
    )


def agreed_passage(codings: list[Coding]) -> tuple[int, int]:
    """The words every coder included: the common part of each coder's passage closest to
    the most shared one; where they share nothing, that most shared passage."""
    centre = representative(codings)
    closest: dict[int, Coding] = {}
    for coding in codings:
        best = closest.get(coding.coder_id)
        if best is None or overlap(coding, centre) > overlap(best, centre):
            closest[coding.coder_id] = coding
    start = max(c.start for c in closest.values())
    end = min(c.end for c in closest.values())
    return (start, end) if start < end else (centre.start, centre.end)


@transaction.atomic
def consensus_accept_unanimous(*, project: ResearchProject, actor: User) -> int:
    """Make consensus of every code that all coders who finished a document applied to it
    (one coder alone counts). Decisions already made are kept. Returns how many."""
    coders_of: dict[int, set[int]] = {}
    for document_id, coder_id in DocumentCompletion.objects.filter(
        document__project=project
    ).values_list("document_id", "coder_id"):
        coders_of.setdefault(document_id, set()).add(coder_id)
    codings: dict[tuple[int, int], list[Coding]] = {}
    for coding in Coding.objects.filter(document__project=project).only(
        "pk", "document_id", "code_id", "coder_id", "start", "end"
    ):
        codings.setdefault((coding.document_id, coding.code_id), []).append(coding)
    decided = set(
        ConsensusCoding.objects.filter(document__project=project).values_list(
            "document_id", "code_id"
        )
    )
    now = timezone.now()
    new = []
    for (document_id, code_id), found in codings.items():
        finished = coders_of.get(document_id, set())
        applied_by = {c.coder_id for c in found if c.coder_id in finished}
        if not finished or applied_by != finished or (document_id, code_id) in decided:
            continue
        start, end = agreed_passage([c for c in found if c.coder_id in finished])
        new.append(
            ConsensusCoding(
                document_id=document_id,
                code_id=code_id,
                applied=True,
                start=start,
                end=end,
                unanimous=True,
                decided_by=actor,
                reason=_("Every coder who finished the response applied this code."),
                decided_at=now,
            )
        )
    ConsensusCoding.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def consensus_decide(
    *,
    document: ResearchDocument,
    code: Code,
    actor: User,
    applied: bool,
    reason: str,
    start=None,
    end=None,
    quote: str | None = None,
) -> ConsensusCoding:
    """Settle one document and code: applied (with its passage) or not, who and why."""
    project = ResearchProject.objects.select_for_update().get(pk=document.project_id)
    if project.status != ProjectStatus.RECONCILIATION:
        raise invalid("applied", _("Consensus is decided while the project is in reconciliation."))
    checked_codes(document, [code])
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", _("Say why you decided this."))
    if len(reason) > MAX_REASON:
        raise invalid("reason", _("Keep the reason under %(n)d characters.") % {"n": MAX_REASON})
    if applied:
        start, end = passage_of(document.text, start=start, end=end, quote=quote)
    else:
        start = end = None
    consensus, _created = ConsensusCoding.objects.update_or_create(
        document=document,
        code=code,
        defaults={
            "applied": bool(applied),
            "start": start,
            "end": end,
            "unanimous": False,
            "decided_by": actor,
            "reason": reason,
            "decided_at": timezone.now(),
        },
    )
    return consensus


# --- Themes --------------------------------------------------------------------------------


def checked_theme(project: ResearchProject, name: str, codes: list[Code], theme: Theme | None):
    refuse_if_closed(project, "name")
    name = " ".join((name or "").split())
    if not name:
        raise invalid("name", _("Give the theme a name."))
    if len(name) > 200:
        raise invalid("name", _("Keep the name under 200 characters."))
    clash = Theme.objects.filter(project=project, name__iexact=name)
    if theme is not None:
        clash = clash.exclude(pk=theme.pk)
    if clash.exists():
        raise invalid("name", _("There is already a theme called %(name)s.") % {"name": name})
    for code in codes:
        if code.codebook.project_id != project.pk:
            raise invalid(
                "codes", _("%(name)s is not in this project's codebook.") % {"name": code.name}
            )
    return name


@transaction.atomic
def theme_create(
    *, project: ResearchProject, name: str, description: str = "", codes: list[Code] = ()
) -> Theme:
    name = checked_theme(project, name, list(codes), None)
    position = (Theme.objects.filter(project=project).aggregate(p=Max("position"))["p"] or 0) + 1
    theme = Theme.objects.create(
        project=project, name=name, description=description.strip(), position=position
    )
    theme.codes.set(codes)
    return theme


@transaction.atomic
def theme_update(
    *, theme: Theme, name: str, description: str = "", codes: list[Code] = ()
) -> Theme:
    theme.name = checked_theme(theme.project, name, list(codes), theme)
    theme.description = description.strip()
    theme.save(update_fields=["name", "description"])
    theme.codes.set(codes)
    return theme


@transaction.atomic
def theme_delete(*, theme: Theme) -> None:
    refuse_if_closed(theme.project, "name")
    theme.delete()


# --- REFI-QDA snapshots --------------------------------------------------------------------


def consensus_user_guid(project: ResearchProject) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alliance:consensus:{project.secret}")).upper()


def project_snapshot(*, project: ResearchProject) -> ProjectSnapshot:
    """The project for exchange: coders and a "Consensus" user, the codebook, the
    pseudonymised documents, and every coding (one selection per coder and passage with
    all the codes they applied to it) plus the consensus passages."""
    members = selectors.project_members(project)
    guid_of_user = {m.staff.user_id: str(m.guid).upper() for m in members}
    users = [UserRef(guid_of_user[m.staff.user_id], m.staff.user.display_name) for m in members]
    consensus_guid = consensus_user_guid(project)
    users.append(UserRef(consensus_guid, _("Consensus")))
    codes = selectors.project_codes(project)
    code_guid = {c.pk: str(c.guid).upper() for c in codes}
    documents = list(ResearchDocument.objects.filter(project=project).select_related("participant"))
    doc_guid = {d.pk: str(d.guid).upper() for d in documents}
    sources = [
        SourceRef(doc_guid[d.pk], f"{d.participant.pseudonym}_{d.question}", d.text)
        for d in documents
    ]
    grouped: dict[tuple, list[Coding]] = {}
    for coding in Coding.objects.filter(document__project=project).order_by("pk"):
        key = (coding.document_id, coding.coder_id, coding.start, coding.end)
        grouped.setdefault(key, []).append(coding)
    selections = []
    for (document_id, coder_id, start, end), found in grouped.items():
        coder = (
            guid_of_user.get(coder_id)
            or str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"alliance:user:{project.secret}:{coder_id}")
            ).upper()
        )
        selections.append(
            SelectionRef(
                guid=str(found[0].guid).upper(),
                source_guid=doc_guid[document_id],
                start=start,
                end=end,
                coder_guid=coder,
                code_guids=tuple(code_guid[c.code_id] for c in found),
            )
        )
    for consensus in ConsensusCoding.objects.filter(document__project=project, applied=True):
        selections.append(
            SelectionRef(
                guid=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"alliance:consensus-coding:{consensus.pk}")
                ).upper(),
                source_guid=doc_guid[consensus.document_id],
                start=consensus.start,
                end=consensus.end,
                coder_guid=consensus_guid,
                code_guids=(code_guid[consensus.code_id],),
            )
        )
    known_users = {u.guid for u in users}
    for selection in selections:
        if selection.coder_guid not in known_users:  # someone who has left the project
            users.append(UserRef(selection.coder_guid, _("Former member")))
            known_users.add(selection.coder_guid)
    return ProjectSnapshot(
        name=project.title,
        users=users,
        codes=code_refs(codes),
        sources=sources,
        selections=selections,
        description=project.description,
    )


@transaction.atomic
def project_import_snapshot(
    *, project: ResearchProject, snapshot: ProjectSnapshot, actor: User
) -> dict:
    """Bring back a project coded elsewhere: codes merged into the codebook by GUID, and
    the codings of sources that are this project's documents (matched by GUID, with the
    same text, so positions mean the same). Codings by a coder of this project stay
    theirs; codings by anyone else become the importing researcher's. Sources that are not
    this project's documents are not imported (research takes text only from consenting
    participants), nor are consensus selections: both are counted in the warnings.
    Everything, or nothing."""
    project = ResearchProject.objects.select_for_update().get(pk=project.pk)
    if project.status != ProjectStatus.OPEN:
        raise invalid(
            "file", _("Codings can be imported only while the project is open for coding.")
        )
    added, updated = codebook_merge(codebook=project.codebook, codes=list(snapshot.codes))
    codes = {str(c.guid).upper(): c for c in Code.objects.filter(codebook__project=project)}
    documents = {str(d.guid).upper(): d for d in ResearchDocument.objects.filter(project=project)}
    members = {str(m.guid).upper(): m.staff.user for m in selectors.project_members(project)}
    source_text = {qdc.guid_text(s.guid): s.text for s in snapshot.sources}
    warnings: list[str] = []
    unknown_sources = [g for g in source_text if g not in documents]
    changed = [
        g
        for g in source_text
        if g in documents and normalised_text(source_text[g]) != documents[g].text
    ]
    if unknown_sources:
        warnings.append(
            _("%(n)d sources are not documents of this project and were not imported.")
            % {"n": len(unknown_sources)}
        )
    if changed:
        warnings.append(
            _("%(n)d sources have a different text here; their codings were not imported.")
            % {"n": len(changed)}
        )
    consensus_guid = consensus_user_guid(project)
    created = skipped_consensus = 0
    for selection in snapshot.selections:
        source = qdc.guid_text(selection.source_guid)
        if source in unknown_sources or source in changed or source not in documents:
            continue
        coder_guid = qdc.guid_text(selection.coder_guid) if selection.coder_guid else None
        if coder_guid == consensus_guid:
            skipped_consensus += 1
            continue
        coder = members.get(coder_guid, actor)
        chosen = [
            codes[qdc.guid_text(g)] for g in selection.code_guids if qdc.guid_text(g) in codes
        ]
        chosen = [c for c in chosen if c.is_codable]
        if not chosen:
            continue
        document = documents[source]
        start, end = passage_of(document.text, start=selection.start, end=selection.end)
        for code in chosen:
            _coding, new = Coding.objects.get_or_create(
                document=document, code=code, coder=coder, start=start, end=end
            )
            created += new
    if skipped_consensus:
        warnings.append(
            _("%(n)d consensus passages were not imported: consensus is decided here.")
            % {"n": skipped_consensus}
        )
    return {
        "codes_added": added,
        "codes_updated": updated,
        "codings_added": created,
        "warnings": warnings,
    }


def project_export_qdpx(*, project: ResearchProject) -> bytes:
    """The project as a REFI-QDA ``.qdpx`` (written by ``qdpx.export_project``)."""
    from alliance.research import qdpx

    return qdpx.export_project(project_snapshot(project=project))


def project_import_qdpx(*, project: ResearchProject, data: bytes, actor: User) -> dict:
    """Read a ``.qdpx`` and bring its codes and codings into the project: a file that is
    unsafe or not valid REFI-QDA is refused with its reason, and nothing is imported.
    The summary's warnings name what the file held that Alliance does not import."""
    from alliance.research import qdpx

    try:
        snapshot, skipped = qdpx.import_project_with_warnings(data)
    except qdpx.QdpxError as error:
        raise invalid("file", error.message) from None
    summary = project_import_snapshot(project=project, snapshot=snapshot, actor=actor)
    summary["warnings"] = [*skipped, *summary["warnings"]]
    return summary


# --- Suggested themes ----------------------------------------------------------------------


def suggestion_start(*, project: ResearchProject, actor: User) -> ThemeSuggestion:
    """Queue a suggested-themes run over the project's responses (one at a time). The
    worker groups them; the lead then decides which groups become draft codes."""
    refuse_if_closed(project)
    with transaction.atomic():
        ResearchProject.objects.select_for_update().get(pk=project.pk)
        if ThemeSuggestion.objects.filter(
            project=project, status__in=[SuggestionStatus.QUEUED, SuggestionStatus.RUNNING]
        ).exists():
            raise invalid("status", _("Suggestions are being prepared already."))
        if not ResearchDocument.objects.filter(project=project).exists():
            raise invalid("status", _("The project has no responses to group yet."))
        suggestion = ThemeSuggestion.objects.create(project=project, requested_by=actor)

    def enqueue():
        from alliance.research.tasks import suggest_themes_task

        suggest_themes_task(suggestion_id=suggestion.pk)

    transaction.on_commit(enqueue)
    return suggestion


def themes_embedder() -> str | None:
    """``ALLIANCE_THEMES_EMBEDDER``: "minilm", "tfidf", or unset for the model when it is
    installed (TF-IDF otherwise)."""
    return getattr(settings, "ALLIANCE_THEMES_EMBEDDER", None) or None


PROGRESS_STEP = 0.02


def suggestion_run(*, suggestion_id: int, embedder=None) -> str:
    """Run one queued suggestion (the worker calls this). Claimed with a conditional update,
    so two workers never run the same one; progress is saved as it goes. Returns the
    final status."""
    from alliance.research import themes

    claimed = ThemeSuggestion.objects.filter(
        pk=suggestion_id, status=SuggestionStatus.QUEUED
    ).update(status=SuggestionStatus.RUNNING, progress=0.0)
    if not claimed:
        return "skipped"
    suggestion = ThemeSuggestion.objects.get(pk=suggestion_id)
    documents = list(
        ResearchDocument.objects.filter(project_id=suggestion.project_id)
        .order_by("pk")
        .values_list("pk", "text")
    )
    embedder = embedder or themes_embedder()
    backend = embedder if isinstance(embedder, str) else themes.embedding_backend()
    saved = [0.0]

    def progress(fraction: float) -> None:
        if fraction - saved[0] >= PROGRESS_STEP or fraction >= 1.0:
            saved[0] = fraction
            ThemeSuggestion.objects.filter(pk=suggestion_id).update(progress=min(fraction, 1.0))

    try:
        found = themes.suggest_themes(
            [text for _pk, text in documents], progress=progress, embedder=embedder
        )
    except Exception as error:  # the run fails, visibly; the project is untouched
        logger.exception("suggested themes %s failed", suggestion_id)
        ThemeSuggestion.objects.filter(pk=suggestion_id).update(
            status=SuggestionStatus.FAILED,
            error=str(error)[:500] or error.__class__.__name__,
            finished_at=timezone.now(),
        )
        return SuggestionStatus.FAILED
    ids = [pk for pk, _text in documents]
    groups = [
        {
            "label_words": list(theme.label_words),
            "document_ids": [ids[i] for i in theme.member_indices],
            "typical_document_id": ids[theme.typical_index],
        }
        for theme in found
    ]
    ThemeSuggestion.objects.filter(pk=suggestion_id).update(
        status=SuggestionStatus.DONE,
        progress=1.0,
        backend=backend,
        groups=groups,
        finished_at=timezone.now(),
    )
    return SuggestionStatus.DONE


@transaction.atomic
def suggestion_add_code(*, suggestion: ThemeSuggestion, index: int) -> Code:
    """Offer one suggested group as a draft code in the codebook (named by its typical
    words, its typical response as the example). Nothing is coded."""
    if suggestion.status != SuggestionStatus.DONE or not 0 <= index < len(suggestion.groups):
        raise invalid("group", _("Choose one of the suggested groups."))
    group = suggestion.groups[index]
    project = suggestion.project
    words = ", ".join(group["label_words"]) or _("group %(n)d") % {"n": index + 1}
    name = _("Draft: %(words)s") % {"words": words}
    taken = set(
        Code.objects.filter(codebook__project=project, parent=None).values_list("name", flat=True)
    )
    base, number = name, 2
    while name in taken:
        name, number = f"{base} ({number})", number + 1
    typical = ResearchDocument.objects.filter(
        pk=group["typical_document_id"], project=project
    ).first()
    return code_create(
        codebook=project.codebook,
        name=name[:200],
        definition=_(
            "A draft from suggested themes: %(n)d responses that share these words. "
            "Write the definition before coding with it."
        )
        % {"n": len(group["document_ids"])},
        example=f"“{typical.text[:300]}”" if typical else "",
        colour="#4A5A68",
    )
