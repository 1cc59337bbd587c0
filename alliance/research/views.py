"""Pages of the research app: the patient's research consent, and the researchers'
workspace (projects, documents, coding, codebook, agreement, reconciliation, themes,
report). Every project page fetches the project through ``selectors.access_project``;
research pages show pseudonyms and pseudonymised text only."""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.content.models import Programme
from alliance.research import agreement, codebooks, selectors, services
from alliance.research.forms import (
    CodeForm,
    CodingForm,
    ConsentForm,
    DecideForm,
    FileForm,
    MemberForm,
    ProjectForm,
    StarterForm,
    ThemeForm,
    add_service_errors,
)
from alliance.research.models import (
    Code,
    Coding,
    MemberRole,
    ProjectMember,
    ProjectStatus,
    ResearchProject,
    Theme,
)

# --- The patient's consent -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    patient = selectors.own_patient(request.user)
    document = selectors.consent_document_current()
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "withdraw":
        removed = services.consent_withdraw(patient=patient, request=request)
        messages.success(
            request,
            _(
                "You have withdrawn your consent. Your answers are no longer used in research "
                "that is still going on (%(n)d removed)."
            )
            % {"n": removed},
        )
        return redirect("research:consent")
    if request.method == "POST" and document is not None and form.is_valid():
        try:
            services.consent_give(patient=patient, document=document, request=request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you. Your consent to research is recorded."))
            return redirect("research:consent")
    context = {
        "document": document,
        "in_force": selectors.consent_in_force(patient),
        "history": selectors.consent_history(patient),
        "form": form,
    }
    return render(request, "research/consent.html", context, status=400 if form.errors else 200)


# --- Helpers -------------------------------------------------------------------------------


def researcher_only(request: HttpRequest) -> None:
    if not selectors.does_research(request.user):
        raise Http404("Not found.")


def project_context(member: ProjectMember, section: str, **extra) -> dict:
    return {"project": member.project, "member": member, "section": section, **extra}


def require_lead(member: ProjectMember) -> None:
    if member.role != MemberRole.LEAD:
        raise PermissionDenied(_("Only the project lead can do this."))


def require_coder(member: ProjectMember) -> None:
    if member.role not in (MemberRole.LEAD, MemberRole.CODER):
        raise PermissionDenied(_("Only the project's coders can code."))


def require_decider(member: ProjectMember) -> None:
    if member.role not in (MemberRole.LEAD, MemberRole.ADJUDICATOR):
        raise PermissionDenied(_("Only the project lead or an adjudicator decides consensus."))


def code_choices(codes: list[Code], *, codable_only: bool = False) -> list[tuple[int, str]]:
    return [(c.pk, "— " * c.depth + c.name) for c in codes if c.is_codable or not codable_only]


# --- Projects ------------------------------------------------------------------------------


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    researcher_only(request)
    projects = (
        selectors.projects_visible_to(request.user)
        .select_related("lead__user")
        .order_by("-created_at")
    )
    return render(request, "research/project_list.html", {"projects": projects})


def project_form(request: HttpRequest, data=None) -> ProjectForm:
    profile = request.user.staff_profile
    questions = services.open_questions(profile.service)
    programmes = sorted(set(Programme.objects.values_list("key", "title").order_by("key")))
    return ProjectForm(
        data,
        instruments=[(code, code) for code in sorted(questions)],
        questions=[
            (key, f"{code}: {text}")
            for code, items in sorted(questions.items())
            for key, text in items.items()
        ],
        programmes=list(dict(programmes).items()),
        coders=[
            (s.pk, s.user.display_name)
            for s in selectors.researchers_of(profile.service_id).exclude(pk=profile.pk)
        ],
        starters=[(key, book.title) for key, book in codebooks.starter_codebooks().items()],
        initial={"instruments": ["feedback"] if "feedback" in questions else [], "blind": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    researcher_only(request)
    form = project_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        profile = request.user.staff_profile
        coders = list(selectors.researchers_of(profile.service_id).filter(pk__in=data["coders"]))
        try:
            project = services.project_create(
                lead=profile,
                title=data["title"],
                description=data["description"],
                instruments=data["instruments"],
                questions=data["questions"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                programmes=data["programmes"],
                blind=data["blind"],
                coders=coders,
                starter=data["starter"] or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The project is ready with %(n)d answers from consenting participants.")
                % {"n": project.documents.count()},
            )
            return redirect("research:project_detail", project.pk)
    status = 400 if form.errors else 200
    return render(request, "research/project_form.html", {"form": form}, status=status)


def detail_context(member: ProjectMember, **extra) -> dict:
    project = member.project
    researchers = selectors.researchers_of(project.service_id).exclude(
        pk__in=project.members.values("staff_id")
    )
    context = {
        "members": selectors.project_members(project),
        "documents": project.documents.count(),
        "participants": project.participants.count(),
        "codes": project.codebook.codes.count(),
        "member_form": MemberForm(researchers=[(s.pk, s.user.display_name) for s in researchers]),
        "import_form": FileForm(),
        "exchange": qdpx_module() is not None,
        "next_statuses": sorted(services.TRANSITIONS[ProjectStatus(project.status)]),
        "statuses": dict(ProjectStatus.choices),
    }
    context.update(extra)
    return project_context(member, "overview", **context)


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    return render(request, "research/project_detail.html", detail_context(member))


@login_required
@require_POST
def project_refresh(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    try:
        added = services.project_refresh_documents(project=member.project)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(n)d new answers added.") % {"n": added})
    return redirect("research:project_detail", project_id)


@login_required
@require_POST
def member_add(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    project = member.project
    researchers = selectors.researchers_of(project.service_id)
    form = MemberForm(request.POST, researchers=[(s.pk, s.user.display_name) for s in researchers])
    if form.is_valid():
        staff = researchers.get(pk=form.cleaned_data["staff_id"])
        try:
            services.project_add_member(
                project=project, staff=staff, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            add_service_errors(form, error, "staff_id")
        else:
            messages.success(
                request, _("%(name)s has joined the project.") % {"name": staff.user.display_name}
            )
            return redirect("research:project_detail", project_id)
    return render(
        request,
        "research/project_detail.html",
        detail_context(member, member_form=form),
        status=400,
    )


@login_required
@require_POST
def project_status(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    try:
        services.project_set_status(
            project=member.project, status=request.POST.get("status", ""), actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The project's status is changed."))
    return redirect("research:project_detail", project_id)


# --- Documents and coding ------------------------------------------------------------------


@login_required
def document_list(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    rows = selectors.document_rows(member.project, request.user)
    finished = sum(1 for r in rows if r.done)
    context = project_context(member, "documents", rows=rows, finished=finished)
    return render(request, "research/document_list.html", context)


SHORTCUTS = 9


def coding_context(member: ProjectMember, document, form=None, **extra) -> dict:
    project = member.project
    user = member.staff.user
    codes = selectors.project_codes(project)
    codable = [c for c in codes if c.is_codable]
    for number, code in enumerate(codable[:SHORTCUTS], start=1):
        code.shortcut = number
    codings = selectors.visible_codings(project, document, user)
    before, after = selectors.neighbours(project, document)
    form = form or CodingForm(codes=code_choices(codes, codable_only=True))
    selected = set(form["codes"].value() or []) if form.is_bound else set()
    return project_context(
        member,
        "documents",
        document=document,
        segments=selectors.segments(document.text, codings),
        codings=codings,
        codable=codable,
        selected={int(v) for v in selected if str(v).isdigit()},
        form=form,
        done=document.completions.filter(coder=user).exists(),
        previous_id=before,
        next_id=after,
        can_code=member.role in (MemberRole.LEAD, MemberRole.CODER)
        and project.status == ProjectStatus.OPEN,
        **extra,
    )


@login_required
@require_http_methods(["GET", "POST"])
def code_document(request: HttpRequest, project_id: int, document_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    project = member.project
    document = selectors.project_document(project, document_id)
    if request.method == "GET":
        return render(request, "research/code_document.html", coding_context(member, document))
    require_coder(member)
    codes = selectors.project_codes(project)
    form = CodingForm(request.POST, codes=code_choices(codes, codable_only=True))
    if form.is_valid():
        data = form.cleaned_data
        by_pk = {c.pk: c for c in codes}
        start, end = data["start"], data["end"]
        if data["whole"]:
            start, end = 0, len(document.text)
        try:
            services.codings_apply(
                document=document,
                coder=request.user,
                codes=[by_pk[pk] for pk in data["codes"]],
                start=start,
                end=end,
                quote=None if data["whole"] else data["quote"],
                memo=data["memo"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Coded."))
            return redirect("research:code_document", project_id, document_id)
    return render(
        request, "research/code_document.html", coding_context(member, document, form), status=400
    )


@login_required
@require_POST
def document_done(request: HttpRequest, project_id: int, document_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_coder(member)
    document = selectors.project_document(member.project, document_id)
    done = request.POST.get("done") != "0"
    try:
        services.document_set_done(document=document, coder=request.user, done=done)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("research:code_document", project_id, document_id)
    if done:
        messages.success(request, _("Marked as finished."))
        after = selectors.neighbours(member.project, document)[1]
        if after is not None:
            return redirect("research:code_document", project_id, after)
    return redirect("research:code_document", project_id, document_id)


@login_required
@require_POST
def coding_delete(request: HttpRequest, project_id: int, coding_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    coding = (
        Coding.objects.select_related("document")
        .filter(pk=coding_id, document__project=member.project, coder=request.user)
        .first()
    )
    if coding is None:
        raise Http404("Not found.")
    try:
        services.coding_delete(coding=coding, coder=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The coding is removed."))
    return redirect("research:code_document", project_id, coding.document_id)


# --- Codebook ------------------------------------------------------------------------------


def codebook_context(member: ProjectMember, **extra) -> dict:
    codes = selectors.project_codes(member.project)
    starters = [(k, b.title) for k, b in codebooks.starter_codebooks().items()]
    context = {
        "codes": codes,
        "code_form": CodeForm(parents=code_choices(codes)),
        "starter_form": StarterForm(starters=starters),
        "import_form": FileForm(),
        "can_edit": member.role == MemberRole.LEAD
        and member.project.status != ProjectStatus.CLOSED,
    }
    context.update(extra)
    return project_context(member, "codebook", **context)


@login_required
@require_http_methods(["GET", "POST"])
def codebook(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    if request.method == "GET":
        return render(request, "research/codebook.html", codebook_context(member))
    require_lead(member)
    codes = selectors.project_codes(member.project)
    form = CodeForm(request.POST, parents=code_choices(codes))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.code_create(
                codebook=member.project.codebook,
                parent=next((c for c in codes if c.pk == data["parent"]), None),
                **{k: v for k, v in data.items() if k != "parent"},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The code %(name)s is added.") % {"name": data["name"]})
            return redirect("research:codebook", project_id)
    return render(
        request, "research/codebook.html", codebook_context(member, code_form=form), status=400
    )


def project_code(member: ProjectMember, code_id: int) -> Code:
    code = Code.objects.filter(pk=code_id, codebook__project=member.project).first()
    if code is None:
        raise Http404("Not found.")
    return code


@login_required
@require_http_methods(["GET", "POST"])
def code_edit(request: HttpRequest, project_id: int, code_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    code = project_code(member, code_id)
    codes = selectors.project_codes(member.project)
    parents = [
        (c.pk, n) for c, (_pk, n) in zip(codes, code_choices(codes), strict=True) if c.pk != code.pk
    ]
    initial = {f: getattr(code, f) for f in ("name", *services.CODE_TEXTS, "colour", "is_codable")}
    initial["parent"] = code.parent_id
    form = CodeForm(request.POST or None, parents=parents, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.code_update(
                code=code,
                parent=next((c for c in codes if c.pk == data["parent"]), None),
                **{k: v for k, v in data.items() if k != "parent"},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The code is saved."))
            return redirect("research:codebook", project_id)
    context = project_context(member, "codebook", code=code, form=form)
    return render(request, "research/code_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def code_delete(request: HttpRequest, project_id: int, code_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    code = project_code(member, code_id)
    try:
        services.code_delete(code=code)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The code is deleted."))
    return redirect("research:codebook", project_id)


@login_required
@require_POST
def codebook_starter(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    starters = [(k, b.title) for k, b in codebooks.starter_codebooks().items()]
    form = StarterForm(request.POST, starters=starters)
    if form.is_valid():
        try:
            added = services.codebook_load_starter(
                codebook=member.project.codebook, key=form.cleaned_data["starter"]
            )
        except ValidationError as error:
            add_service_errors(form, error, "starter")
        else:
            messages.success(request, _("%(n)d codes added.") % {"n": added})
            return redirect("research:codebook", project_id)
    return render(
        request, "research/codebook.html", codebook_context(member, starter_form=form), status=400
    )


MAX_UPLOAD = 60 * 1024 * 1024


def uploaded_bytes(form: FileForm) -> bytes:
    upload = form.cleaned_data["file"]
    if upload.size > MAX_UPLOAD:
        raise ValidationError({"file": [_("The file is too large.")]})
    return upload.read()


@login_required
@require_POST
def codebook_import(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added, updated = services.codebook_import_qdc(
                codebook=member.project.codebook, data=uploaded_bytes(form)
            )
        except ValidationError as error:
            add_service_errors(form, error, "file")
        else:
            messages.success(
                request,
                _("Codebook imported: %(a)d codes added, %(u)d updated.")
                % {"a": added, "u": updated},
            )
            return redirect("research:codebook", project_id)
    return render(
        request, "research/codebook.html", codebook_context(member, import_form=form), status=400
    )


def download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def file_stem(project: ResearchProject) -> str:
    return slugify(project.title) or f"project-{project.pk}"


@login_required
def codebook_export(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    try:
        data = services.codebook_export_qdc(codebook=member.project.codebook)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("research:codebook", project_id)
    return download(data, f"{file_stem(member.project)}.qdc", "application/xml")


# --- Agreement and reconciliation ----------------------------------------------------------

KAPPA_WORDS = {
    "poor": _("poor"),
    "slight": _("slight"),
    "fair": _("fair"),
    "moderate": _("moderate"),
    "substantial": _("substantial"),
    "almost perfect": _("almost perfect"),
}
ALPHA_WORDS = {
    "reliable": _("reliable"),
    "tentative": _("tentative only"),
    "unreliable": _("not reliable"),
}


def stat_row(name: str, stats: agreement.Statistics) -> dict:
    return {
        "name": name,
        "stats": stats,
        "agreement": percent(stats.percent_agreement),
        "kappa_word": KAPPA_WORDS.get(agreement.kappa_band(stats.cohen_kappa), ""),
        "alpha_word": ALPHA_WORDS.get(agreement.alpha_band(stats.krippendorff_alpha), ""),
    }


@login_required
def agreement_page(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    project = member.project
    found = selectors.project_agreement(project, with_documents=False)
    rows = [stat_row(code.name, stats) for code, stats in found.rows()]
    context = project_context(
        member,
        "agreement",
        found=found,
        rows=rows,
        overall=stat_row(_("Overall (codes used at least once)"), found.report.overall),
        units=found.report.overall.units,
        two_coders=len(found.coders) == 2,
        disagreements=len(found.report.disagreements),
    )
    return render(request, "research/agreement.html", context)


@login_required
def reconcile(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    project = member.project
    rows = [] if project.others_hidden else selectors.disagreement_rows(project)
    context = project_context(
        member,
        "reconcile",
        rows=rows,
        decided=sum(1 for r in rows if r.decision),
        can_decide=member.role in (MemberRole.LEAD, MemberRole.ADJUDICATOR)
        and project.status == ProjectStatus.RECONCILIATION,
    )
    return render(request, "research/reconcile.html", context)


def candidate_passages(document, codings: list[Coding]) -> list[tuple[str, str]]:
    seen, passages = set(), []
    for coding in codings:
        key = f"{coding.start}-{coding.end}"
        if key in seen:
            continue
        seen.add(key)
        words = document.text[coding.start : coding.end]
        label = _("“%(words)s” (characters %(start)d–%(end)d, by %(who)s)") % {
            "words": words,
            "start": coding.start,
            "end": coding.end,
            "who": coding.coder.display_name,
        }
        passages.append((key, label))
    return passages


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, project_id: int, document_id: int, code_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    project = member.project
    if project.others_hidden:
        raise Http404("Not found.")
    document = selectors.project_document(project, document_id)
    code = project_code(member, code_id)
    codings = [
        c
        for c in selectors.visible_codings(project, document, request.user)
        if c.code_id == code.pk
    ]
    passages = candidate_passages(document, codings)
    current = document.consensus.filter(code=code).select_related("decided_by").first()
    if current is not None and current.applied:
        current.passage = document.text[current.start : current.end]
    form = DecideForm(request.POST or None, passages=passages)
    if request.method == "POST":
        require_decider(member)
        if form.is_valid():
            data = form.cleaned_data
            start, end, quote = data["start"], data["end"], data["quote"]
            if data["passage"] and data["passage"] != "other":
                start, end = (int(v) for v in data["passage"].split("-"))
                quote = None
            try:
                services.consensus_decide(
                    document=document,
                    code=code,
                    actor=request.user,
                    applied=data["applied"],
                    reason=data["reason"],
                    start=start,
                    end=end,
                    quote=quote,
                )
            except ValidationError as error:
                add_service_errors(form, error, "applied")
            else:
                messages.success(request, _("The consensus is recorded."))
                return redirect("research:reconcile", project_id)
    context = project_context(
        member,
        "reconcile",
        document=document,
        code=code,
        codings=codings,
        segments=selectors.segments(document.text, codings),
        form=form,
        current=current,
        can_decide=member.role in (MemberRole.LEAD, MemberRole.ADJUDICATOR)
        and project.status == ProjectStatus.RECONCILIATION,
    )
    return render(request, "research/decide.html", context, status=400 if form.errors else 200)


# --- Themes and the report -----------------------------------------------------------------


def theme_context(member: ProjectMember, **extra) -> dict:
    codes = selectors.project_codes(member.project)
    context = {
        "themes": selectors.project_themes(member.project),
        "form": ThemeForm(codes=code_choices(codes, codable_only=True)),
        "can_edit": member.role == MemberRole.LEAD
        and member.project.status != ProjectStatus.CLOSED,
    }
    context.update(extra)
    return project_context(member, "themes", **context)


def codes_by_pk(project: ResearchProject, pks) -> list[Code]:
    return list(Code.objects.filter(codebook__project=project, pk__in=pks))


@login_required
@require_http_methods(["GET", "POST"])
def themes(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    if request.method == "GET":
        return render(request, "research/themes.html", theme_context(member))
    require_lead(member)
    codes = selectors.project_codes(member.project)
    form = ThemeForm(request.POST, codes=code_choices(codes, codable_only=True))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.theme_create(
                project=member.project,
                name=data["name"],
                description=data["description"],
                codes=codes_by_pk(member.project, data["codes"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The theme is added."))
            return redirect("research:themes", project_id)
    return render(request, "research/themes.html", theme_context(member, form=form), status=400)


def project_theme(member: ProjectMember, theme_id: int) -> Theme:
    theme = Theme.objects.filter(pk=theme_id, project=member.project).first()
    if theme is None:
        raise Http404("Not found.")
    return theme


@login_required
@require_http_methods(["GET", "POST"])
def theme_edit(request: HttpRequest, project_id: int, theme_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    theme = project_theme(member, theme_id)
    codes = selectors.project_codes(member.project)
    initial = {
        "name": theme.name,
        "description": theme.description,
        "codes": list(theme.codes.values_list("pk", flat=True)),
    }
    form = ThemeForm(
        request.POST or None, codes=code_choices(codes, codable_only=True), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.theme_update(
                theme=theme,
                name=data["name"],
                description=data["description"],
                codes=codes_by_pk(member.project, data["codes"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The theme is saved."))
            return redirect("research:themes", project_id)
    context = project_context(member, "themes", theme=theme, form=form)
    return render(request, "research/theme_edit.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def theme_delete(request: HttpRequest, project_id: int, theme_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    try:
        services.theme_delete(theme=project_theme(member, theme_id))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The theme is deleted."))
    return redirect("research:themes", project_id)


def percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


CSV_HEADER = [
    "theme",
    "code",
    "responses",
    "participants",
    "share_of_participants_percent",
    "quote_1",
    "quote_2",
    "quote_3",
]


def report_csv_rows(report: selectors.Report):
    for section in report.sections:
        theme = section.theme.name if section.theme else ""
        rows = ([section.total] if section.total else []) + section.rows
        for row in rows:
            quotes = (row.quotes + ["", "", ""])[:3]
            yield [
                theme,
                row.code.name if row.code else "",
                row.responses,
                row.participants,
                row.share_percent,
                *quotes,
            ]


def csv_safe(value) -> str:
    """Cells that a spreadsheet would run as a formula start with a quote instead."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def report(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    found = selectors.project_report(member.project)
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for row in report_csv_rows(found):
            writer.writerow([csv_safe(v) for v in row])
        return download(
            buffer.getvalue().encode("utf-8"),
            f"{file_stem(member.project)}-report.csv",
            "text/csv; charset=utf-8",
        )
    return render(request, "research/report.html", project_context(member, "report", report=found))


# --- REFI-QDA project exchange -------------------------------------------------------------


def qdpx_module():
    """The exchange module, written beside this app; absent, exchange is not offered."""
    try:
        from alliance.research import qdpx
    except ImportError:  # pragma: no cover - only before the module exists
        return None
    return qdpx


@login_required
def project_export(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    qdpx = qdpx_module()
    if qdpx is None:
        raise Http404("Not found.")
    if member.project.others_hidden and member.role != MemberRole.LEAD:
        raise PermissionDenied(_("During blind coding only the project lead can export."))
    data = services.project_export_qdpx(project=member.project)
    return download(data, f"{file_stem(member.project)}.qdpx", "application/zip")


@login_required
@require_POST
def project_import(request: HttpRequest, project_id: int) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    qdpx = qdpx_module()
    if qdpx is None:
        raise Http404("Not found.")
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            summary = services.project_import_qdpx(
                project=member.project, data=uploaded_bytes(form), actor=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error, "file")
        else:
            messages.success(
                request,
                _("Imported: %(codes)d codes added, %(codings)d codings added.")
                % {"codes": summary["codes_added"], "codings": summary["codings_added"]},
            )
            for warning in summary["warnings"]:
                messages.warning(request, warning)
            return redirect("research:project_detail", project_id)
    return render(
        request,
        "research/project_detail.html",
        detail_context(member, import_form=form),
        status=400,
    )


# --- Suggested themes ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def suggestions(request: HttpRequest, project_id: int) -> HttpResponse:
    """The lead's suggested themes: start a run, follow its progress, and turn a group
    into a draft code. Kept from coders, so suggestions never steer blind coding."""
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    project = member.project
    if request.method == "POST":
        try:
            services.suggestion_start(project=project, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The responses are being grouped. This page follows it."))
        return redirect("research:suggestions", project_id)
    from alliance.research import themes as suggested

    latest = selectors.latest_suggestion(project)
    context = project_context(
        member,
        "codebook",
        suggestion=latest,
        groups=selectors.suggested_groups(latest),
        backend=services.themes_embedder() or suggested.embedding_backend(),
        running=latest is not None and latest.status in ("queued", "running"),
        percent=round((latest.progress if latest else 0) * 100),
    )
    return render(request, "research/suggestions.html", context)


@login_required
@require_POST
def suggestion_add_code(
    request: HttpRequest, project_id: int, suggestion_id: int, index: int
) -> HttpResponse:
    member = selectors.access_project(request.user, project_id)
    require_lead(member)
    suggestion = member.project.suggestions.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise Http404("Not found.")
    try:
        code = services.suggestion_add_code(suggestion=suggestion, index=index)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is in the codebook: write its definition before coding with it.")
            % {"name": code.name},
        )
    return redirect("research:suggestions", project_id)
