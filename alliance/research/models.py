"""Research: consent to research, projects over pseudonymised open-ended answers, codebooks,
codings by several coders, consensus, and themes.

What a researcher can reach is only what these models hold as pseudonymised: a project's
participants are pseudonyms (``Participant.pseudonym``), its documents are pseudonymised
texts. The link back to the person (``Participant.patient``, ``ResearchDocument
.source_response``) is kept server-side for consent withdrawal and refreshes, and is never
shown on a research page, in the API or in an export.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from alliance.lib.crypto import EncryptedTextField

colour_validator = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Give a colour as #RRGGBB."))


def new_project_secret() -> str:
    return secrets.token_hex(32)


# --- Consent -------------------------------------------------------------------------------


class ConsentDocument(models.Model):
    """A version of the research consent text, as published. Never changed once published:
    a new text is a new version."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]
        verbose_name = _("research consent document")

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ResearchConsent(models.Model):
    """A patient's consent to research, separate from their consent to treatment: to one
    version of the consent document, given at a time, withdrawable. At most one consent is
    in force per patient; agreeing to a newer version ends the older one as ``renewed``."""

    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="research_consents"
    )
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # True when it ended because the patient agreed to a newer version (not a withdrawal).
    renewed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-given_at"]
        verbose_name = _("research consent")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(withdrawn_at__isnull=True),
                name="research_consent_one_in_force",
            ),
        ]

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


# --- Projects ------------------------------------------------------------------------------


class ProjectStatus(models.TextChoices):
    OPEN = "open", _("Open for coding")
    RECONCILIATION = "reconciliation", _("Reconciliation")
    CLOSED = "closed", _("Closed")


# A project not yet closed: consent withdrawal removes a participant's documents from it.
ACTIVE_STATUSES = (ProjectStatus.OPEN, ProjectStatus.RECONCILIATION)


class ResearchProject(models.Model):
    service = models.ForeignKey(
        "accounts.Service", on_delete=models.PROTECT, related_name="research_projects"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(
        "accounts.StaffProfile", on_delete=models.PROTECT, related_name="led_projects"
    )
    # Sources: instrument codes, item keys (empty: every open question of those
    # instruments), a period of submission (dates in the service's zone, inclusive) and
    # programme keys (empty: any programme, and responses outside an episode).
    instruments = models.JSONField(default=list)
    questions = models.JSONField(default=list, blank=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    programmes = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.OPEN
    )
    # Blind: a coder sees only their own codings until reconciliation opens.
    blind = models.BooleanField(_("blind coding"), default=True)
    # Key of the pseudonyms of this project; never shown.
    secret = models.CharField(max_length=64, default=new_project_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    documents_refreshed_at = models.DateTimeField(null=True, blank=True)
    reconciliation_opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("research project")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ProjectStatus]),
                name="research_project_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=F("period_end")),
                name="research_project_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def others_hidden(self) -> bool:
        """Blind coding in progress: nobody sees another coder's codings yet."""
        return self.blind and self.status == ProjectStatus.OPEN


class MemberRole(models.TextChoices):
    LEAD = "lead", _("Project lead")
    CODER = "coder", _("Coder")
    ADJUDICATOR = "adjudicator", _("Adjudicator")


# Who codes, and who decides the consensus.
CODING_ROLES = (MemberRole.LEAD, MemberRole.CODER)
DECIDING_ROLES = (MemberRole.LEAD, MemberRole.ADJUDICATOR)


class ProjectMember(models.Model):
    project = models.ForeignKey(ResearchProject, on_delete=models.CASCADE, related_name="members")
    staff = models.ForeignKey(
        "accounts.StaffProfile", on_delete=models.PROTECT, related_name="research_memberships"
    )
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    # The coder's REFI-QDA identity in exports.
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "staff"], name="member_unique_staff"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(role="lead"), name="member_one_lead"
            ),
        ]

    @property
    def codes(self) -> bool:
        return self.role in CODING_ROLES

    @property
    def decides(self) -> bool:
        return self.role in DECIDING_ROLES


class Participant(models.Model):
    """A consenting patient as one project sees them: a pseudonym, stable in the project
    and different in every other project."""

    project = models.ForeignKey(
        ResearchProject, on_delete=models.CASCADE, related_name="participants"
    )
    # Server-side only: consent withdrawal and refreshes. Never shown to research.
    patient = models.ForeignKey("accounts.Patient", on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(max_length=16)

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["project", "patient"], name="participant_unique"),
            models.UniqueConstraint(
                fields=["project", "pseudonym"], name="participant_unique_pseudonym"
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class ResearchDocument(models.Model):
    """One answer to one open question, pseudonymised: what coders code."""

    project = models.ForeignKey(ResearchProject, on_delete=models.CASCADE, related_name="documents")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="documents")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    instrument = models.CharField(max_length=40)
    question = models.CharField(max_length=80)
    question_text = models.CharField(max_length=500)
    text = EncryptedTextField()
    # Server-side only, never shown to research: which response this answer came from.
    source_response = models.ForeignKey(
        "measures.Response", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_response", "question"], name="document_unique_answer"
            ),
        ]

    @property
    def name(self) -> str:
        return f"{self.participant.pseudonym} · {self.question}"


# --- Codebooks -----------------------------------------------------------------------------


class Codebook(models.Model):
    project = models.OneToOneField(
        ResearchProject, on_delete=models.CASCADE, related_name="codebook"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Code(models.Model):
    codebook = models.ForeignKey(Codebook, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    definition = models.TextField(_("definition"), blank=True)
    when_to_use = models.TextField(_("when to use"), blank=True)
    when_not_to_use = models.TextField(_("when not to use"), blank=True)
    example = models.TextField(_("example"), blank=True)
    colour = models.CharField(
        _("colour"), max_length=7, default="#1F5F63", validators=[colour_validator]
    )
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    is_codable = models.BooleanField(_("can be applied"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["codebook", "guid"], name="code_unique_guid"),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9A-Fa-f]{6}$"), name="code_colour_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- Coding --------------------------------------------------------------------------------


class Coding(models.Model):
    """A coder applied a code to a passage: characters [start, end) of the document's
    pseudonymised text, counted in Unicode codepoints from 0 (as REFI-QDA)."""

    document = models.ForeignKey(ResearchDocument, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="codings")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    memo = EncryptedTextField(blank=True, default="")
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_id", "start", "end", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="coding_span_valid"),
            # The same coder applying the same code to the same passage twice (a retry, a
            # double click) is one coding.
            models.UniqueConstraint(
                fields=["document", "code", "coder", "start", "end"], name="coding_unique"
            ),
        ]
        indexes = [models.Index(fields=["document", "coder"])]


class DocumentCompletion(models.Model):
    """A coder has finished a document: every code they did not apply, they judged absent.
    Agreement counts only finished documents."""

    document = models.ForeignKey(
        ResearchDocument, on_delete=models.CASCADE, related_name="completions"
    )
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "coder"], name="completion_unique"),
        ]


class ConsensusCoding(models.Model):
    """The agreed answer for one document and code: applied (with the passage) or not,
    who decided and why. Themes and reports read only these."""

    document = models.ForeignKey(
        ResearchDocument, on_delete=models.CASCADE, related_name="consensus"
    )
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="consensus")
    applied = models.BooleanField()
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    # True when every coder who finished the document agreed, so nobody had to decide.
    unanimous = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = EncryptedTextField(blank=True, default="")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["document_id", "code_id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "code"], name="consensus_unique"),
            models.CheckConstraint(
                condition=(
                    Q(applied=True, start__isnull=False, end__isnull=False) & Q(start__lt=F("end"))
                )
                | Q(applied=False, start__isnull=True, end__isnull=True),
                name="consensus_passage_matches",
            ),
        ]


# --- Themes --------------------------------------------------------------------------------


class Theme(models.Model):
    project = models.ForeignKey(ResearchProject, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    codes = models.ManyToManyField(Code, related_name="themes", blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="theme_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


# --- Suggested themes ----------------------------------------------------------------------


class SuggestionStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ThemeSuggestion(models.Model):
    """A background run that groups a project's responses by meaning and offers each group
    to the lead as a draft code. It never codes anything itself."""

    project = models.ForeignKey(
        ResearchProject, on_delete=models.CASCADE, related_name="suggestions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    backend = models.CharField(max_length=20, blank=True)
    # [{"label_words": [...], "document_ids": [...], "typical_document_id": n}], biggest
    # group first. Document ids, not texts: the texts stay encrypted in their documents.
    groups = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["queued", "running"]),
                name="suggestion_one_at_a_time",
            ),
        ]
