"""People and organisations: users, services, teams, staff roles, patients, tokens."""

import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: a patient or a member of staff. Signs in by e-mail."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    language = models.CharField(_("language"), max_length=10, default="en-gb")
    is_active = models.BooleanField(_("active"), default=True)
    # Only for Django's admin site, which Alliance does not expose.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name or self.email

    @property
    def staff_profile_or_none(self):
        try:
            return self.staff_profile
        except StaffProfile.DoesNotExist:
            return None

    @property
    def patient_or_none(self):
        try:
            return self.patient
        except Patient.DoesNotExist:
            return None

    @property
    def is_care_staff(self) -> bool:
        """True for every member of staff: they all need MFA and an idle timeout."""
        return self.staff_profile_or_none is not None


class Service(models.Model):
    """An organisation that delivers care, e.g. an NHS Talking Therapies service."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    # Shown to a patient at once when a risk answer or risk language is detected. Empty:
    # the default text (UK emergency numbers) is shown.
    crisis_info = models.TextField(_("crisis information"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("team")
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")
    DIGITAL_NAVIGATOR = "digital_navigator", _("Digital navigator")
    SUPERVISOR = "supervisor", _("Supervisor")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    RESEARCHER = "researcher", _("Researcher")
    CONTENT_AUTHOR = "content_author", _("Content author")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles whose members belong to teams and see the patients of those teams.
TEAM_ROLES = {Role.SUPPORTER, Role.DIGITAL_NAVIGATOR, Role.SUPERVISOR}


class StaffProfile(models.Model):
    """A member of staff's role in one service, and their teams."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    teams = models.ManyToManyField(Team, blank=True, related_name="staff")
    job_title = models.CharField(_("job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("member of staff")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="staff_role_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.display_name} ({self.get_role_display()})"


class Patient(models.Model):
    """A person receiving care from one service, with a care team and a named supporter."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="patients")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="patients", verbose_name=_("care team")
    )
    supporter = models.ForeignKey(
        StaffProfile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patients",
        verbose_name=_("named supporter"),
    )
    # The stable pseudonym research sees instead of the person.
    pseudonym = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient")

    def __str__(self) -> str:
        return self.user.display_name


class SignInLink(models.Model):
    """A one-time sign-in link sent to a patient by e-mail. Only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class ApiToken(models.Model):
    """A personal API token. Shown once at creation; only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
