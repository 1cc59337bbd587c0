"""The notify app's configuration: a Django setting of the same name wins, then the
environment, then the default. VAPID keys for web push are made once at set-up (into the
data folder, like the secret key) or come from the environment in production."""

import base64
import os
from email.utils import parseaddr
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def setting_int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return int(value)


def lease_seconds() -> int:
    """How long a worker's claim on a batch lasts without a renewal (a killed worker's
    reminders are taken over by another once it runs out)."""
    return setting_int("NOTIFY_LEASE_SECONDS", 300)


def batch_size() -> int:
    return setting_int("NOTIFY_BATCH_SIZE", 500)


def max_failures() -> int:
    """Failed attempts of one channel before it is given up."""
    return setting_int("NOTIFY_MAX_FAILURES", 5)


def grace_minutes() -> int:
    """A scheduled reminder found later than this (the workers were down) is not sent."""
    return setting_int("NOTIFY_GRACE_MINUTES", 120)


def requeue_minutes() -> int:
    """A queued batch not started by then is queued again (its task was lost)."""
    return setting_int("NOTIFY_REQUEUE_MINUTES", 10)


def send_timeout_seconds() -> int:
    return setting_int("NOTIFY_SEND_TIMEOUT", 20)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_key_raw(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key_raw(key: ec.EllipticCurvePrivateKey) -> str:
    """The application server key browsers are given: the uncompressed P-256 point."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def key_from_raw(raw: str) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), "big")
    return ec.derive_private_key(value, ec.SECP256R1())


@cache
def vapid_keys() -> tuple[str, str]:
    """(private, public) VAPID keys, base64url raw. From VAPID_PRIVATE_KEY (and
    VAPID_PUBLIC_KEY, checked against it) or, outside production, made once into the data
    folder."""
    private = getattr(settings, "VAPID_PRIVATE_KEY", None) or os.environ.get(
        "VAPID_PRIVATE_KEY", ""
    )
    if not private:
        if settings.PRODUCTION:
            raise ImproperlyConfigured(
                "VAPID_PRIVATE_KEY must be set when ALLIANCE_ENV=production "
                "(make one with `alliance notify vapid --new`)."
            )
        key_file = settings.DATA_DIR / "vapid_private_key"
        if not key_file.exists():
            key_file.write_text(private_key_raw(ec.generate_private_key(ec.SECP256R1())))
            key_file.chmod(0o600)
        private = key_file.read_text().strip()
    key = key_from_raw(private.strip())
    public = public_key_raw(key)
    configured_public = getattr(settings, "VAPID_PUBLIC_KEY", None) or os.environ.get(
        "VAPID_PUBLIC_KEY", ""
    )
    if configured_public and configured_public.strip() != public:
        raise ImproperlyConfigured("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    return private.strip(), public


def new_vapid_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    return private_key_raw(key), public_key_raw(key)


def vapid_subject() -> str:
    """Who push services contact about our pushes: NOTIFY_VAPID_SUBJECT, else the sender's
    address."""
    subject = getattr(settings, "NOTIFY_VAPID_SUBJECT", None) or os.environ.get(
        "NOTIFY_VAPID_SUBJECT", ""
    )
    if subject:
        return subject
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "no-reply@alliance.invalid"
    return f"mailto:{address}"
