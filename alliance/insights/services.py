"""Raising and acknowledging alerts: the only code that writes them."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, User
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record
from alliance.insights.models import Alert, AlertEvent, AlertState


@transaction.atomic
def alert_raise(*, patient: Patient, kind: str, cause: str, summary: str) -> Alert:
    """Open an alert for the patient's care team; if one is open for this cause, that one."""
    existing = Alert.objects.filter(
        patient=patient, kind=kind, cause=cause, state=AlertState.OPEN
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                patient=patient,
                kind=kind,
                cause=cause,
                summary=summary[:300],
                owner=patient.supporter,
                raised_at=now,
            )
    except IntegrityError:
        return Alert.objects.get(patient=patient, kind=kind, cause=cause, state=AlertState.OPEN)
    AlertEvent.objects.create(alert=alert, at=now, event="raised", note=summary)
    return alert


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User, note: str, request=None) -> None:
    """Close an open alert with a note of the action taken (required)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write what you did about this alert.")})
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.OPEN:
        raise ValidationError({"note": _("This alert has been acknowledged already.")})
    now = timezone.now()
    locked.state = AlertState.ACKNOWLEDGED
    locked.acknowledged_at = now
    locked.acknowledged_by = actor
    locked.action_note = note
    locked.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "action_note"])
    AlertEvent.objects.create(alert=locked, at=now, actor=actor, event="acknowledged", note=note)
    audit_record(
        actor=actor,
        patient=locked.patient,
        action=AuditAction.UPDATE,
        what="alert acknowledged",
        detail={"alert": locked.pk, "old": "open", "new": "acknowledged"},
        request=request,
    )
    alert.state, alert.action_note = locked.state, locked.action_note


FEEDBACK_MAX = 4000


@transaction.atomic
def product_feedback_send(*, reporter: User, kind: str, text: str, page: str = ""):
    from alliance.insights.models import FeedbackKind, ProductFeedback

    text = (text or "").strip()
    if kind not in FeedbackKind.values:
        raise ValidationError({"kind": _("Choose a problem or a suggestion.")})
    if not text:
        raise ValidationError({"text": _("Describe the problem or your idea.")})
    if len(text) > FEEDBACK_MAX:
        raise ValidationError({"text": _("Keep it under %(n)d characters.") % {"n": FEEDBACK_MAX}})
    page = page if page.startswith("/") else ""
    return ProductFeedback.objects.create(
        reporter=reporter,
        service=reporter.staff_profile.service,
        kind=kind,
        text=text,
        page=page[:300],
    )


@transaction.atomic
def product_feedback_triage(*, feedback, actor: User, status: str, note: str = "") -> None:
    from alliance.insights.models import FeedbackStatus

    if status not in FeedbackStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    feedback.status = status
    feedback.triage_note = (note or "").strip()[:500]
    feedback.triaged_by = actor
    feedback.save(update_fields=["status", "triage_note", "triaged_by"])
