"""Account writes: creating people, sign-in links, API tokens, MFA, care-team changes."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import (
    ApiToken,
    Patient,
    Service,
    SignInLink,
    StaffProfile,
    Team,
    User,
)
from alliance.accounts.tasks import send_email
from alliance.audit.models import AuditAction
from alliance.audit.services import audit_record

RECOVERY_CODE_COUNT = 10


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalised_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("Enter a valid e-mail address, like name@example.org.")}
        ) from None
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    return email


def checked_password(password: str | None, user: User) -> str | None:
    if password is None:
        return None
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    return password


@transaction.atomic
def patient_create(
    *,
    service: Service,
    team: Team,
    email: str,
    full_name: str,
    supporter: StaffProfile | None = None,
    password: str | None = None,
    actor: User | None = None,
) -> Patient:
    """A new patient in ``team``; with no password they sign in by link or reset."""
    if team.service_id != service.pk:
        raise ValidationError({"team": _("The team must belong to the patient's service.")})
    if supporter is not None and not supporter.teams.filter(pk=team.pk).exists():
        raise ValidationError({"supporter": _("The supporter must belong to the care team.")})
    if not full_name.strip():
        raise ValidationError({"full_name": _("Enter the patient's name.")})
    user = User(email=normalised_email(email), full_name=full_name.strip())
    user.time_zone = service.time_zone
    checked_password(password, user)
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    patient = Patient.objects.create(user=user, service=service, team=team, supporter=supporter)
    if actor is not None:
        audit_record(
            actor=actor,
            patient=patient,
            action=AuditAction.CREATE,
            what="patient account",
            detail={"team": team.name, "supporter": supporter.user.email if supporter else None},
        )
    return patient


@transaction.atomic
def staff_create(
    *,
    service: Service,
    role: str,
    email: str,
    full_name: str,
    teams: list[Team] = (),
    password: str | None = None,
) -> StaffProfile:
    if any(team.service_id != service.pk for team in teams):
        raise ValidationError({"teams": _("Every team must belong to the same service.")})
    if not full_name.strip():
        raise ValidationError({"full_name": _("Enter the person's name.")})
    user = User(email=normalised_email(email), full_name=full_name.strip())
    user.time_zone = service.time_zone
    checked_password(password, user)
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    profile = StaffProfile.objects.create(user=user, service=service, role=role)
    profile.teams.set(teams)
    return profile


@transaction.atomic
def staff_set_active(*, actor: User, profile: StaffProfile, active: bool) -> None:
    """Deactivate (or reactivate) a member of staff; they are signed out everywhere."""
    profile.user.is_active = active
    profile.user.save(update_fields=["is_active"])
    if not active:
        ApiToken.objects.filter(user=profile.user, revoked_at=None).update(
            revoked_at=timezone.now()
        )


@transaction.atomic
def patient_assign_supporter(
    *, actor: User, patient: Patient, supporter: StaffProfile | None, request=None
) -> None:
    old = patient.supporter.user.email if patient.supporter else None
    patient.supporter = supporter
    patient.save(update_fields=["supporter"])
    audit_record(
        actor=actor,
        patient=patient,
        action=AuditAction.UPDATE,
        what="named supporter",
        detail={"old": old, "new": supporter.user.email if supporter else None},
        request=request,
    )


def absolute_url(path: str) -> str:
    return settings.ALLIANCE_SITE_URL.rstrip("/") + path


def sign_in_link_create(*, user: User) -> str:
    """A fresh one-time link's raw token (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        user=user,
        token_hash=token_digest(raw),
        expires_at=timezone.now() + timedelta(minutes=settings.ALLIANCE_SIGN_IN_LINK_MINUTES),
    )
    return raw


def sign_in_link_send(*, email: str) -> None:
    """E-mail a sign-in link to a patient with this address; silently nothing otherwise,
    so the form never tells whether an address has an account."""
    user = User.objects.filter(email=(email or "").strip().lower(), is_active=True).first()
    if user is None or user.patient_or_none is None:
        return
    raw = sign_in_link_create(user=user)
    link = absolute_url(reverse("accounts:sign_in_link", args=[raw]))
    body = render_to_string(
        "accounts/email/sign_in_link.txt",
        {"user": user, "link": link, "minutes": settings.ALLIANCE_SIGN_IN_LINK_MINUTES},
    )
    transaction.on_commit(
        lambda: send_email(to=user.email, subject=_("Your Alliance sign-in link"), body=body)
    )


class LinkInvalid(Exception):
    """The link is unknown, used already or expired."""


@transaction.atomic
def sign_in_link_redeem(*, raw: str) -> User:
    """Mark the link used and return its user; a second use fails."""
    now = timezone.now()
    link = (
        SignInLink.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=token_digest(raw))
        .first()
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LinkInvalid
    if not link.user.is_active:
        raise LinkInvalid
    updated = SignInLink.objects.filter(pk=link.pk, used_at=None).update(used_at=now)
    if updated != 1:
        raise LinkInvalid
    return link.user


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    if not name.strip():
        raise ValidationError({"name": _("Give the token a name you will recognise.")})
    raw = "al_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], token_hash=token_digest(raw), prefix=raw[:8]
    )
    return token, raw


def api_token_user(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_digest(raw), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def api_token_revoke(*, user: User, token_id: int) -> bool:
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at=None).update(
            revoked_at=timezone.now()
        )
    )


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up (made once, then reused)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a code from it; returns fresh recovery codes."""
    if not device.verify_token((code or "").replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_reset(user=user)


@transaction.atomic
def recovery_codes_reset(*, user: User) -> list[str]:
    """Replace the user's recovery codes with new one-time codes and return them."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def service_update_settings(*, service: Service, actor: User, crisis_info: str) -> None:
    service.crisis_info = (crisis_info or "").strip()
    service.save(update_fields=["crisis_info"])
