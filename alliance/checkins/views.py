"""Pages of exercise entries: a patient's own (list, new, read, edit, history) and their
care team's view of them (a patient's entries, reading one, leaving a comment)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.checkins import selectors, services
from alliance.checkins.exercises import EXERCISES, display_rows, entry_summary
from alliance.checkins.forms import ExerciseForm
from alliance.checkins.models import ExerciseEntry
from alliance.lib.redirects import safe_next


def patient_only(request: HttpRequest) -> Patient | None:
    return request.user.patient_or_none


def forbidden_to_non_patients() -> HttpResponse:
    return HttpResponseForbidden(_("These pages are for patients."))


def grouped(entries) -> list[dict]:
    """Entries by exercise, in the exercises' order; every exercise, even with none."""
    groups = {key: {"exercise": exercise, "entries": []} for key, exercise in EXERCISES.items()}
    for entry in entries:
        groups[entry.kind]["entries"].append(
            {"entry": entry, "summary": entry_summary(entry.kind, entry.data)}
        )
    return list(groups.values())


@login_required
def entry_list(request: HttpRequest) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    groups = grouped(selectors.entries_for_patient(patient))
    return render(request, "checkins/entry_list.html", {"groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: HttpRequest, kind: str) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    exercise = EXERCISES.get(kind)
    if exercise is None:
        raise Http404("No such exercise.")
    context = {
        "exercise": exercise,
        "next": safe_next(request),
        "module_key": request.POST.get("module") or request.GET.get("module", ""),
        # A double-submitted form sends the same key, and gets the entry made the first time.
        "client_key": request.POST.get("client_key") or uuid.uuid4().hex,
    }
    if request.method == "GET":
        context["form"] = ExerciseForm(exercise, {})
        return render(request, "checkins/entry_form.html", context)
    form = ExerciseForm.from_post(exercise, request.POST)
    try:
        entry, _created = services.entry_create(
            patient=patient,
            kind=kind,
            data=form.data(),
            actor=request.user,
            module_key=context["module_key"],
            client_key=context["client_key"],
        )
    except services.ClientKeyReused:
        # Most likely "back" and a second save with other answers: keep both, on request.
        message = _(
            "This form was already saved once, with different answers. Your answers are "
            "below and are not saved yet: save again to keep them as a new entry."
        )
        form.errors = {"client_key": [message]}
        context["client_key"] = uuid.uuid4().hex
        return render(request, "checkins/entry_form.html", {**context, "form": form}, status=409)
    except ValidationError as error:
        form.errors = error.message_dict
        return render(request, "checkins/entry_form.html", {**context, "form": form}, status=400)
    messages.success(request, _("Your entry was saved."))
    return redirect(context["next"] or reverse("checkins:entry_detail", args=[entry.pk]))


def detail_context(request: HttpRequest, entry: ExerciseEntry) -> dict:
    is_owner = entry.patient.user_id == request.user.pk
    return {
        "entry": entry,
        "exercise": EXERCISES[entry.kind],
        "rows": display_rows(entry.kind, entry.data),
        "comments": selectors.entry_comments(entry),
        "is_owner": is_owner,
        "can_comment": not is_owner
        and policy.can_comment_on_entries(request.user, entry.patient),
    }


@login_required
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_for(request.user, entry_id, request=request)
    return render(request, "checkins/entry_detail.html", detail_context(request, entry))


@login_required
@require_POST
def entry_comment(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_for(request.user, entry_id, request=request)
    text = request.POST.get("text", "")
    try:
        services.entry_comment(entry=entry, author=request.user, text=text, request=request)
    except ValidationError as error:
        context = detail_context(request, entry)
        context.update(comment_text=text, comment_errors=error.message_dict.get("text", []))
        return render(request, "checkins/entry_detail.html", context, status=400)
    messages.success(request, _("Your comment was added."))
    return redirect(reverse("checkins:entry_detail", args=[entry.pk]) + "#comments")


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    if patient_only(request) is None:
        return forbidden_to_non_patients()
    entry = selectors.entry_for(request.user, entry_id, request=request)
    exercise = EXERCISES[entry.kind]
    context = {"entry": entry, "exercise": exercise, "expected_version": entry.version}
    if request.method == "GET":
        context["form"] = ExerciseForm.from_data(exercise, entry.data)
        return render(request, "checkins/entry_form.html", context)
    form = ExerciseForm.from_post(exercise, request.POST)
    context["form"] = form
    try:
        expected = int(request.POST.get("expected_version", ""))
    except ValueError:
        expected = 0
    try:
        services.entry_update(
            entry=entry, data=form.data(), actor=request.user, expected_version=expected
        )
    except services.StaleVersion as error:
        # Keep what they typed; saving again makes it the newest version, and the other
        # change stays in the history.
        form.errors = error.message_dict
        context["expected_version"] = error.current
        return render(request, "checkins/entry_form.html", context, status=409)
    except ValidationError as error:
        form.errors = error.message_dict
        context["expected_version"] = expected or entry.version
        return render(request, "checkins/entry_form.html", context, status=400)
    messages.success(request, _("Your changes were saved."))
    return redirect("checkins:entry_detail", entry.pk)


@login_required
def entry_history(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_for(request.user, entry_id, request=request)
    versions = [
        {"version": version, "rows": display_rows(entry.kind, version.data)}
        for version in selectors.entry_versions(entry)
    ]
    context = {
        "entry": entry,
        "exercise": EXERCISES[entry.kind],
        "versions": versions,
        "is_owner": entry.patient.user_id == request.user.pk,
    }
    return render(request, "checkins/entry_history.html", context)


@login_required
def patient_entries(request: HttpRequest, patient_id: int) -> HttpResponse:
    if policy.staff_role(request.user) is None:
        return HttpResponseForbidden(_("This page is for staff."))
    patient = policy.access_patient(
        request.user, patient_id, what="exercise entries", request=request
    )
    groups = grouped(selectors.entries_for_patient(patient))
    return render(request, "checkins/patient_entries.html", {"patient": patient, "groups": groups})
