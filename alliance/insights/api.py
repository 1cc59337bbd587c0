"""API operations of the insights app: alerts for the care team."""

from django.http import Http404
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.insights.models import Alert, AlertState, ProductFeedback
from alliance.insights.schemas import (
    AcknowledgeIn,
    AlertOut,
    ProductFeedbackIn,
    ProductFeedbackOut,
)
from alliance.insights.services import alert_acknowledge, product_feedback_send

router = Router(tags=["alerts"])


def visible_alerts(user):
    if policy.staff_role(user) is None:
        raise HttpError(403, "Alerts are for staff.")
    return Alert.objects.filter(patient__in=policy.patients_visible_to(user))


@router.get("/alerts", response=list[AlertOut], url_name="list_alerts")
def list_alerts(request, state: str = AlertState.OPEN):
    """Alerts about the patients you can see; open ones unless you ask for another state."""
    return list(visible_alerts(request.auth).filter(state=state).order_by("-raised_at")[:500])


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut, url_name="acknowledge_alert")
def acknowledge_alert(request, alert_id: int, payload: AcknowledgeIn):
    """Close an open alert with a note of the action taken (the note is required)."""
    alert = visible_alerts(request.auth).filter(pk=alert_id).first()
    if alert is None:
        raise Http404("Not found.")
    if not policy.can_act_on_alerts(request.auth):
        raise HttpError(403, "Only the care team can acknowledge alerts.")
    alert_acknowledge(alert=alert, actor=request.auth, note=payload.note, request=request)
    alert.refresh_from_db()
    return alert


@router.post(
    "/product-feedback", response={201: ProductFeedbackOut}, url_name="send_product_feedback"
)
def send_product_feedback(request, payload: ProductFeedbackIn):
    """Staff: report a problem or suggest an improvement (kind: problem or suggestion)."""
    if policy.staff_role(request.auth) is None:
        raise HttpError(403, "This is for staff.")
    return Status(
        201,
        product_feedback_send(
            reporter=request.auth, kind=payload.kind, text=payload.text, page=payload.page
        ),
    )


@router.get(
    "/product-feedback", response=list[ProductFeedbackOut], url_name="list_product_feedback"
)
def list_product_feedback(request):
    """Administrators: the feedback of their service's staff, newest first."""
    if not policy.can_manage_accounts(request.auth):
        raise HttpError(403, "Only an administrator can read the feedback.")
    return list(
        ProductFeedback.objects.filter(service_id=request.auth.staff_profile.service_id)[:500]
    )
