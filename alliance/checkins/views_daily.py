"""Pages of the daily check-in: today's form, the calendar, the trend, the welcome back and
the care team's view; and the installable web app (manifest and service worker).

Every page reads a patient fetched as the request's own (a patient's pages) or through
``policy.access_patient`` (the care team's page, an audited read).
"""

import hashlib
import json
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.checkins import daily, selectors, services
from alliance.checkins.views import forbidden_to_non_patients, patient_only
from alliance.lib.charts import Point, Series, data_table, line_chart
from alliance.lib.redirects import safe_next

TREND_DAYS = (30, 90)
FIELDS = ("mood", "feelings", "sleep_hours", "activity", "note")
# Where the error summary links for each field (the first input of the field).
FIELD_ANCHORS = {
    "mood": "mood-0",
    "feelings": f"feeling-{daily.FEELING_KEYS[0]}",
    "sleep_hours": "id_sleep_hours",
    "activity": "id_activity",
    "note": "id_note",
}
DETAIL_FIELDS = {"sleep_hours", "activity", "note"}


# The form ---------------------------------------------------------------------------------


def form_values(data) -> dict:
    """The browser's strings, as the service takes them (it judges them)."""
    return {
        "mood": data.get("mood", ""),
        "feelings": data.getlist("feelings"),
        "sleep_hours": data.get("sleep_hours", ""),
        "activity": data.get("activity", ""),
        "note": data.get("note", ""),
    }


def values_of(checkin) -> dict:
    if checkin is None:
        return {"mood": "", "feelings": [], "sleep_hours": "", "activity": "", "note": ""}
    return {
        "mood": str(checkin.mood),
        "feelings": list(checkin.feelings),
        "sleep_hours": "" if checkin.sleep_hours is None else str(checkin.sleep_hours),
        "activity": checkin.activity,
        "note": checkin.note,
    }


def mood_end(value: int) -> str:
    """The words at the ends of the scale, said with the number to screen readers too."""
    if value == daily.MOOD_MIN:
        return _("very low")
    if value == daily.MOOD_MAX:
        return _("very good")
    return ""


def form_context(values: dict, errors: dict | None = None) -> dict:
    errors = errors or {}
    chosen = set(values["feelings"])
    summary = [
        (FIELD_ANCHORS.get(name), message)
        for name in (*FIELDS, *(k for k in errors if k not in FIELDS))
        for message in errors.get(name, [])
    ]
    return {
        "values": values,
        "errors": errors,
        "error_summary": summary,
        "moods": [
            {"value": str(n), "checked": values["mood"] == str(n), "end": mood_end(n)}
            for n in range(daily.MOOD_MIN, daily.MOOD_MAX + 1)
        ],
        "feelings": [
            {"key": key, "label": label, "checked": key in chosen}
            for key, label in daily.FEELINGS.items()
        ],
        "details_open": bool(DETAIL_FIELDS & set(errors))
        or any(values[name] for name in DETAIL_FIELDS),
        "limits": {"activity": daily.ACTIVITY_MAX, "note": daily.NOTE_MAX},
        # A fresh key per form shown: a double submit or a replay saves once. The page's
        # script replaces it with one made in the browser (a cached copy of the page must
        # not reuse an old key).
        "client_key": uuid.uuid4().hex,
    }


@login_required
@require_http_methods(["GET", "POST"])
def checkin_today(request: HttpRequest) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    today = selectors.patient_today(patient)
    context = {"next": safe_next(request), "offline_shell": False}
    if request.method == "POST":
        values = form_values(request.POST)
        if request.POST.get("patient_id", str(patient.pk)) not in ("", str(patient.pk)):
            # A form opened by someone else who signed in on this device before.
            message = _("Patient: this form was opened by someone else; check in again.")
            context.update(form_context(values, {"patient": [message]}))
            context["status"] = selectors.checkin_status(patient, today)
            return render(request, "checkins/checkin_form.html", context, status=400)
        try:
            _checkin, created = services.checkin_save(
                patient=patient,
                actor=request.user,
                client_key=request.POST.get("client_key") or None,
                **values,
            )
        except ValidationError as error:
            context.update(form_context(values, error.message_dict))
            context["status"] = selectors.checkin_status(patient, today)
            return render(request, "checkins/checkin_form.html", context, status=400)
        if created:
            messages.success(request, _("Thank you — your check-in is saved."))
        else:
            messages.success(
                request, _("Your check-in is saved. You can change it until midnight.")
            )
        return redirect(context["next"] or reverse("checkins:checkin_today"))
    status = context["status"] = selectors.checkin_status(patient, today)
    checkin = selectors.checkin_on(patient, today) if status.done_today else None
    context.update(form_context(values_of(checkin)))
    return render(request, "checkins/checkin_form.html", context)


@login_required
@require_GET
def checkin_offline(request: HttpRequest) -> HttpResponse:
    """The check-in form with nothing of the patient's in it: the copy the service worker
    keeps on the device and shows when there is no connection."""
    if patient_only(request) is None:
        return forbidden_to_non_patients()
    context = {"status": None, "next": "", "offline_shell": True}
    context.update(form_context(values_of(None)))
    return render(request, "checkins/checkin_form.html", context)


@login_required
@require_GET
def checkin_saved_offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows after keeping a check-in made offline on the device."""
    if patient_only(request) is None:
        return forbidden_to_non_patients()
    return render(request, "checkins/checkin_saved_offline.html")


@login_required
@require_GET
def checkin_welcome_back(request: HttpRequest) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    return render(request, "checkins/checkin_welcome_back.html", {"patient": patient})


# Calendar and trend ---------------------------------------------------------------------


def calendar_context(request: HttpRequest, patient: Patient, today: date) -> dict:
    first = daily.parse_month(request.GET.get("month"), today=today)
    last = daily.add_months(first, 1) - timedelta(days=1)
    checkins = list(selectors.checkins_between(patient, first, last))
    earliest, _latest = selectors.checkin_range(patient)
    month = daily.calendar_month(
        first, {c.local_date: c for c in checkins}, today=today, earliest=earliest
    )
    return {"month": month, "month_checkins": checkins, "feeling_labels": daily.FEELINGS}


def average_text(values: list[int]) -> str:
    """The mean to one decimal place, without a trailing ".0" (7, 6.4)."""
    if not values:
        return ""
    mean = round(sum(values) / len(values), 1)
    return floatformat(mean, -1)


def trend_context(request: HttpRequest, patient: Patient, today: date) -> dict:
    try:
        days = int(request.GET.get("days", TREND_DAYS[0]))
    except ValueError:
        days = TREND_DAYS[0]
    if days not in TREND_DAYS:
        days = TREND_DAYS[0]
    start, end = selectors.recent_window(today, days)
    checkins = list(
        selectors.checkins_between(patient, start, end).only(
            "pk", "patient_id", "local_date", "mood", "sleep_hours"
        )
    )
    mood = Series(_("Mood"), [Point(c.local_date, c.mood) for c in checkins])
    sleep = Series(
        _("Sleep"),
        [Point(c.local_date, float(c.sleep_hours)) for c in checkins if c.sleep_hours is not None],
    )
    context = {
        "days": days,
        "day_choices": TREND_DAYS,
        "count": len(checkins),
        "average": average_text([c.mood for c in checkins]),
        "mood_chart": line_chart(
            [mood],
            title=_("Mood over the last %(days)d days") % {"days": days},
            y_min=daily.MOOD_MIN,
            y_max=daily.MOOD_MAX,
            y_label=_("Mood"),
            lower_is_better=False,
            id_prefix="mood-trend",
        ),
        "mood_table": data_table(
            [mood],
            caption=_("Mood by day, last %(days)d days") % {"days": days},
            value_label=_("Mood (0–10)"),
        ),
        "sleep_chart": None,
    }
    if sleep.points:
        highest = max(p.y for p in sleep.points)
        context["sleep_chart"] = line_chart(
            [sleep],
            title=_("Hours of sleep over the last %(days)d days") % {"days": days},
            y_min=0,
            y_max=12 if highest <= 12 else 24,
            y_label=_("Hours"),
            id_prefix="sleep-trend",
        )
        context["sleep_table"] = data_table(
            [sleep],
            caption=_("Hours of sleep by day, last %(days)d days") % {"days": days},
            value_label=_("Hours of sleep"),
        )
    return context


@login_required
@require_GET
def checkin_calendar(request: HttpRequest) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    today = selectors.patient_today(patient)
    context = calendar_context(request, patient, today)
    return render(request, "checkins/checkin_calendar.html", context)


@login_required
@require_GET
def checkin_trend(request: HttpRequest) -> HttpResponse:
    patient = patient_only(request)
    if patient is None:
        return forbidden_to_non_patients()
    today = selectors.patient_today(patient)
    return render(request, "checkins/checkin_trend.html", trend_context(request, patient, today))


@login_required
@require_GET
def patient_checkins(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The care team's view of a patient's check-ins: calendar and trend (audited)."""
    if policy.staff_role(request.user) is None:
        return HttpResponseForbidden(_("This page is for staff."))
    patient = policy.access_patient(request.user, patient_id, what="check-ins", request=request)
    today = selectors.patient_today(patient)
    context = {"patient": patient, "today": today}
    context.update(calendar_context(request, patient, today))
    context.update(trend_context(request, patient, today))
    # Each of the two navigations keeps the other's choice.
    context["month_param"] = context["month"].first.strftime("%Y-%m")
    context["days_param"] = str(context["days"])
    return render(request, "checkins/patient_checkins.html", context)


# The installable web app ------------------------------------------------------------------

# The files the service worker keeps on the device for use offline (besides the pages).
SHELL_STATIC = (
    "alliance/alliance.css",
    "checkins/checkin.css",
    "checkins/pwa.js",
    "checkins/icons/icon.svg",
    "alliance/favicon.svg",
)
SERVICE_WORKER_FILE = "checkins/sw.js"


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, so the patient's pages install on a phone's home screen."""
    body = {
        "name": "Alliance",
        "short_name": "Alliance",
        "description": _("Your online CBT, your check-ins and your care team."),
        "id": "/my/",
        "start_url": "/my/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#fbfaf7",
        "theme_color": "#154346",
        "lang": settings.LANGUAGE_CODE,
        "icons": [
            {"src": static("checkins/icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("checkins/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("checkins/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("checkins/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": _("Check in"), "url": reverse("checkins:checkin_today")},
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


def service_worker_source() -> str:
    path = finders.find(SERVICE_WORKER_FILE)
    if path is None:  # collected static files only (no finders in production)
        with staticfiles_storage.open(SERVICE_WORKER_FILE) as handle:
            return handle.read().decode()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def service_worker_config() -> dict:
    config = {
        "shell": [static(name) for name in SHELL_STATIC],
        "offlinePage": reverse("checkins:checkin_offline"),
        "savedPage": reverse("checkins:checkin_saved_offline"),
        "checkinPath": reverse("checkins:checkin_today"),
        "apiPath": reverse("api:save_checkin"),
        "staticPrefix": static(""),
        "icon": static("checkins/icons/icon-192.png"),
        "texts": {
            "offline": _(
                "You are offline. Your check-in form will be here once this phone has "
                "opened Alliance online."
            ),
            "saved": _(
                "Your check-in is kept on this phone and will be sent when you are back online."
            ),
        },
    }
    return config


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the app's static folder with its settings put first. Served
    here, not from /static/, so that it may control the whole site (scope "/")."""
    source = service_worker_source()
    config = service_worker_config()
    # The version changes with the code and with the shell's (hashed) file names, so a new
    # release installs a new worker and replaces the old cache.
    version = hashlib.sha256((source + json.dumps(config, sort_keys=True)).encode()).hexdigest()
    config["version"] = version[:12]
    body = f"self.ALLIANCE_SW = {json.dumps(config, sort_keys=True)};\n{source}"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Always asked for again: a changed worker reaches phones at their next visit.
    response["Cache-Control"] = "no-cache"
    return response
