"""Authored content as loaded from ``programs/``: programmes, their modules and pages.

Content is versioned: a programme is identified by (key, version) and a loaded version is
never changed in place. An episode points at the version it started with, so loading a
new version never changes an episode under way (see the README's content section).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgrammeKind(models.TextChoices):
    PROGRAMME = "programme", _("Programme")
    ADDON = "addon", _("Add-on modules")


class Programme(models.Model):
    key = models.SlugField(max_length=80)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField()
    kind = models.CharField(max_length=16, choices=ProgrammeKind.choices)
    # What it addresses, e.g. ["depression"], ["anxiety", "worry", "sleep"].
    problems = models.JSONField(default=list)
    # Care models it is written for: guided_self_help, blended, messaging.
    care_models = models.JSONField(default=list)
    # SHA-256 of the source files: reloading identical content is a no-op.
    content_hash = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="programme_key_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class UnlockRule(models.TextChoices):
    AFTER_PREVIOUS = "after_previous", _("After the previous module")
    DAYS_AFTER_START = "days_after_start", _("A number of days after the start")
    BY_SUPPORTER = "by_supporter", _("When the supporter unlocks it")


class SessionRelation(models.TextChoices):
    NONE = "", _("None")
    PREPARES = "prepares", _("Prepares for a session")
    FOLLOWS = "follows", _("Follows up a session")


class Module(models.Model):
    """One "session" of online work."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="modules")
    key = models.SlugField(max_length=80)
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    mandatory = models.BooleanField(default=True)
    unlock_rule = models.CharField(max_length=20, choices=UnlockRule.choices)
    unlock_days = models.PositiveIntegerField(null=True, blank=True)
    minutes = models.PositiveIntegerField()
    # Blended care: the face-to-face session this module prepares for or follows up.
    session_number = models.PositiveIntegerField(null=True, blank=True)
    session_relation = models.CharField(
        max_length=10, choices=SessionRelation.choices, blank=True, default=""
    )
    # The protocol guide for the supporter: look_at, ask, homework, online, call.
    guide = models.JSONField(default=dict)
    # Homework the module suggests, as short sentences.
    homework = models.JSONField(default=list)

    class Meta:
        ordering = ["programme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "key"], name="module_unique_key"),
            models.UniqueConstraint(fields=["programme", "position"], name="module_unique_pos"),
        ]

    def __str__(self) -> str:
        return self.title


class Page(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="pages")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    # Sanitised HTML made from the Markdown at load time.
    body_html = models.TextField()
    # Exercise kinds embedded in this page, in order (keys of checkins.exercises).
    exercises = models.JSONField(default=list)

    class Meta:
        ordering = ["module", "position"]
        constraints = [
            models.UniqueConstraint(fields=["module", "position"], name="page_unique_pos")
        ]

    def __str__(self) -> str:
        return self.title
