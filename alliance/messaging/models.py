"""Secure messaging: threads between a patient and their care team, messages, read state,
drafts, the service's messaging settings and template library, and a patient's request
for a different supporter.

Message text, drafts, a request's reason and a decision's note are encrypted at rest. A
message is never changed or deleted once sent. ``Thread`` keeps two summaries that the
sending service writes in the same transaction as the message (``last_message_at`` and
``awaiting_reply_since``), so inboxes and overdue flags are one indexed query.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedJSONField, EncryptedTextField
from alliance.messaging.replytime import DEFAULT_REPLY_TARGET, MAX_REPLY_TARGET, MIN_REPLY_TARGET
from alliance.messaging.risk import DEFAULT_RISK_PHRASES

MESSAGE_MAX_LENGTH = 5000


def default_risk_phrases() -> list[str]:
    return list(DEFAULT_RISK_PHRASES)


class MessagingSettings(models.Model):
    """A service's messaging settings. Without a row, the defaults apply."""

    service = models.OneToOneField(
        "accounts.Service", on_delete=models.CASCADE, related_name="messaging_settings"
    )
    reply_target_working_days = models.PositiveSmallIntegerField(
        _("reply target (working days)"), default=DEFAULT_REPLY_TARGET
    )
    risk_phrases = models.JSONField(_("risk phrases"), default=default_risk_phrases)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(reply_target_working_days__gte=MIN_REPLY_TARGET)
                & Q(reply_target_working_days__lte=MAX_REPLY_TARGET),
                name="messaging_reply_target_range",
            )
        ]


class Thread(models.Model):
    """The conversation between one patient and their care team."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="message_threads"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # When the oldest patient message still waiting for a reply was sent; empty when the
    # care team has replied (or marked that no reply is needed).
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("thread")
        constraints = [models.UniqueConstraint(fields=["patient"], name="thread_one_per_patient")]
        indexes = [models.Index(fields=["awaiting_reply_since"])]

    def __str__(self) -> str:
        return f"Thread {self.pk} of patient {self.patient_id}"


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("message"))
    sent_at = models.DateTimeField()
    is_from_patient = models.BooleanField()
    # Chosen by the client (a hidden form field, an API caller): a retry with the same key
    # answers with the message already sent. NULL when absent, so NULLs never collide.
    client_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    risk_flagged = models.BooleanField(default=False)
    # Which of the service's risk phrases matched (encrypted: it says what the patient wrote).
    risk_phrases = EncryptedJSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("message")
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_key"], name="message_unique_client_key"
            )
        ]
        indexes = [models.Index(fields=["thread", "sent_at"])]

    def __str__(self) -> str:
        return f"Message {self.pk}"


class MessageRead(models.Model):
    """How far one person (the patient, or one member of staff) has read a thread: every
    message sent at or before ``read_at`` counts as read by them."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="message_read_one_per_user")
        ]


class Draft(models.Model):
    """A message not sent yet: one per thread and author, kept until sent or emptied."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = EncryptedTextField(_("draft"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("draft")
        constraints = [
            models.UniqueConstraint(fields=["thread", "author"], name="draft_one_per_author")
        ]


class MessageTemplate(models.Model):
    """A service's message template, with placeholders filled in for each patient."""

    service = models.ForeignKey(
        "accounts.Service", on_delete=models.CASCADE, related_name="message_templates"
    )
    # Set on the starter templates, so loading them again adds only the missing ones.
    key = models.SlugField(max_length=60, null=True, blank=True)  # noqa: DJ001
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["service", "title"], name="template_unique_title"),
            models.UniqueConstraint(fields=["service", "key"], name="template_unique_key"),
        ]

    def __str__(self) -> str:
        return self.title


class ChangeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")


class SupporterChangeRequest(models.Model):
    """A patient's request for a different supporter, for their team's supervisors."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="supporter_change_requests"
    )
    reason = EncryptedTextField(_("reason"), blank=True)
    # The named supporter when the patient asked (the person they want to change from).
    supporter = models.ForeignKey(
        "accounts.StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    new_supporter = models.ForeignKey(
        "accounts.StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = EncryptedTextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("request for a different supporter")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="open"),
                name="supporter_change_one_open",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "decided"]), name="supporter_change_status_valid"
            ),
        ]
