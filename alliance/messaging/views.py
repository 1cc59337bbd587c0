"""Pages of messaging: the patient's messages and their request for a different supporter;
the care team's thread of a patient and their inbox; the administrator's settings and
template library. (Supervisors decide requests on the caseload pages of insights.)"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.messaging import selectors, services
from alliance.messaging.forms import (
    MessageForm,
    SettingsForm,
    SupporterChangeForm,
    TemplateForm,
    TemplatePickForm,
    apply_errors,
)
from alliance.messaging.models import MessageTemplate
from alliance.messaging.risk import DEFAULT_RISK_PHRASES

INBOX_PAGE_SIZE = 50
THREAD_PAGE_SIZE = 50


def own_patient(request: HttpRequest) -> Patient | None:
    return (
        Patient.objects.select_related("user", "service", "supporter__user")
        .filter(user=request.user)
        .first()
    )


def before_param(request: HttpRequest) -> int | None:
    try:
        return int(request.GET.get("before", ""))
    except ValueError:
        return None


def new_client_key(request: HttpRequest) -> str:
    # A double-submitted form sends the same key and gets the message sent the first time.
    return request.POST.get("client_key") or uuid.uuid4().hex


# --- The patient ------------------------------------------------------------------------


def my_thread_context(request: HttpRequest, patient: Patient, form: MessageForm | None = None):
    thread = selectors.thread_for(patient)
    before = before_param(request)
    thread_messages, more = selectors.thread_messages(thread, before=before, limit=THREAD_PAGE_SIZE)
    if form is None:
        draft = selectors.draft_of(thread, request.user)
        form = MessageForm(
            initial={"body": draft.body if draft else "", "client_key": new_client_key(request)}
        )
    return {
        "patient": patient,
        "thread": thread,
        "thread_messages": thread_messages,
        "earlier": thread_messages[0].pk if more and thread_messages else None,
        "form": form,
        "reply": selectors.thread_reply_status(thread),
        "crisis": services.crisis_text(patient) if selectors.flagged_unanswered(thread) else None,
        "change": selectors.latest_supporter_change(patient),
    }


@login_required
@require_http_methods(["GET", "POST"])
def my_thread(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    if patient is None:
        if policy.staff_role(request.user) is not None:
            return redirect("messaging:inbox")
        raise Http404("Not found.")
    if request.method == "GET":
        context = my_thread_context(request, patient)
        if before_param(request) is None:
            services.thread_mark_read(thread=context["thread"], user=request.user)
        return render(request, "messaging/my_thread.html", context)
    form = MessageForm(request.POST)
    form.is_valid()
    body = request.POST.get("body", "")
    thread = selectors.thread_for(patient)
    try:
        if request.POST.get("action") == "draft":
            services.draft_save(thread=thread, author=request.user, body=body)
            messages.success(request, _("Your draft is saved. Only you can see it."))
            return redirect("messaging:my_thread")
        services.message_send(
            thread=thread,
            author=request.user,
            body=body,
            client_key=request.POST.get("client_key") or None,
        )
    except services.ClientKeyReused:
        form = MessageForm({"body": body, "client_key": uuid.uuid4().hex})
        form.is_valid()
        form.add_error(
            "body",
            _("This form was already sent once, with a different text. Send again to send it."),
        )
        return render(
            request,
            "messaging/my_thread.html",
            my_thread_context(request, patient, form),
            status=409,
        )
    except ValidationError as error:
        apply_errors(form, error)
        return render(
            request,
            "messaging/my_thread.html",
            my_thread_context(request, patient, form),
            status=400,
        )
    messages.success(request, _("Your message was sent."))
    return redirect(reverse("messaging:my_thread") + "#latest")


@login_required
@require_http_methods(["GET", "POST"])
def supporter_change(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    if patient is None:
        raise Http404("Not found.")
    form = SupporterChangeForm(request.POST or None)
    if request.method == "POST":
        form.is_valid()
        try:
            _change, created = services.supporter_change_request(
                patient=patient, actor=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if created:
                messages.success(
                    request,
                    _(
                        "Thank you for telling us. A senior member of your care team will "
                        "read your request and get in touch with you."
                    ),
                )
            return redirect("messaging:supporter_change")
    context = {
        "form": form,
        "patient": patient,
        "open_request": selectors.open_supporter_change(patient),
    }
    return render(
        request, "messaging/supporter_change.html", context, status=400 if form.errors else 200
    )


# --- The care team ----------------------------------------------------------------------


def staff_patient(request: HttpRequest, patient_id: int) -> Patient:
    if policy.staff_role(request.user) is None:
        raise Http404("Not found.")
    return policy.access_patient(request.user, patient_id, what="messages", request=request)


def patient_thread_context(request, patient: Patient, form: MessageForm | None = None) -> dict:
    thread = selectors.thread_for(patient)
    can_write = selectors.can_message_patient(request.user, patient)
    templates = list(selectors.templates_for(patient.service_id)) if can_write else []
    pick = TemplatePickForm(request.GET if "template" in request.GET else None, templates=templates)
    if form is None and can_write:
        body = ""
        if pick.is_bound and pick.is_valid():
            chosen = next(t for t in templates if t.pk == pick.cleaned_data["template"])
            body = services.template_render(
                chosen, selectors.template_context(patient, request.user)
            )
        else:
            draft = selectors.draft_of(thread, request.user)
            body = draft.body if draft else ""
        form = MessageForm(
            initial={"body": body, "client_key": new_client_key(request)},
            label=_("Your reply"),
        )
    thread_messages, more = selectors.thread_messages(
        thread, before=before_param(request), limit=THREAD_PAGE_SIZE
    )
    return {
        "patient": patient,
        "thread": thread,
        "thread_messages": thread_messages,
        "earlier": thread_messages[0].pk if more and thread_messages else None,
        "form": form,
        "pick": pick,
        "templates": templates,
        "can_write": can_write,
        "unread": selectors.unread_for_staff(thread, request.user),
        "reply": selectors.thread_reply_status(thread),
        "risk": selectors.flagged_unanswered(thread),
    }


@login_required
@require_http_methods(["GET", "POST"])
def patient_thread(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    if request.method == "GET":
        context = patient_thread_context(request, patient)
        return render(request, "messaging/patient_thread.html", context)
    action = request.POST.get("action", "send")
    thread = selectors.thread_for(patient)
    here = reverse("messaging:patient_thread", args=[patient.pk])
    form = MessageForm(request.POST, label=_("Your reply"))
    form.is_valid()
    body = request.POST.get("body", "")
    try:
        if action == "read":
            services.thread_mark_read(thread=thread, user=request.user)
            messages.success(request, _("The thread is marked as read."))
            return redirect(here)
        if action == "no_reply":
            services.thread_mark_no_reply_needed(thread=thread, actor=request.user, request=request)
            messages.success(request, _("Marked as needing no reply."))
            return redirect(here)
        if not selectors.can_message_patient(request.user, patient):
            return HttpResponseForbidden(_("Only the patient's care team can send messages."))
        if action == "draft":
            services.draft_save(thread=thread, author=request.user, body=body)
            messages.success(request, _("Your draft is saved. Only you can see it."))
            return redirect(here + "#compose")
        services.message_send(
            thread=thread,
            author=request.user,
            body=body,
            client_key=request.POST.get("client_key") or None,
            request=request,
        )
    except PermissionDenied as error:
        return HttpResponseForbidden(str(error))
    except services.ClientKeyReused:
        form = MessageForm({"body": body, "client_key": uuid.uuid4().hex}, label=_("Your reply"))
        form.is_valid()
        form.add_error(
            "body",
            _("This form was already sent once, with a different text. Send again to send it."),
        )
        context = patient_thread_context(request, patient, form)
        return render(request, "messaging/patient_thread.html", context, status=409)
    except ValidationError as error:
        apply_errors(form, error)
        context = patient_thread_context(request, patient, form)
        return render(request, "messaging/patient_thread.html", context, status=400)
    messages.success(request, _("Your message was sent."))
    return redirect(here + "#latest")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    role = policy.staff_role(request.user)
    if role is None or not policy.patients_visible_to(request.user).exists():
        return HttpResponseForbidden(_("The inbox is for staff who care for patients."))
    threads = selectors.inbox_threads(request.user)
    waiting_only = request.GET.get("show") == "waiting"
    if waiting_only:
        threads = threads.filter(awaiting_reply_since__isnull=False)
    page = Paginator(threads, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": selectors.inbox_rows(page.object_list),
        "waiting_only": waiting_only,
    }
    return render(request, "messaging/inbox.html", context)


# --- The administrator ------------------------------------------------------------------


def admin_service(request: HttpRequest):
    if not selectors.can_manage_messaging(request.user):
        return None
    return request.user.staff_profile.service


def phrases_text(phrases) -> str:
    return "\n".join(phrases)


@login_required
@require_http_methods(["GET", "POST"])
def messaging_settings(request: HttpRequest) -> HttpResponse:
    service = admin_service(request)
    if service is None:
        return HttpResponseForbidden(_("Only an administrator can change messaging settings."))
    current = selectors.settings_for(service)
    initial = {
        "reply_target_working_days": current.reply_target_working_days,
        "risk_phrases": phrases_text(current.risk_phrases),
    }
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        form.is_valid()
        phrases = request.POST.get("risk_phrases", "")
        if request.POST.get("action") == "defaults":
            phrases = phrases_text(DEFAULT_RISK_PHRASES)
        try:
            services.messaging_settings_update(
                service=service,
                actor=request.user,
                reply_target_working_days=request.POST.get("reply_target_working_days"),
                risk_phrases=phrases,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The messaging settings are saved."))
            return redirect("messaging:settings")
    context = {"form": form, "service": service, "defaults": DEFAULT_RISK_PHRASES}
    return render(request, "messaging/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    service = admin_service(request)
    if service is None:
        return HttpResponseForbidden(_("Only an administrator can manage message templates."))
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "starters":
        added = services.templates_load_starters(service=service)
        messages.success(
            request,
            ngettext(
                "%(n)d starter template was added.", "%(n)d starter templates were added.", added
            )
            % {"n": added},
        )
        return redirect("messaging:template_list")
    if request.method == "POST":
        form.is_valid()
        try:
            template = services.template_save(
                service=service,
                actor=request.user,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("“%(title)s” was added.") % {"title": template.title})
            return redirect("messaging:template_list")
    context = {"templates": selectors.templates_for(service), "form": form}
    return render(
        request, "messaging/template_list.html", context, status=400 if form.errors else 200
    )


def service_template(service, template_id: int) -> MessageTemplate:
    template = selectors.templates_for(service).filter(pk=template_id).first()
    if template is None:
        raise Http404("Not found.")
    return template


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    service = admin_service(request)
    if service is None:
        return HttpResponseForbidden(_("Only an administrator can manage message templates."))
    template = service_template(service, template_id)
    form = TemplateForm(
        request.POST or None, initial={"title": template.title, "body": template.body}
    )
    if request.method == "POST":
        form.is_valid()
        try:
            services.template_save(
                service=service,
                actor=request.user,
                title=request.POST.get("title", ""),
                body=request.POST.get("body", ""),
                template=template,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The template is saved."))
            return redirect("messaging:template_list")
    return render(
        request,
        "messaging/template_edit.html",
        {"form": form, "template": template},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    service = admin_service(request)
    if service is None:
        return HttpResponseForbidden(_("Only an administrator can manage message templates."))
    template = service_template(service, template_id)
    title = template.title
    services.template_delete(template=template, actor=request.user)
    messages.success(request, _("“%(title)s” was deleted.") % {"title": title})
    return redirect("messaging:template_list")
