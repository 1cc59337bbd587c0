"""API operations of the analytics: the engagement record, trajectories, the alliance,
the service report and the insight settings. The same selectors, forms and services as
the pages."""

from dataclasses import asdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.insights import engagement, report, selectors, services, trajectories
from alliance.insights.alliance_scores import alliance_summary
from alliance.insights.forms_analytics import ReportFilterForm
from alliance.insights.schemas_analytics import (
    AllianceOut,
    EngagementOut,
    InsightSettingsIn,
    InsightSettingsOut,
    ServiceReportOut,
    TrajectoriesOut,
)

router = Router(tags=["insights"])

ENGAGEMENT_DEFAULT_DAYS = 28
ENGAGEMENT_MAX_DAYS = 366


def _outcomes(outcomes: report.Outcomes) -> dict:
    return {
        **asdict(outcomes),
        "recovery_rate": outcomes.recovery_rate,
        "reliable_improvement_rate": outcomes.reliable_improvement_rate,
        "reliable_deterioration_rate": outcomes.reliable_deterioration_rate,
        "reliable_recovery_rate": outcomes.reliable_recovery_rate,
        "drop_out_rate": outcomes.drop_out_rate,
    }


@router.get("/patients/{patient_id}/engagement", response=EngagementOut, url_name="get_engagement")
def get_engagement(request, patient_id: int, start: date | None = None, end: date | None = None):
    """The patient's engagement record, one entry per day with something in it, on the
    patient's own calendar (by default the last 28 days; at most a year at a time)."""
    patient = policy.access_patient(
        request.auth, patient_id, what="engagement record", request=request
    )
    today = timezone.now().astimezone(ZoneInfo(patient.user.time_zone)).date()
    end = end or today
    start = start or end - timedelta(days=ENGAGEMENT_DEFAULT_DAYS - 1)
    if end < start:
        raise ValidationError({"end": [_("The end date is before the start date.")]})
    if (end - start).days >= ENGAGEMENT_MAX_DAYS:
        raise ValidationError({"end": [_("Ask for at most a year at a time.")]})
    return {
        "patient_id": patient.pk,
        "start": start,
        "end": end,
        "days": engagement.patient_days(patient, start, end),
    }


@router.get("/insights/trajectories", response=TrajectoriesOut, url_name="list_trajectories")
def list_trajectories(request):
    """The engagement classes of the episodes you can see: how many in each, the mean
    curve (active days in each week since the start) and the outcomes of the ended ones."""
    if not selectors.can_read_trajectories(request.auth):
        raise HttpError(403, "Engagement trajectories are for supervisors and managers.")
    summary = trajectories.trajectory_summary(policy.patients_visible_to(request.auth))
    return {
        "classes": [
            {
                "label": item.label,
                "name": item.name,
                "episodes": item.episodes,
                "mean_curve": item.mean_curve,
                "outcomes": _outcomes(item.outcomes),
            }
            for item in summary.classes
        ],
        "too_early": summary.too_early,
        "not_classified": summary.not_classified,
    }


@router.get("/patients/{patient_id}/alliance", response=AllianceOut, url_name="get_alliance")
def get_alliance(request, patient_id: int):
    """The WAI-SR ratings of the patient's current episode (else their latest), with the
    goal, task and bond subscales, and the ruptures by the service's rule."""
    if policy.staff_role(request.auth) is None:
        raise HttpError(403, "The alliance scores are for the care team.")
    patient = policy.access_patient(request.auth, patient_id, what="alliance", request=request)
    summary = alliance_summary(patient)
    return {
        "patient_id": patient.pk,
        "episode_id": summary.episode.pk if summary.episode else None,
        "ratings": summary.ratings,
        "ruptures": [
            {
                "response_id": found.at.response_id,
                "submitted_at": found.at.submitted_at,
                "before_mean": found.before.mean,
                "after_mean": found.at.mean,
                "drop": found.drop,
                "sigma": round(found.rupture.sigma, 3),
                "length": found.rupture.length,
                "repaired": found.repaired,
            }
            for found in summary.ruptures
        ],
        "change": summary.change,
        "parameters": asdict(summary.parameters),
    }


@router.get("/insights/report", response=ServiceReportOut, url_name="get_service_report")
def get_service_report(
    request,
    start: str = "",
    end: str = "",
    team: str = "",
    programme: str = "",
    care_model: str = "",
):
    """Service managers and administrators: the service report (the page's figures, by the
    same rules), for a period (start and end dates, the end included; by default the last
    twelve months) and optionally a team (id), a programme (key) and a care model."""
    if not selectors.can_read_service_report(request.auth):
        raise HttpError(403, "The service report is for service managers.")
    params = {"start": start, "end": end, "team": team, "programme": programme}
    params["care_model"] = care_model
    form = ReportFilterForm(params, service=request.auth.staff_profile.service)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    found = report.service_report(form.report_filter())
    wanted = found.filter
    return {
        "filter": {
            "start": wanted.start,
            "end": wanted.end,
            "team_id": wanted.team.pk if wanted.team else None,
            "programme": wanted.programme,
            "care_model": wanted.care_model,
        },
        "figures": [asdict(row) for row in found.rows()],
        "by_month": [
            {"month": month, **_outcomes(outcomes)} for month, outcomes in found.by_month.items()
        ],
    }


@router.get("/insights/settings", response=InsightSettingsOut, url_name="get_insight_settings")
def get_insight_settings(request):
    """Administrators: the alert and rupture thresholds of their service."""
    if not selectors.can_change_insight_settings(request.auth):
        raise HttpError(403, "Only an administrator can read these settings.")
    return selectors.settings_for_service(request.auth.staff_profile.service_id)


@router.put("/insights/settings", response=InsightSettingsOut, url_name="update_insight_settings")
def update_insight_settings(request, payload: InsightSettingsIn):
    """Administrators: change their service's thresholds (only those given). A value out of
    range changes nothing and is named in the answer."""
    if not selectors.can_change_insight_settings(request.auth):
        raise HttpError(403, "Only an administrator can change these settings.")
    values = payload.model_dump(exclude_none=True)
    return services.insight_settings_update(
        service=request.auth.staff_profile.service, actor=request.auth, **values
    )
