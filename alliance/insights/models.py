"""Alerts: something that needs a member of staff, open until acknowledged, with history.

An alert has a patient, a kind and a cause (what raised it, e.g. ``response:42``); while one
is open there is never a second for the same patient, kind and cause.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedTextField


class AlertKind(models.TextChoices):
    RISK = "risk", _("Risk")
    DETERIORATION = "deterioration", _("Reliable deterioration")
    RUPTURE = "rupture", _("Alliance rupture")
    INACTIVITY = "inactivity", _("Inactive")
    OVERDUE = "overdue", _("Overdue")
    MISSED_APPOINTMENT = "missed_appointment", _("Missed appointment")


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    patient = models.ForeignKey("accounts.Patient", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    cause = models.CharField(max_length=80)
    summary = models.CharField(max_length=300)
    owner = models.ForeignKey(
        "accounts.StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    state = models.CharField(max_length=14, choices=AlertState.choices, default=AlertState.OPEN)
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "cause"],
                condition=Q(state="open"),
                name="alert_one_open_per_cause",
            ),
        ]
        indexes = [models.Index(fields=["state", "patient"])]


class AlertEvent(models.Model):
    """The alert's history: raised, acknowledged (with the action taken), resolved."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=20)
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at"]


class FeedbackKind(models.TextChoices):
    PROBLEM = "problem", _("Report a problem")
    SUGGESTION = "suggestion", _("Suggest an improvement")


class FeedbackStatus(models.TextChoices):
    NEW = "new", _("New")
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


class ProductFeedback(models.Model):
    """A member of staff's report or suggestion to the product team, with the page it
    was sent from; administrators triage it."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        "accounts.Service", on_delete=models.CASCADE, related_name="product_feedback"
    )
    kind = models.CharField(max_length=12, choices=FeedbackKind.choices)
    # Staff may mention a patient while describing a problem: kept encrypted.
    text = EncryptedTextField()
    page = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW
    )
    triage_note = models.CharField(max_length=500, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
