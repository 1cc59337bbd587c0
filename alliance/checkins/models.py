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
