"""Reminders and notifications: the patient's settings, the schedules they make, every
reminder to send (one per patient, kind and slot), each channel's delivery attempt, the
in-app notifications and the devices subscribed to web push.

Exactly once: a ``Reminder`` is unique per (patient, kind, slot key), so a finder that runs
twice, or on two workers, makes it once; a worker claims it with a conditional update and a
lease before sending; at most one *sent* attempt may exist per reminder and channel, and one
in-app notification per reminder (database constraints, not code, say so).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedTextField
from alliance.notify import rules


def default_channels() -> list[str]:
    return list(rules.default_settings().channels)


class ReminderSettings(models.Model):
    """One per patient: channels, quiet hours, caps, pause and the all-off switch. The
    per-kind choices are the patient's ``ReminderSchedule`` rows."""

    patient = models.OneToOneField(
        "accounts.Patient", on_delete=models.CASCADE, related_name="reminder_settings"
    )
    channels = models.JSONField(_("channels"), default=default_channels)
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    max_per_day = models.PositiveSmallIntegerField(_("at most a day"), default=1)
    max_per_week = models.PositiveSmallIntegerField(_("at most a week"), default=5)
    # The last local date of a pause (inclusive); reminders resume the day after.
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    all_off = models.BooleanField(_("all reminders off"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_per_day__gte=1) & Q(max_per_week__gte=1),
                name="reminder_settings_caps_positive",
            ),
        ]


class ReminderSchedule(models.Model):
    """One kind of reminder for one patient: on or off, which days, what local time, and
    when it is next due (kept up to date so the finder is one indexed query)."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.CASCADE, related_name="reminder_schedules"
    )
    kind = models.CharField(max_length=20, choices=[(k, rules.KIND_LABELS[k]) for k in rules.KINDS])
    enabled = models.BooleanField(default=False)
    days = models.JSONField(default=list)  # ["mon", "tue", ...]
    time_of_day = models.TimeField(null=True, blank=True)  # local; None for event kinds
    # The next slot (UTC) and its local date; None when off or event-driven.
    next_due_at = models.DateTimeField(null=True, blank=True)
    next_local_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind"], name="reminder_schedule_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=rules.KINDS), name="reminder_schedule_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["next_due_at"], name="reminder_schedule_due")]


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CAPPED = "capped", _("Not sent: limit reached")
    SKIPPED = "skipped", _("Not sent")


# Reminders that count towards the caps: every one that was or will be sent.
COUNTED_STATUSES = (
    ReminderStatus.PENDING,
    ReminderStatus.QUEUED,
    ReminderStatus.SENDING,
    ReminderStatus.SENT,
    ReminderStatus.FAILED,
)
OPEN_STATUSES = (ReminderStatus.PENDING, ReminderStatus.QUEUED, ReminderStatus.SENDING)


class Reminder(models.Model):
    """One prompt to one patient, for one kind and slot, on the channels chosen when it
    was made. ``slot_key`` is the slot's UTC start for scheduled kinds, the caller's
    de-duplication key for events."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=20)
    slot_key = models.CharField(max_length=120)
    slot_start = models.DateTimeField()
    local_date = models.DateField()  # the patient's date of the slot, for the caps
    channels = models.JSONField(default=list)
    # Event reminders carry their own words; scheduled ones are worded when sent (NULL:
    # nothing to encrypt for the many scheduled ones).
    title = EncryptedTextField(null=True, blank=True, default=None)  # noqa: DJ001
    body = EncryptedTextField(null=True, blank=True, default=None)  # noqa: DJ001
    url = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    reason = models.CharField(max_length=200, blank=True, default="")
    # Not before this instant (quiet hours, back-off after a failure).
    next_attempt_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    # How many times a worker claimed it: more than once, an earlier claim may have sent
    # some channels already.
    claims = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker sending it, valid until lease_until.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "slot_key"], name="reminder_unique_slot"
            ),
        ]
        # Partial indexes: only the few reminders under way are in them, not the many
        # finished ones, so writing a finished reminder costs no index entry.
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "queued", "sending"]),
                name="reminder_open",
            ),
            models.Index(
                fields=["claim_token"], condition=~Q(claim_token=""), name="reminder_claimed"
            ),
            models.Index(fields=["patient", "local_date"], name="reminder_patient_day"),
        ]


class AttemptStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    OPENED = "opened", _("Sent and opened")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not applicable")


SENT_STATUSES = (AttemptStatus.SENT, AttemptStatus.OPENED)


class DeliveryAttempt(models.Model):
    """One try of one channel for one reminder: the delivery log staff see."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices)
    detail = models.CharField(max_length=300, blank=True, default="")
    at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "channel"],
                condition=Q(status__in=["sent", "opened"]),
                name="attempt_one_sent_per_channel",
            ),
        ]


class Notification(models.Model):
    """An in-app notification in a person's notification centre."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    reminder = models.OneToOneField(
        Reminder, on_delete=models.CASCADE, null=True, blank=True, related_name="notification"
    )
    kind = models.CharField(max_length=20)
    title = EncryptedTextField()
    body = EncryptedTextField(blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["user", "-created_at"], name="notification_recent"),
        ]


class PushSubscription(models.Model):
    """A browser or phone that agreed to receive web push for this person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
