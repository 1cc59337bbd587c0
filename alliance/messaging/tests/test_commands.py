"""`alliance encryption rotate/new-key` and `alliance messaging load-templates`."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from alliance.accounts.models import Service
from alliance.checkins import services as checkin_services
from alliance.checkins.models import ExerciseEntry
from alliance.checkins.tests.conftest import valid
from alliance.lib.crypto import cipher
from alliance.messaging import selectors, services
from alliance.messaging.management.commands.encryption import encrypted_fields_by_model
from alliance.messaging.models import Draft, Message, MessageTemplate, SupporterChangeRequest
from alliance.messaging.starter_templates import STARTER_TEMPLATES
from alliance.messaging.tests.conftest import send


@pytest.fixture
def keys(settings):
    """Set ``settings.ALLIANCE_ENCRYPTION_KEYS`` through ``use(...)``; the cached cipher
    is cleared each time and after the test."""

    def use(*fernet_keys):
        settings.ALLIANCE_ENCRYPTION_KEYS = ",".join(fernet_keys)
        cipher.cache_clear()

    yield use
    cipher.cache_clear()


def raw_values() -> dict[tuple[str, int, str], str]:
    """Every stored encrypted value in the database, as stored."""
    values = {}
    with connection.cursor() as cursor:
        for model, names in encrypted_fields_by_model():
            table = model._meta.db_table
            for name in names:
                column = model._meta.get_field(name).column
                pk = model._meta.pk.column
                cursor.execute(
                    f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'  # noqa: S608
                )
                for row_pk, value in cursor.fetchall():
                    values[(table, row_pk, column)] = value
    return values


def make_clinical_text(alice, sam, episode):
    from alliance.care import services as care_services

    send(alice, alice, "My private message")
    services.draft_save(thread=selectors.thread_for(alice), author=sam.user, body="Draft reply")
    services.supporter_change_request(patient=alice, actor=alice.user, reason="Private reason")
    entry, _created = checkin_services.entry_create(
        patient=alice, kind="journal", data=valid("journal"), actor=alice.user
    )
    checkin_services.entry_comment(entry=entry, author=sam.user, text="Private comment")
    care_services.homework_add(episode=episode, text="Private homework", actor=sam.user)


class TestEncryptionRotate:
    def test_it_discovers_every_encrypted_field_of_the_project(self):
        labels = {model._meta.label: names for model, names in encrypted_fields_by_model()}
        assert labels["messaging.Message"] == ["body", "risk_phrases"]
        assert labels["messaging.Draft"] == ["body"]
        assert labels["checkins.ExerciseEntry"] == ["data"]
        assert "care.Homework" in labels and "insights.Alert" in labels

    def test_it_reencrypts_everything_under_the_new_key(self, keys, alice, sam, episode):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        keys(old)
        make_clinical_text(alice, sam, episode)
        before = raw_values()
        assert len(before) >= 7
        updated_at = ExerciseEntry.objects.get().updated_at

        keys(new, old)
        # Before rotation the old key still decrypts.
        assert Message.objects.get().body == "My private message"
        out = StringIO()
        call_command("encryption", "rotate", "--batch-size", "2", stdout=out)
        after = raw_values()

        assert set(after) == set(before)
        assert [key for key in before if after[key] == before[key]] == []
        only_new = Fernet(new.encode())
        for value in after.values():
            only_new.decrypt(value.encode())  # raises InvalidToken if under another key
        report = out.getvalue()
        assert "messaging.Message (body, risk_phrases): 1 rows re-encrypted." in report
        assert "Done:" in report

        keys(new)  # the old key removed: everything still reads
        assert Message.objects.get().body == "My private message"
        assert Draft.objects.get().body == "Draft reply"
        assert SupporterChangeRequest.objects.get().reason == "Private reason"
        assert ExerciseEntry.objects.get().data == valid("journal")
        assert ExerciseEntry.objects.get().updated_at == updated_at
        assert "My private message" not in str(after)

    def test_it_stops_and_says_so_when_a_key_is_missing(self, keys, alice):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        keys(old)
        send(alice, alice, "Written with the old key")
        before = raw_values()
        keys(new)  # the old key forgotten too soon
        with pytest.raises(CommandError) as error:
            call_command("encryption", "rotate", stdout=StringIO())
        assert "cannot be decrypted" in str(error.value)
        assert raw_values() == before
        keys(old)
        assert Message.objects.get().body == "Written with the old key"

    def test_it_prints_a_new_key(self):
        out = StringIO()
        call_command("encryption", "new-key", stdout=out)
        key = out.getvalue().strip()
        assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


class TestLoadTemplates:
    def test_it_adds_the_starter_templates_once(self, riverside, hillside):
        out = StringIO()
        call_command("messaging", "load-templates", stdout=out)
        call_command("messaging", "load-templates", "--service", "riverside", stdout=out)
        assert MessageTemplate.objects.filter(service=riverside).count() == len(STARTER_TEMPLATES)
        assert MessageTemplate.objects.filter(service=hillside).count() == len(STARTER_TEMPLATES)
        assert "riverside: 0 starter templates added." in out.getvalue()

    def test_it_refuses_an_unknown_service(self, db):
        with pytest.raises(CommandError):
            call_command("messaging", "load-templates", "--service", "nowhere")
        assert not Service.objects.exists() and not MessageTemplate.objects.exists()
