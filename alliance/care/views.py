"""Pages of the care app: the patient's week and module reader; the supporter's plan page."""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.care import forms, selectors, services
from alliance.care.models import EndReason, Episode, Homework
from alliance.care.plans import ModuleState
from alliance.checkins.exercises import EXERCISE_TITLES
from alliance.content.models import Page
from alliance.measures.instruments import builtin_instruments
from alliance.measures.selectors import due_questionnaires

EXERCISE_SLOT = re.compile(r'<p class="exercise-slot" data-exercise="([a-z_]+)"></p>')


def own_patient(request: HttpRequest) -> Patient:
    patient = request.user.patient_or_none
    if patient is None:
        raise Http404("Not found.")
    return patient


@login_required
def week(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    context = {
        "week": selectors.patient_week(patient),
        "patient": patient,
        "due": due_questionnaires(patient),
        "instruments": builtin_instruments(),
    }
    return render(request, "care/week.html", context)


@login_required
def module_resume(request: HttpRequest, assignment_id: int) -> HttpResponse:
    _episode, row = selectors.patient_assignment_row(own_patient(request), assignment_id)
    if not row.is_open:
        return render(request, "care/module_locked.html", {"row": row}, status=403)
    page = min(max(row.assignment.resume_page, 1), max(row.page_count, 1))
    return redirect("care:module_page", assignment_id, page)


def exercise_link(kind: str, row, page_number: int) -> str:
    back = reverse("care:module_page", args=[row.assignment.pk, page_number])
    query = urlencode({"next": back, "module": row.module.key})
    return reverse("checkins:entry_new", args=[kind]) + "?" + query


def page_body(page: Page, row, page_number: int) -> str:
    """The page's sanitised HTML with each exercise slot made into a link to the exercise."""

    def card(match: re.Match) -> str:
        kind = match.group(1)
        return render_to_string(
            "care/_exercise_slot.html",
            {
                "title": EXERCISE_TITLES.get(kind, kind),
                "href": exercise_link(kind, row, page_number),
            },
        )

    return mark_safe(EXERCISE_SLOT.sub(card, page.body_html))  # noqa: S308  (sanitised at load)


@login_required
@require_http_methods(["GET", "POST"])
def module_page(request: HttpRequest, assignment_id: int, page_number: int) -> HttpResponse:
    _episode, row = selectors.patient_assignment_row(own_patient(request), assignment_id)
    if not row.is_open:
        return render(request, "care/module_locked.html", {"row": row}, status=403)
    page = Page.objects.filter(module=row.module, position=page_number).first()
    if page is None:
        raise Http404("Not found.")
    if request.method == "POST":
        finished = services.page_complete(
            assignment=row.assignment,
            page_number=page_number,
            page_count=row.page_count,
            state=row.state.state,
        )
        if page_number < row.page_count:
            return redirect("care:module_page", assignment_id, page_number + 1)
        if finished:
            messages.success(
                request, _("Well done: you finished “%(title)s”.") % {"title": row.module.title}
            )
        return redirect("care:week")
    services.page_visit(assignment=row.assignment, page_number=page_number)
    context = {
        "row": row,
        "page": page,
        "body": page_body(page, row, page_number),
        "page_number": page_number,
        "previous": page_number - 1 if page_number > 1 else None,
        "is_last": page_number == row.page_count,
    }
    return render(request, "care/module_page.html", context)


@login_required
@require_POST
def homework_toggle(request: HttpRequest, homework_id: int) -> HttpResponse:
    patient = own_patient(request)
    homework = Homework.objects.filter(pk=homework_id, episode__patient=patient).first()
    if homework is None:
        raise Http404("Not found.")
    services.homework_set_done(homework=homework, done=request.POST.get("done") == "1")
    return redirect("care:week")


# --- Staff: the plan page ------------------------------------------------------------


def staff_patient(request: HttpRequest, patient_id: int, what: str) -> Patient:
    if policy.staff_role(request.user) is None:
        raise Http404("Not found.")
    return policy.access_patient(request.user, patient_id, what=what, request=request)


def plan_context(request: HttpRequest, patient: Patient, **extra) -> dict:
    episode = selectors.active_episode(patient)
    context = {
        "patient": patient,
        "episode": episode,
        "rows": selectors.plan_rows(episode) if episode else [],
        "can_tailor": policy.can_tailor_plan(request.user),
        "States": ModuleState,
        "end_reasons": EndReason.choices,
    }
    if context["can_tailor"]:
        if episode is None:
            context["start_form"] = forms.EpisodeStartForm(patient=patient)
        else:
            context["addon_form"] = forms.AddonForm(episode=episode)
            context["homework_form"] = forms.HomeworkForm()
    context.update(extra)
    return context


@login_required
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = staff_patient(request, patient_id, "plan")
    return render(request, "care/plan.html", plan_context(request, patient))


def tailoring_patient(request: HttpRequest, patient_id: int) -> Patient:
    patient = staff_patient(request, patient_id, "plan")
    if not policy.can_tailor_plan(request.user):
        raise PermissionDenied(_("Only the patient's supporter or supervisor can do this."))
    return patient


def tailoring_episode(request: HttpRequest, patient_id: int) -> tuple[Patient, Episode]:
    """The patient and their active episode, for someone who may tailor the plan."""
    patient = tailoring_patient(request, patient_id)
    episode = selectors.active_episode(patient)
    if episode is None:
        raise Http404("Not found.")
    return patient, episode


def plan_error(request, patient, error: ValidationError, assignment=None) -> HttpResponse:
    """The plan page with the errors; a module's error names the module and links to its
    field, which is marked as wrong."""
    messages_ = [m for field_messages in error.message_dict.values() for m in field_messages]
    anchor = ""
    if assignment is not None:
        field = "position" if "position" in error.message_dict else "reason"
        anchor = f"{'pos' if field == 'position' else 'reason'}-{assignment.pk}"
        messages_ = [f"{assignment.module.title}: {m}" for m in messages_]
    context = plan_context(request, patient, errors=messages_, error_anchor=anchor,
                           error_assignment=assignment.pk if assignment else None)
    return render(request, "care/plan.html", context, status=400)


PLAN_ACTIONS = {
    "unlock": lambda a, r, u: services.plan_unlock(assignment=a, actor=u, request=r),
    "skip": lambda a, r, u: services.plan_skip(assignment=a, actor=u, request=r),
    "reinstate": lambda a, r, u: services.plan_reinstate(assignment=a, actor=u, request=r),
    "waive": lambda a, r, u: services.plan_waive(
        assignment=a, reason=r.POST.get("reason", ""), actor=u, request=r
    ),
    "move": lambda a, r, u: services.plan_move(
        assignment=a, position=int(r.POST.get("position") or 0), actor=u, request=r
    ),
}


@login_required
@require_POST
def plan_action(
    request: HttpRequest, patient_id: int, assignment_id: int, action: str
) -> HttpResponse:
    patient, episode = tailoring_episode(request, patient_id)
    assignment = (
        episode.assignments.select_related("module", "episode__patient")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or action not in PLAN_ACTIONS:
        raise Http404("Not found.")
    try:
        PLAN_ACTIONS[action](assignment, request, request.user)
    except (ValidationError, ValueError) as error:
        if isinstance(error, ValueError):
            error = ValidationError({"position": _("Choose a position as a number.")})
        return plan_error(request, patient, error, assignment)
    messages.success(request, _("The plan was updated."))
    return redirect("care:plan", patient.pk)


@login_required
@require_POST
def plan_addon(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, episode = tailoring_episode(request, patient_id)
    form = forms.AddonForm(request.POST, episode=episode)
    if not form.is_valid():
        return render(
            request, "care/plan.html", plan_context(request, patient, addon_form=form), status=400
        )
    try:
        services.plan_add_addon(
            episode=episode, module=form.cleaned_data["module"], actor=request.user, request=request
        )
    except ValidationError as error:
        return plan_error(request, patient, error)
    messages.success(request, _("The module was added to the plan and unlocked."))
    return redirect("care:plan", patient.pk)


@login_required
@require_POST
def episode_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = tailoring_patient(request, patient_id)
    form = forms.EpisodeStartForm(request.POST, patient=patient)
    if form.is_valid():
        try:
            services.episode_start(
                patient=patient, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("The episode has started."))
            return redirect("care:plan", patient.pk)
    return render(
        request, "care/plan.html", plan_context(request, patient, start_form=form), status=400
    )


@login_required
@require_POST
def episode_end(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, episode = tailoring_episode(request, patient_id)
    try:
        services.episode_end(
            episode=episode,
            reason=request.POST.get("reason", ""),
            actor=request.user,
            request=request,
        )
    except ValidationError as error:
        return plan_error(request, patient, error)
    messages.success(request, _("The episode has ended."))
    return redirect("care:plan", patient.pk)


@login_required
@require_POST
def homework_set(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient, episode = tailoring_episode(request, patient_id)
    form = forms.HomeworkForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "care/plan.html",
            plan_context(request, patient, homework_form=form),
            status=400,
        )
    services.homework_add(episode=episode, actor=request.user, **form.cleaned_data)
    messages.success(request, _("The homework is now in the patient's week."))
    return redirect("care:plan", patient.pk)
