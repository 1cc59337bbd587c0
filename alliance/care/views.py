"""Pages of the care app: the patient's week, module reader and contacts; the care team's
plan page, review queue, review page, contacts and the service's review schedule."""

import re
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient, Role
from alliance.care import forms, ical, selectors, services
from alliance.care import reviews as review_rules
from alliance.care.models import ContactStatus, EndReason, Episode, Homework
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
    context = plan_context(
        request,
        patient,
        errors=messages_,
        error_anchor=anchor,
        error_assignment=assignment.pk if assignment else None,
    )
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


# --- Staff: reviews ------------------------------------------------------------------------

# How far ahead the queue shows the reviews coming up.
COMING_UP = 7


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """The patients due a review, most overdue first, and those coming up this week."""
    if not selectors.can_see_review_queue(request.user):
        raise Http404("Not found.")
    profile = request.user.staff_profile
    is_supporter = profile.role == Role.SUPPORTER
    everyone = request.GET.get("who") == "all" or not is_supporter
    now = timezone.now()
    states = selectors.review_states(policy.patients_visible_to(request.user), now)
    if not everyone:
        states = [s for s in states if s.episode.supporter_id == profile.pk]
    context = {
        "due": [s for s in states if s.is_due],
        "coming_up": [
            s for s in states if not s.is_due and s.due_at <= now + timedelta(days=COMING_UP)
        ],
        "everyone": everyone,
        "is_supporter": is_supporter,
        "can_review": selectors.can_review(request.user),
        "can_set_schedule": selectors.can_set_review_schedule(request.user),
        "coming_up_days": COMING_UP,
    }
    return render(request, "care/review_queue.html", context)


def feedback_templates(patient: Patient, author, since) -> list[dict]:
    """The templates a supporter can start feedback from, filled in for this patient: the
    care app's own, then the service's message templates when messaging provides them."""
    done = [r.module.title for r in since.modules_completed] if since else []
    current = since.modules_in_progress if since else []
    values = {
        "patient_first_name": patient.user.preferred_name
        or (patient.user.full_name.split() or [""])[0],
        "supporter_name": author.display_name,
        "modules_done": review_rules.modules_phrase(done),
        "module_title": current[0].module.title if current else (done[-1] if done else ""),
        "service_name": patient.service.name,
    }
    templates = [
        {
            "key": f"care:{t.key}",
            "title": t.title,
            "body": review_rules.fill_placeholders(str(t.body), values),
        }
        for t in review_rules.FEEDBACK_TEMPLATES
    ]
    try:
        from alliance.messaging.selectors import templates_for
    except ImportError:
        return templates
    for template in templates_for(patient.service_id):
        templates.append(
            {
                "key": f"message:{template.pk}",
                "title": template.title,
                "body": review_rules.fill_placeholders(template.body, values),
            }
        )
    return templates


def review_context(request: HttpRequest, patient: Patient, **extra) -> dict:
    episode = selectors.active_episode(patient)
    context = {"patient": patient, "episode": episode, "may_review": False}
    if episode is None:
        context.update(extra)
        return context
    since = selectors.since_last_review(episode)
    state = selectors.review_state(episode)
    may_review = selectors.can_review(request.user)
    review = extra.pop("review", None)
    if may_review and review is None:
        review = selectors.open_review(episode, request.user.staff_profile)
    context.update(
        since=since,
        state=state,
        may_review=may_review,
        review=review,
        earlier=selectors.earlier_reviews(episode),
    )
    if may_review and review is not None:
        templates = feedback_templates(patient, request.user, since)
        context["templates"] = templates
        if "form" not in extra:
            chosen = next((t for t in templates if t["key"] == request.GET.get("template")), None)
            initial = {
                "feedback": chosen["body"] if chosen else review.feedback,
                "next_steps": review.next_steps,
            }
            extra["form"] = forms.ReviewForm(initial=initial, minutes_so_far=minutes_so_far(review))
    elif may_review:
        extra.setdefault("start_form", forms.ReviewStartForm())
    context.update(extra)
    return context


def minutes_so_far(review) -> int:
    return int((timezone.now() - review.opened_at).total_seconds() // 60)


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, patient_id: int) -> HttpResponse:
    """What is new since the last review; for the patient's clinicians, the review itself.

    Opening the page starts the review clock (an open review for this reviewer) when the
    patient is due; when they are not, the page asks for a deliberate "review now anyway".
    """
    patient = staff_patient(request, patient_id, "review")
    episode = selectors.active_episode(patient)
    may_review = selectors.can_review(request.user)
    if request.method == "POST" and not may_review:
        raise PermissionDenied(_("Only the patient's supporter or supervisor can do this."))
    if episode is None or not may_review:
        return render(request, "care/review.html", review_context(request, patient))
    profile = request.user.staff_profile
    current = selectors.open_review(episode, profile)
    if current is None and request.method == "GET":
        try:
            current, _created = services.review_start(
                episode=episode, reviewer=profile, request=request
            )
        except ValidationError:
            current = None  # not due: the page offers "review now anyway"
    if request.method == "GET":
        return render(request, "care/review.html", review_context(request, patient, review=current))
    if current is None:
        messages.info(request, _("Start the review first."))
        return redirect("care:review", patient.pk)
    form = forms.ReviewForm(request.POST, minutes_so_far=minutes_so_far(current))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "save":
                services.review_save(
                    review=current, feedback=data["feedback"], next_steps=data["next_steps"]
                )
            else:
                done = services.review_complete(
                    review=current,
                    actor=request.user,
                    feedback=data["feedback"],
                    next_steps=data["next_steps"],
                    homework=form.homework_items,
                    minutes_spent=data["minutes_spent"],
                    request=request,
                )
        except ValidationError as error:
            forms.add_service_errors(form, error)
        else:
            if request.POST.get("action") == "save":
                messages.success(request, _("Saved. The review is still open."))
                return redirect("care:review", patient.pk)
            messages.success(request, review_done_message(patient, done))
            return redirect("care:review_queue")
    context = review_context(request, patient, review=current, form=form)
    return render(request, "care/review.html", context, status=400)


def review_done_message(patient: Patient, done) -> str:
    name = patient.user.full_name
    if done.feedback_delivery == "message":
        sent = _("Your feedback was sent to %(name)s as a message.") % {"name": name}
    elif done.feedback_delivery == "week":
        sent = _("Your feedback is on %(name)s's week.") % {"name": name}
    else:
        sent = ""
    return " ".join(
        part
        for part in (
            _("Review of %(name)s done (%(n)d minutes).") % {"name": name, "n": done.minutes_spent},
            sent,
        )
        if part
    )


@login_required
@require_POST
def review_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start a review deliberately ("review now anyway" for a patient not due yet)."""
    patient = staff_patient(request, patient_id, "review")
    if not selectors.can_review(request.user):
        raise PermissionDenied(_("Only the patient's supporter or supervisor can do this."))
    episode = selectors.active_episode(patient)
    if episode is None:
        raise Http404("Not found.")
    form = forms.ReviewStartForm(request.POST)
    form.is_valid()
    try:
        services.review_start(
            episode=episode,
            reviewer=request.user.staff_profile,
            anyway=bool(form.cleaned_data.get("anyway")),
            request=request,
        )
    except ValidationError as error:
        forms.add_service_errors(form, error)
        context = review_context(request, patient, start_form=form)
        return render(request, "care/review.html", context, status=400)
    return redirect("care:review", patient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def review_schedule(request: HttpRequest) -> HttpResponse:
    """The service's days between reviews per care model (administrators)."""
    if not selectors.can_set_review_schedule(request.user):
        raise Http404("Not found.")
    service = request.user.staff_profile.service
    current = selectors.review_schedule_of(service)
    if request.method == "POST":
        form = forms.ReviewScheduleForm(request.POST, current=current)
        if form.is_valid():
            try:
                services.review_schedule_set(
                    service=service, intervals=form.cleaned_data, actor=request.user
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The review schedule was saved."))
                return redirect("care:review_schedule")
        return render(
            request, "care/review_schedule.html", {"form": form, "service": service}, status=400
        )
    form = forms.ReviewScheduleForm(current=current)
    return render(request, "care/review_schedule.html", {"form": form, "service": service})


# --- Staff: contacts -----------------------------------------------------------------------


def contacts_context(request: HttpRequest, patient: Patient, **extra) -> dict:
    episode = selectors.active_episode(patient)
    now = timezone.now()
    contacts = selectors.patient_contacts(patient)
    upcoming = [c for c in contacts if c.scheduled_at >= now and c.status == "scheduled"]
    can_book = selectors.can_book_contacts(request.user) and episode is not None
    context = {
        "patient": patient,
        "episode": episode,
        "upcoming": list(reversed(upcoming)),
        "past": [c for c in contacts if c not in upcoming],
        "can_book": can_book,
        "now": now,
        "statuses": ContactStatus,
    }
    if can_book:
        context["book_form"] = forms.ContactBookForm()
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's past and future contacts; the patient's clinicians book new ones."""
    patient = staff_patient(request, patient_id, "contacts")
    if request.method == "GET":
        return render(request, "care/contacts.html", contacts_context(request, patient))
    if not selectors.can_book_contacts(request.user):
        raise PermissionDenied(_("Only the patient's supporter or supervisor can do this."))
    episode = selectors.active_episode(patient)
    if episode is None:
        raise Http404("Not found.")
    form = forms.ContactBookForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            contact = services.contact_book(
                episode=episode,
                kind=data["kind"],
                scheduled_at=data["scheduled_at"],
                duration_minutes=data["duration_minutes"],
                actor=request.user,
                client_key=data["client_key"] or None,
                request=request,
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                field = form.service_error_field(name)
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("Booked: %(kind)s on %(when)s.")
                % {
                    "kind": contact.get_kind_display().lower(),
                    "when": services.local_when(contact.scheduled_at),
                },
            )
            return redirect("care:contacts", patient.pk)
    return render(
        request,
        "care/contacts.html",
        contacts_context(request, patient, book_form=form),
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_outcome(request: HttpRequest, patient_id: int, contact_id: int) -> HttpResponse:
    """One contact: its outcome, notes, time and the homework set in it."""
    patient = staff_patient(request, patient_id, "contact")
    contact = selectors.patient_contact(patient, contact_id)
    can_record = selectors.can_book_contacts(request.user)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied(_("Only the patient's supporter or supervisor can do this."))
        form = forms.ContactOutcomeForm(request.POST, duration=contact.duration_minutes)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.contact_record(
                    contact=contact,
                    status=data["status"],
                    actor=request.user,
                    notes=data["notes"],
                    minutes_spent=data["minutes_spent"],
                    homework=form.homework_items,
                    request=request,
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The contact was recorded."))
                return redirect("care:contacts", patient.pk)
        status = 400
    else:
        recorded = contact.status != ContactStatus.SCHEDULED
        form = forms.ContactOutcomeForm(
            initial={
                "status": contact.status if recorded else None,
                "notes": contact.notes,
                "minutes_spent": contact.minutes_spent if recorded else "",
            },
            duration=contact.duration_minutes,
        )
        status = 200
    context = {
        "patient": patient,
        "contact": contact,
        "homework": list(contact.homework.order_by("created_at", "pk")),
        "form": form,
        "can_record": can_record,
    }
    return render(request, "care/contact_outcome.html", context, status=status)


# --- The patient's contacts ----------------------------------------------------------------


@login_required
def my_contacts(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    context = {"patient": patient, "contacts": selectors.upcoming_contacts(patient)}
    return render(request, "care/my_contacts.html", context)


def calendar_response(contacts, user, filename: str) -> HttpResponse:
    body = ical.contacts_calendar(contacts, time_zone=user.time_zone, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    """The patient's upcoming contacts as one calendar file."""
    patient = own_patient(request)
    return calendar_response(selectors.upcoming_contacts(patient), request.user, "appointments.ics")


@login_required
def my_contact_calendar(request: HttpRequest, contact_id: int) -> HttpResponse:
    """One of the patient's own contacts as a calendar file."""
    contact = selectors.patient_contact(own_patient(request), contact_id)
    return calendar_response([contact], request.user, f"appointment-{contact.pk}.ics")
