"""Questionnaires sent to patients, their responses and stored scores, and licences.

A response is scored once, when it is submitted, and the score is stored with it: pages,
reports and exports read the stored score and never recompute it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedJSONField


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Not started")
    IN_PROGRESS = "in_progress", _("Started")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.IN_PROGRESS)


class QuestionnaireRequest(models.Model):
    """A questionnaire sent to a patient: by the schedule, or by a member of staff."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="questionnaire_requests"
    )
    episode = models.ForeignKey(
        "care.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questionnaire_requests",
    )
    instrument = models.CharField(max_length=40)
    # Why it was sent, unique per patient and instrument: "start", "middle", "end",
    # "follow_up", "contact:<id>", "contact_no:3", or "sent:<uuid>" for one sent by staff.
    occasion = models.CharField(max_length=80)
    available_from = models.DateTimeField()
    due_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # Answers saved part-way; never scored.
    draft = EncryptedJSONField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument", "occasion"], name="request_unique_occasion"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status", "available_from"])]


class Response(models.Model):
    """One completed answer set and its score, computed once at submission."""

    request = models.OneToOneField(
        QuestionnaireRequest, on_delete=models.PROTECT, related_name="response"
    )
    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="responses"
    )
    episode = models.ForeignKey(
        "care.Episode", on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    instrument = models.CharField(max_length=40)
    submitted_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The answers as ticked (indices or values, reference §9.1); free text of surveys is
    # kept apart, encrypted.
    answers = models.JSONField(default=list)
    text_answers = EncryptedJSONField(null=True, blank=True)
    difficulty = models.PositiveSmallIntegerField(null=True, blank=True)
    # The stored score.
    total = models.IntegerField(null=True, blank=True)
    severity = models.CharField(max_length=40, blank=True)
    risk = models.BooleanField(null=True)
    caseness = models.BooleanField(null=True)
    item_scores = models.JSONField(default=list)
    subscales = models.JSONField(default=dict)
    mean = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at"]
        indexes = [
            models.Index(fields=["patient", "instrument", "submitted_at"]),
            models.Index(fields=["episode", "instrument", "submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(total__gte=0),
                name="response_total_not_negative",
            ),
        ]


class InstrumentLicence(models.Model):
    """A service's record that it holds the licence for a copyrighted instrument."""

    service = models.ForeignKey(
        "accounts.Service", on_delete=models.CASCADE, related_name="instrument_licences"
    )
    instrument = models.CharField(max_length=40)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "instrument"], name="licence_unique"),
        ]


class ServiceInstrument(models.Model):
    """A service's own instrument, kept as the validated source of its data file."""

    service = models.ForeignKey(
        "accounts.Service", on_delete=models.CASCADE, related_name="instruments"
    )
    code = models.CharField(max_length=40)
    source = models.TextField()
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="service_instrument_unique"),
        ]
