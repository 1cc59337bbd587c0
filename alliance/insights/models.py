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


# ---------------------------------------------------------------- analytics
# The engagement record, engagement trajectories and each service's insight settings.


class EngagementEventKind(models.TextChoices):
    PAGE_COMPLETED = "page_completed", _("Page completed")


class EngagementEvent(models.Model):
    """One thing a patient did, when no other table keeps its time (e.g. a page finished).

    Append-only. ``key`` makes recording idempotent: a retry with the same key adds nothing.
    """

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.CASCADE, related_name="engagement_events"
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=24, choices=EngagementEventKind.choices)
    key = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "key"],
                condition=~Q(key=""),
                name="engagement_event_unique_key",
            ),
        ]
        indexes = [models.Index(fields=["at", "patient"])]


class ActivitySession(models.Model):
    """A run of a patient's visits with no gap longer than the session gap (30 minutes)."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.CASCADE, related_name="activity_sessions"
    )
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["patient", "-last_seen_at"]),
            models.Index(fields=["started_at", "patient"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=models.F("started_at")),
                name="activity_session_ordered",
            ),
        ]


class PatientDay(models.Model):
    """The engagement record: what one patient did on one day of their own calendar.

    Daily aggregates written by ``engagement_recompute`` (background tasks), so no page or
    report ever scans raw events.
    """

    patient = models.ForeignKey("accounts.Patient", on_delete=models.CASCADE, related_name="days")
    date = models.DateField()  # the patient's local date
    active = models.BooleanField(default=False)
    sessions = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0)
    pages_completed = models.PositiveIntegerField(default=0)
    modules_completed = models.PositiveIntegerField(default=0)
    exercises = models.PositiveIntegerField(default=0)
    checkins = models.PositiveIntegerField(default=0)
    messages_sent = models.PositiveIntegerField(default=0)
    messages_received = models.PositiveIntegerField(default=0)
    contacts_attended = models.PositiveIntegerField(default=0)
    contacts_missed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "date"], name="patient_day_unique"),
        ]
        indexes = [models.Index(fields=["date", "patient"])]


class EngagementLabel(models.TextChoices):
    SUSTAINED = "sustained", _("Sustained")
    EARLY_DROP_OFF = "early_drop_off", _("Early drop-off")
    LATE_DISENGAGEMENT = "late_disengagement", _("Late disengagement")
    LAPSED_AND_RESUMED = "lapsed_and_resumed", _("Lapsed and resumed")
    LOW_THROUGHOUT = "low_throughout", _("Low throughout")
    TOO_EARLY = "too_early", _("Too early to tell")


class EngagementClass(models.Model):
    """An episode's engagement trajectory: its weekly curve and the class it falls in."""

    episode = models.OneToOneField(
        "care.Episode", on_delete=models.CASCADE, related_name="engagement_class"
    )
    label = models.CharField(max_length=24, choices=EngagementLabel.choices)
    # Active days in each week since the episode started (at most 12 weeks).
    curve = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["label"])]


# Each threshold's allowed range (inclusive): the database constraints below and the
# settings service both read it, so a value out of range is refused the same everywhere.
INSIGHT_SETTING_RANGES = {
    "inactivity_days": (1, 90),
    "rupture_k": (0.5, 4.0),
    "rupture_sample_sd": (0.05, 2.0),
    "rupture_repair_window": (1, 6),
    "rupture_min_sessions": (3, 12),
    "missed_in_a_row": (1, 5),
    "review_overdue_days": (0, 30),
}


class InsightSettings(models.Model):
    """A service's thresholds for the alert rules and the rupture rule. Without a row, the
    defaults below apply (``alliance.insights.rules.settings_for``).

    ``rupture_sample_sd`` is the SD of session-to-session changes of the WAI-SR mean item
    score in a reference sample (reference §8). The default 0.35 is derived, not measured:
    a between-patient SD of about 0.75 and a session-to-session reliability of about 0.89
    give SD(difference) = 0.75 * sqrt(2 * (1 - 0.89)) ≈ 0.35. With k = 2 a rupture is then
    a fall of 0.7 in the mean (about 8 points of the 12–60 total). A service with its own
    data should set its own value.
    """

    service = models.OneToOneField(
        "accounts.Service", on_delete=models.CASCADE, related_name="insight_settings"
    )
    inactivity_days = models.PositiveSmallIntegerField(_("days without activity"), default=7)
    rupture_k = models.FloatField(_("rupture threshold (standard deviations)"), default=2.0)
    rupture_sample_sd = models.FloatField(
        _("reference SD of session-to-session change"), default=0.35
    )
    rupture_repair_window = models.PositiveSmallIntegerField(
        _("repair window (ratings)"), default=2
    )
    rupture_min_sessions = models.PositiveSmallIntegerField(
        _("ratings before the patient's own SD counts"), default=4
    )
    missed_in_a_row = models.PositiveSmallIntegerField(_("missed appointments in a row"), default=1)
    review_overdue_days = models.PositiveSmallIntegerField(
        _("days a review may be late"), default=2
    )
    deterioration_alerts = models.BooleanField(_("alert on reliable deterioration"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("insight settings")
        verbose_name_plural = _("insight settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}),
                name=f"insight_{name}_range",
            )
            for name, (low, high) in INSIGHT_SETTING_RANGES.items()
        ]
