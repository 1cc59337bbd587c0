"""Episodes of care and their plans: module assignments, page progress, homework, contacts,
and the supporter's reviews with each service's review schedule."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedTextField


class CareModel(models.TextChoices):
    GUIDED_SELF_HELP = "guided_self_help", _("Guided self-help")
    BLENDED = "blended", _("Blended (online modules between face-to-face sessions)")
    MESSAGING = "messaging", _("Messaging")


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class EndReason(models.TextChoices):
    COMPLETED = "completed", _("Completed treatment")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    DECLINED = "declined", _("Declined further treatment")
    REFERRED_ON = "referred_on", _("Referred elsewhere")
    OTHER = "other", _("Other")


class Episode(models.Model):
    """One course of care: patient, programme version, care model, supporter, start, end."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="episodes"
    )
    programme = models.ForeignKey(
        "content.Programme", on_delete=models.PROTECT, related_name="episodes"
    )
    care_model = models.CharField(_("care model"), max_length=20, choices=CareModel.choices)
    supporter = models.ForeignKey(
        "accounts.StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="episodes",
    )
    status = models.CharField(
        max_length=10, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="episode_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_at__isnull=True)
                | Q(status="ended", ended_at__isnull=False),
                name="episode_end_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} – {self.programme}"


class ModuleAssignment(models.Model):
    """A module in an episode's plan, and the patient's progress through it."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="assignments")
    module = models.ForeignKey("content.Module", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    is_addon = models.BooleanField(default=False)
    # Set when the supporter unlocks the module (early, or an unlock-by-supporter module).
    unlocked_at = models.DateTimeField(null=True, blank=True)
    skipped_at = models.DateTimeField(null=True, blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    waive_reason = models.TextField(blank=True)
    # Progress: pages done in order, the page to resume at, completion.
    pages_done = models.PositiveIntegerField(default=0)
    resume_page = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["episode", "position"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "module"], name="assignment_unique_module"),
            models.CheckConstraint(
                condition=Q(waived_at__isnull=True) | ~Q(waive_reason=""),
                name="assignment_waive_needs_reason",
            ),
        ]


class Homework(models.Model):
    """Something the patient agreed to do: from a module, a review or a session."""

    class Source(models.TextChoices):
        MODULE = "module", _("Module")
        SUPPORTER = "supporter", _("Supporter")

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="homework")
    assignment = models.ForeignKey(
        ModuleAssignment, on_delete=models.CASCADE, null=True, blank=True, related_name="homework"
    )
    text = EncryptedTextField()
    source = models.CharField(max_length=10, choices=Source.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Where a supporter set it: in a contact (a session or call) or in a review.
    contact = models.ForeignKey(
        "Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="homework"
    )
    review = models.ForeignKey(
        "Review", on_delete=models.SET_NULL, null=True, blank=True, related_name="homework"
    )

    class Meta:
        ordering = ["done_at", "created_at"]


class ContactKind(models.TextChoices):
    FACE_TO_FACE = "face_to_face", _("Face-to-face")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")


class ContactStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ATTENDED = "attended", _("Attended")
    DID_NOT_ATTEND = "dna", _("Did not attend")
    CANCELLED = "cancelled", _("Cancelled")


class Contact(models.Model):
    """A session or call between patient and supporter (face-to-face, phone, video)."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="contacts")
    supporter = models.ForeignKey(
        "accounts.StaffProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    kind = models.CharField(max_length=16, choices=ContactKind.choices)
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=30)
    status = models.CharField(
        max_length=12, choices=ContactStatus.choices, default=ContactStatus.SCHEDULED
    )
    # The outcome, once recorded: what was talked about, and the supporter's time.
    notes = EncryptedTextField(blank=True, default="")
    minutes_spent = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    # Chosen by the client (a hidden form field, an API caller): a retried booking returns
    # the contact already booked. NULL when absent, so absent keys never collide.
    client_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["scheduled_at"]
        indexes = [
            models.Index(fields=["episode", "scheduled_at"]),
            models.Index(fields=["supporter", "scheduled_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "client_key"], name="contact_unique_client_key"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="contact_duration_positive"
            ),
        ]


class ReviewSchedule(models.Model):
    """How many days a service leaves between reviews of the patients of one care model.

    Without a row the default of ``alliance.care.reviews.DEFAULT_INTERVAL_DAYS`` applies.
    """

    service = models.ForeignKey(
        "accounts.Service", on_delete=models.CASCADE, related_name="review_schedules"
    )
    care_model = models.CharField(_("care model"), max_length=20, choices=CareModel.choices)
    interval_days = models.PositiveSmallIntegerField(_("days between reviews"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "care_model"], name="review_schedule_unique_care_model"
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1, interval_days__lte=90),
                name="review_schedule_interval_range",
            ),
        ]


class FeedbackDelivery(models.TextChoices):
    NONE = "", _("No feedback written")
    MESSAGE = "message", _("Sent as a message")
    WEEK = "week", _("Shown on the patient's week")


class Review(models.Model):
    """A supporter's look at a patient's work since the last review, ending in feedback.

    Open from the moment the supporter opens the review page until they mark it done; the
    time between is the time spent (capped, and editable before it is done).
    """

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        "accounts.StaffProfile", on_delete=models.PROTECT, related_name="reviews"
    )
    # The start of what this review looks at: the last review's end, or the episode start.
    covers_from = models.DateTimeField()
    opened_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    feedback = EncryptedTextField(_("feedback"), blank=True, default="")
    next_steps = EncryptedTextField(_("next steps"), blank=True, default="")
    minutes_spent = models.PositiveSmallIntegerField(null=True, blank=True)
    feedback_delivery = models.CharField(
        max_length=10, choices=FeedbackDelivery.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["opened_at", "pk"]
        indexes = [models.Index(fields=["episode", "completed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "reviewer"],
                condition=Q(completed_at__isnull=True),
                name="review_one_open_per_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(minutes_spent__isnull=False),
                name="review_done_has_minutes",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.completed_at is None
