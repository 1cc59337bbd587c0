"""Exercise entries: what a patient writes in an exercise, every saved version, and comments.

An entry's data and every comment are encrypted at rest. An entry is never changed without
a new version: ``ExerciseEntryVersion`` keeps each save, so nothing a patient wrote is lost.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alliance.checkins.exercises import EXERCISE_KEYS, EXERCISE_TITLES
from alliance.lib.crypto import EncryptedJSONField, EncryptedTextField


class ExerciseEntry(models.Model):
    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="exercise_entries"
    )
    kind = models.CharField(_("exercise"), max_length=32, choices=list(EXERCISE_TITLES.items()))
    data = EncryptedJSONField()
    # The module the patient started it from, if any (a content module's key).
    module_key = models.CharField(max_length=80, blank=True, default="")
    # Chosen by the client (a hidden form field, an API caller): a retry with the same key
    # returns the entry already made instead of making a second one. NULL, not "", when
    # absent: NULLs never collide in the unique constraint.
    client_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("exercise entry")
        verbose_name_plural = _("exercise entries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EXERCISE_KEYS), name="exercise_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="exercise_entry_version_positive"
            ),
            models.UniqueConstraint(
                fields=["patient", "client_key"], name="exercise_entry_unique_client_key"
            ),
        ]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ExerciseEntryVersion(models.Model):
    """One save of an entry, as it was then. Version 1 is the entry as first saved."""

    entry = models.ForeignKey(ExerciseEntry, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    data = EncryptedJSONField()
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["entry", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="exercise_version_unique")
        ]


class ExerciseComment(models.Model):
    """A member of the care team's comment on an entry, which the patient reads."""

    entry = models.ForeignKey(ExerciseEntry, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("comment")


class DailyCheckIn(models.Model):
    """A patient's daily check-in: mood 0-10 and optional details, one per day.

    ``local_date`` is the day in the patient's own time zone when they checked in. The
    activity and the note are free text, so they are encrypted at rest.
    """

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="daily_checkins"
    )
    local_date = models.DateField(_("day"))
    mood = models.PositiveSmallIntegerField(_("mood"))
    # Keys of ``daily.FEELINGS``, in the vocabulary's order.
    feelings = models.JSONField(_("feelings"), default=list, blank=True)
    sleep_hours = models.DecimalField(
        _("hours of sleep"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    activity = EncryptedTextField(_("activity"), blank=True, default="")
    note = EncryptedTextField(_("note"), blank=True, default="")
    # The idempotency key of the save that made it (every key used is in CheckInKey).
    client_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(fields=["patient", "local_date"], name="checkin_one_per_day"),
            models.UniqueConstraint(
                fields=["patient", "client_key"], name="checkin_unique_client_key"
            ),
            models.CheckConstraint(
                condition=models.Q(mood__gte=0, mood__lte=10), name="checkin_mood_0_to_10"
            ),
            models.CheckConstraint(
                condition=models.Q(sleep_hours__isnull=True)
                | models.Q(sleep_hours__gte=0, sleep_hours__lte=24),
                name="checkin_sleep_0_to_24",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.local_date}: {self.mood}"


class CheckInKey(models.Model):
    """Every idempotency key a save of a check-in came with (the first save and each
    same-day change), so a retry of any of them, however late, changes nothing."""

    patient = models.ForeignKey("accounts.Patient", on_delete=models.PROTECT, related_name="+")
    client_key = models.CharField(max_length=64)
    checkin = models.ForeignKey(DailyCheckIn, on_delete=models.CASCADE, related_name="keys")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "client_key"], name="checkin_key_unique")
        ]
