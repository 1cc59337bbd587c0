"""Encryption at rest for free text: model fields that store Fernet tokens.

Keys come from ``ALLIANCE_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest first);
outside production one key is generated once into the data folder. Decryption tries every
key, so a new key can be put first and old rows re-encrypted later (key rotation).
"""

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def configured_keys() -> list[str]:
    keys = [k.strip() for k in settings.ALLIANCE_ENCRYPTION_KEYS.split(",") if k.strip()]
    if keys:
        return keys
    if settings.PRODUCTION:
        raise ImproperlyConfigured("ALLIANCE_ENCRYPTION_KEYS must be set in production.")
    key_file = settings.DATA_DIR / "encryption_key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


@cache
def cipher() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in configured_keys()])


def encrypt_text(plain: str) -> str:
    return cipher().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with ALLIANCE_ENCRYPTION_KEYS."
        ) from error


def reencrypt(token: str) -> str:
    """The same plaintext under the newest key (for rotation)."""
    return cipher().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; read and written as plain ``str``."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt_text(value)


class EncryptedJSONField(models.TextField):
    """A JSON document kept encrypted in the database; read and written as Python data."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(decrypt_text(value))

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt_text(json.dumps(value, sort_keys=True, ensure_ascii=False))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))
