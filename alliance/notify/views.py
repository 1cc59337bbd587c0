"""Pages of the notify app: the patient's reminder settings, everyone's notification
centre, the care team's delivery log of a patient, and the e-mail open tracking."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.notify import conf, rules, selectors, services
from alliance.notify.forms import ReminderSettingsForm

# The smallest transparent GIF: the open pixel of reminder e-mails.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def own_patient(request: HttpRequest) -> Patient:
    patient = request.user.patient_or_none
    if patient is None:
        raise Http404("Not found.")
    return patient


@login_required
@require_http_methods(["GET", "POST"])
def reminder_settings(request: HttpRequest) -> HttpResponse:
    patient = own_patient(request)
    today = selectors.local_today(patient)
    current = selectors.settings_data_for(patient)
    pause = current.paused_until if current.paused_until and current.paused_until >= today else None
    form = ReminderSettingsForm(
        request.POST or None,
        initial=ReminderSettingsForm.initial_from(current),
        paused_until=pause,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reminder_settings_update(
                patient=patient, data=form.settings_data(current=current, today=today)
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(request, _("Your reminder settings are saved."))
            return redirect("notify:settings")
    context = {
        "form": form,
        "settings": current,
        "paused_until": pause,
        "upcoming": selectors.next_reminders(patient),
        "kind_labels": rules.KIND_LABELS,
        "vapid_public_key": conf.vapid_keys()[1],
        "time_zone": patient.user.time_zone,
    }
    return render(request, "notify/settings.html", context, status=400 if form.errors else 200)


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    context = {
        "notifications": selectors.notifications_of(request.user),
        "is_patient": request.user.patient_or_none is not None,
    }
    return render(request, "notify/centre.html", context)


def safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return ""


@login_required
@require_POST
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; "open" also goes where it points."""
    notification = selectors.own_notification(request.user, notification_id)
    if notification is None:
        raise Http404("Not found.")
    services.notification_mark_read(notification=notification)
    target = safe_next(request, notification.url) if "open" in request.POST else ""
    return redirect(target or "notify:centre")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("Every notification is marked as read."))
    return redirect("notify:centre")


@login_required
def delivery_log(request: HttpRequest, patient_id: int) -> HttpResponse:
    if policy.staff_role(request.user) is None:
        raise Http404("Not found.")
    patient = policy.access_patient(
        request.user, patient_id, what="reminder delivery log", request=request
    )
    reminders = list(selectors.delivery_log(patient))
    for reminder in reminders:
        reminder.kind_label = rules.KIND_LABELS.get(reminder.kind, reminder.kind)
        for attempt in reminder.attempts.all():
            attempt.channel_label = rules.CHANNEL_SHORT_LABELS.get(attempt.channel, attempt.channel)
    context = {"patient": patient, "reminders": reminders}
    return render(request, "notify/delivery_log.html", context)


@never_cache
def opened(request: HttpRequest, token: str) -> HttpResponse:
    """The 1×1 image in a reminder e-mail, loaded from our own site: the e-mail was opened."""
    services.email_opened(token=token)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def follow(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a reminder e-mail: counts as opened, then goes where the reminder
    points (always a page of ours, never an address from the link)."""
    reminder = services.email_opened(token=token)
    if reminder is None:
        return redirect("accounts:home")
    content = services.content_of(reminder, request.LANGUAGE_CODE)
    return redirect(safe_next(request, content.url) or "accounts:home")
