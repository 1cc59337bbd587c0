"""Pages of the analytics half of insights: the service report (and its CSV), engagement
trajectories, the patients whose alliance dropped, one patient's engagement and alliance,
and a service's insight settings. Every page runs a fixed number of queries."""

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from alliance.accounts import policy
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.insights import engagement, report, selectors, services, trajectories
from alliance.insights.alliance_scores import alliance_chart, alliance_drops, alliance_summary
from alliance.insights.forms_analytics import InsightSettingsForm, ReportFilterForm
from alliance.insights.models import EngagementClass, EngagementLabel

PATIENT_WEEKS = 12


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """What the analytics offer this member of staff."""
    user = request.user
    links = {
        "report": selectors.can_read_service_report(user),
        "trajectories": selectors.can_read_trajectories(user),
        "alliance": selectors.can_see_alliance_drops(user),
        "settings": selectors.can_change_insight_settings(user),
    }
    if not any(links.values()):
        return HttpResponseForbidden(_("The analytics are for supervisors and managers."))
    return render(request, "insights/analytics/index.html", {"links": links})


@login_required
def service_report(request: HttpRequest) -> HttpResponse:
    """The service report for service managers and administrators; ``?format=csv`` is the
    same figures as a download."""
    if not selectors.can_read_service_report(request.user):
        return HttpResponseForbidden(_("The service report is for service managers."))
    service = request.user.staff_profile.service
    form = ReportFilterForm(request.GET or None, service=service)
    if request.GET and not form.is_valid():
        return render(
            request, "insights/analytics/report.html", {"form": form, "report": None}, status=400
        )
    if not request.GET:
        # The default period, shown in the form as the dates it stands for.
        start, end = report.default_period(form.today)
        form = ReportFilterForm({"start": start, "end": end}, service=service)
        form.is_valid()
    found = report.service_report(form.report_filter())
    if request.GET.get("format") == "csv":
        response = HttpResponse(report.report_csv(found), content_type="text/csv; charset=utf-8")
        name = f"service-report-{found.filter.start}-{found.filter.end}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    rows = found.rows()
    context = {
        "form": form,
        "report": found,
        "rows": rows,
        "bars": report.rate_bars(rows, title=_("Outcome rates"), id_prefix="report-rates"),
        "months_chart": report.monthly_chart(found) if found.by_month else None,
        "csv_query": urlencode({**found.filter.as_params(), "format": "csv"}),
    }
    return render(request, "insights/analytics/report.html", context)


@login_required
def trajectories_page(request: HttpRequest) -> HttpResponse:
    """How many patients are in each engagement class, each class's mean curve, and the
    outcomes of each class side by side."""
    if not selectors.can_read_trajectories(request.user):
        return HttpResponseForbidden(_("Engagement trajectories are for supervisors and managers."))
    summary = trajectories.trajectory_summary(policy.patients_visible_to(request.user))
    for index, item in enumerate(summary.classes):
        item.chart = trajectories.class_chart(
            item.name, item.mean_curve, id_prefix=f"class-{index}"
        )
    return render(
        request,
        "insights/analytics/trajectories.html",
        {"summary": summary, "weeks": range(trajectories.CURVE_WEEKS)},
    )


@login_required
def alliance_page(request: HttpRequest) -> HttpResponse:
    """Supervision: the patients whose alliance dropped (ruptures in active episodes)."""
    if not selectors.can_see_alliance_drops(request.user):
        return HttpResponseForbidden(_("This page is for supervisors and service managers."))
    include_repaired = request.GET.get("repaired") == "1"
    rows = alliance_drops(policy.patients_visible_to(request.user), request.user)
    if not include_repaired:
        rows = [row for row in rows if row.found.repaired is not True]
    if rows:
        # One audit entry for the list: which patients' alliance scores were shown.
        audit_record(
            actor=request.user,
            patient=None,
            action=AuditAction.READ,
            what="alliance drops",
            detail={"patients": sorted({row.patient.pk for row in rows})},
            request=request,
        )
    return render(
        request,
        "insights/analytics/alliance.html",
        {"rows": rows, "include_repaired": include_repaired},
    )


@login_required
def patient_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient's engagement week by week and their alliance over the episode."""
    if policy.staff_role(request.user) is None:
        return HttpResponseForbidden(_("This page is for the care team."))
    patient = policy.access_patient(
        request.user, patient_id, what="engagement and alliance", request=request
    )
    summary = alliance_summary(patient)
    # The patient's own calendar: their engagement record is kept in their days.
    today = timezone.now().astimezone(ZoneInfo(patient.user.time_zone)).date()
    start = today - timedelta(weeks=PATIENT_WEEKS) + timedelta(days=1)
    episode_class = None
    if summary.episode is not None:
        episode_start = summary.episode.started_at.astimezone(ZoneInfo(patient.user.time_zone))
        start = max(start, episode_start.date())
        episode_class = EngagementClass.objects.filter(episode=summary.episode).first()
    days = engagement.patient_days(patient, start, today)
    weeks = engagement.weekly_totals(days, start, (today - start).days // 7 + 1)
    context = {
        "patient": patient,
        "summary": summary,
        "alliance_chart": alliance_chart(summary) if summary.ratings else None,
        "weeks": weeks,
        "recent_days": sorted(days, key=lambda day: day.date, reverse=True)[:14],
        "engagement_chart": engagement.engagement_chart(weeks),
        "engagement_class": episode_class,
        "label_names": dict(EngagementLabel.choices),
    }
    return render(request, "insights/analytics/patient.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Administrators: their service's alert and rupture thresholds."""
    if not selectors.can_change_insight_settings(request.user):
        return HttpResponseForbidden(_("Only an administrator can change these settings."))
    service = request.user.staff_profile.service
    current = selectors.settings_for_service(service.pk)
    form = InsightSettingsForm(request.POST or None, settings=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.insight_settings_update(
                service=service, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The settings are saved."))
            return redirect("analytics:settings")
    return render(
        request,
        "insights/analytics/settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
