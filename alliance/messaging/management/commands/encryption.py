"""`alliance encryption rotate` and `alliance encryption new-key`: key rotation for the
free text kept encrypted at rest.

To rotate: put a new key first in ``ALLIANCE_ENCRYPTION_KEYS`` (keep the old ones after
it), restart, run ``alliance encryption rotate``, then remove the old keys and restart.
``rotate`` re-encrypts every encrypted field of every model in the project under the
first key, in batches, each batch in its own transaction with its rows locked, so it can
run while Alliance is in use and can be run again after an interruption.
"""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from alliance.lib.crypto import EncryptedJSONField, EncryptedTextField, cipher

ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)


def encrypted_fields_by_model() -> list[tuple[type, list[str]]]:
    """Every concrete model with encrypted fields, and those fields' names."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, ENCRYPTED_FIELDS)
        ]
        if names:
            found.append((model, names))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def reencrypt_model(model, names: list[str], *, batch_size: int) -> int:
    """Load each row (decrypting with any configured key) and write its encrypted fields
    back (encrypting with the first key). Returns the number of rows rewritten."""
    manager = model._base_manager
    done = 0
    last_pk = None
    # Walk the table by primary key, one locked batch per transaction: no cursor held open
    # across transactions (a server-side iterator() cursor would be, and one left open by a
    # value that cannot be decrypted breaks the connection), and no change made by a user
    # in the meantime is overwritten.
    while True:
        with transaction.atomic():
            rows = manager.select_for_update().order_by("pk").only("pk", *names)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows[:batch_size])
            if not batch:
                return done
            manager.bulk_update(batch, names, batch_size=batch_size)
        done += len(batch)
        last_pk = batch[-1].pk


class Command(BaseCommand):
    help = _(
        "Encryption at rest. 'rotate' re-encrypts every encrypted field under the first key "
        "of ALLIANCE_ENCRYPTION_KEYS; 'new-key' prints a fresh key."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rotate", "new-key"])
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help=_("Rows re-encrypted per transaction (default 500)."),
        )

    def handle(self, *args, **options):
        if options["action"] == "new-key":
            from cryptography.fernet import Fernet

            self.stdout.write(Fernet.generate_key().decode())
            return
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        cipher.cache_clear()  # read the keys as they are now
        total = 0
        for model, names in encrypted_fields_by_model():
            try:
                count = reencrypt_model(model, names, batch_size=batch_size)
            except ImproperlyConfigured as error:
                raise CommandError(
                    _(
                        "%(model)s: a stored value cannot be decrypted with the configured "
                        "keys. Put back the key it was written with (after the new one) and "
                        "run again. Nothing of this batch was changed."
                    )
                    % {"model": model._meta.label}
                ) from error
            total += count
            self.stdout.write(
                _("%(model)s (%(fields)s): %(n)d rows re-encrypted.")
                % {"model": model._meta.label, "fields": ", ".join(names), "n": count}
            )
        self.stdout.write(_("Done: %(n)d rows re-encrypted under the first key.") % {"n": total})
