"""Writing and reading exercise entries: validation, versions, idempotency, comments,
encryption at rest, and reads through the access policy."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from alliance.audit.models import AuditAction, AuditEntry
from alliance.checkins import selectors, services
from alliance.checkins.exercises import EXERCISE_KEYS
from alliance.checkins.models import ExerciseComment, ExerciseEntry, ExerciseEntryVersion
from alliance.checkins.tests.conftest import SECRET_PHRASE, make_entry, valid


def counts() -> tuple[int, int, int]:
    return (
        ExerciseEntry.objects.count(),
        ExerciseEntryVersion.objects.count(),
        ExerciseComment.objects.count(),
    )


def raw_column(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608  (fixed names)
        return [row[0] for row in cursor.fetchall()]


class TestEntryCreate:
    @pytest.mark.parametrize("kind", EXERCISE_KEYS)
    def test_it_saves_an_entry_and_its_first_version(self, alice, kind):
        entry, created = services.entry_create(
            patient=alice,
            kind=kind,
            data=valid(kind),
            actor=alice.user,
            module_key="getting-active",
        )
        assert created
        entry.refresh_from_db()
        assert (entry.kind, entry.version, entry.module_key) == (kind, 1, "getting-active")
        assert entry.data == valid(kind)
        first = entry.versions.get()
        assert (first.version, first.data, first.saved_by) == (1, valid(kind), alice.user)

    @pytest.mark.parametrize(
        "kind, change, field",
        [
            ("activity_plan", {"pleasure": 11}, "pleasure"),
            ("thought_record", {"emotions": [{"emotion": "Sad", "intensity": 101}]}, "emotions"),
            ("thought_record", {"situation": ""}, "situation"),
            ("goal_plan", {"barriers": [{"barrier": "Rain"}]}, "barriers"),
            ("problem_solving", {"options": []}, "options"),
            ("journal", {"reflection": None}, "reflection"),
        ],
    )
    def test_it_refuses_bad_answers_and_saves_nothing(self, alice, kind, change, field):
        before = counts()
        with pytest.raises(ValidationError) as error:
            services.entry_create(
                patient=alice, kind=kind, data={**valid(kind), **change}, actor=alice.user
            )
        assert list(error.value.message_dict) == [field]
        assert counts() == before

    def test_it_refuses_an_unknown_exercise(self, alice):
        with pytest.raises(ValidationError) as error:
            services.entry_create(patient=alice, kind="dream_diary", data={}, actor=alice.user)
        assert list(error.value.message_dict) == ["kind"]
        assert counts() == (0, 0, 0)

    def test_it_refuses_a_module_key_that_is_not_a_key(self, alice):
        with pytest.raises(ValidationError) as error:
            make_entry(alice, module_key="<script>")
        assert list(error.value.message_dict) == ["module_key"]
        assert counts() == (0, 0, 0)

    def test_it_lets_only_the_patient_write_their_entries(self, alice, bob, sam):
        for actor in (sam.user, bob.user):
            with pytest.raises(PermissionDenied):
                services.entry_create(
                    patient=alice, kind="journal", data=valid("journal"), actor=actor
                )
        assert counts() == (0, 0, 0)

    def test_it_returns_the_same_entry_for_a_repeated_client_key(self, alice):
        first, created = services.entry_create(
            patient=alice,
            kind="journal",
            data=valid("journal"),
            actor=alice.user,
            client_key="form-1234abcd",
        )
        again, created_again = services.entry_create(
            patient=alice,
            kind="journal",
            data=valid("journal"),
            actor=alice.user,
            client_key="form-1234abcd",
        )
        assert created and not created_again
        assert again.pk == first.pk
        assert counts() == (1, 1, 0)

    def test_it_returns_the_entry_for_its_client_key_even_after_an_edit(self, alice):
        entry = make_entry(alice, "journal", client_key="form-1234abcd")
        services.entry_update(
            entry=entry, data={"reflection": "Changed"}, actor=alice.user, expected_version=1
        )
        again, created = services.entry_create(
            patient=alice,
            kind="journal",
            data=valid("journal"),
            actor=alice.user,
            client_key="form-1234abcd",
        )
        assert (again.pk, created, again.version) == (entry.pk, False, 2)

    def test_it_refuses_a_client_key_reused_with_other_answers(self, alice):
        make_entry(alice, "journal", client_key="form-1234abcd")
        with pytest.raises(services.ClientKeyReused) as error:
            make_entry(
                alice, "journal", data={"reflection": "Something else"}, client_key="form-1234abcd"
            )
        assert list(error.value.message_dict) == ["client_key"]
        with pytest.raises(services.ClientKeyReused):
            make_entry(alice, "activity_plan", client_key="form-1234abcd")
        assert counts() == (1, 1, 0)

    def test_it_keeps_client_keys_apart_per_patient(self, alice, bob):
        make_entry(alice, "journal", client_key="form-1234abcd")
        make_entry(bob, "journal", client_key="form-1234abcd")
        assert counts() == (2, 2, 0)

    @pytest.mark.parametrize("key", ["short", "x" * 65, "has space 123", "semi;colon123"])
    def test_it_refuses_a_malformed_client_key(self, alice, key):
        with pytest.raises(ValidationError) as error:
            make_entry(alice, "journal", client_key=key)
        assert list(error.value.message_dict) == ["client_key"]

    def test_the_database_refuses_an_unknown_kind(self, alice):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            ExerciseEntry.objects.create(patient=alice, kind="dream_diary", data={})

    def test_the_database_refuses_a_second_version_with_the_same_number(self, alice_entry):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            ExerciseEntryVersion.objects.create(
                entry=alice_entry,
                version=1,
                data={},
                saved_at=timezone.now(),
                saved_by=alice_entry.patient.user,
            )


class TestEntryUpdate:
    def test_it_keeps_every_version_in_the_history(self, alice, alice_entry):
        first = valid("thought_record")
        second = {**first, "balanced_thought": "She is busy, not fed up."}
        third = {**second, "emotions_after": [{"emotion": "Sad", "intensity": 20}]}
        services.entry_update(entry=alice_entry, data=second, actor=alice.user, expected_version=1)
        entry = services.entry_update(
            entry=alice_entry, data=third, actor=alice.user, expected_version=2
        )
        assert entry.version == 3
        entry.refresh_from_db()
        assert entry.data == third
        history = list(selectors.entry_versions(entry))
        assert [v.version for v in history] == [3, 2, 1]
        assert [v.data for v in history] == [third, second, first]

    def test_it_refuses_a_stale_version_and_changes_nothing(self, alice, alice_entry):
        newer = {**valid("thought_record"), "balanced_thought": "From my phone"}
        services.entry_update(entry=alice_entry, data=newer, actor=alice.user, expected_version=1)
        stale = {**valid("thought_record"), "balanced_thought": "From my laptop"}
        with pytest.raises(services.StaleVersion) as error:
            services.entry_update(
                entry=alice_entry, data=stale, actor=alice.user, expected_version=1
            )
        assert error.value.current == 2
        assert "now at version 2" in error.value.message_dict["expected_version"][0]
        alice_entry.refresh_from_db()
        assert (alice_entry.version, alice_entry.data) == (2, newer)
        assert alice_entry.versions.count() == 2

    def test_it_treats_the_same_answers_again_as_done(self, alice, alice_entry):
        changed = {**valid("thought_record"), "balanced_thought": "Retried"}
        services.entry_update(entry=alice_entry, data=changed, actor=alice.user, expected_version=1)
        # A retry of the same request, whose answer was lost, is not a conflict.
        entry = services.entry_update(
            entry=alice_entry, data=changed, actor=alice.user, expected_version=1
        )
        assert entry.version == 2
        assert alice_entry.versions.count() == 2

    def test_it_refuses_bad_answers_and_changes_nothing(self, alice, alice_entry):
        with pytest.raises(ValidationError) as error:
            services.entry_update(
                entry=alice_entry,
                data={**valid("thought_record"), "thought_belief": 101},
                actor=alice.user,
                expected_version=1,
            )
        assert list(error.value.message_dict) == ["thought_belief"]
        alice_entry.refresh_from_db()
        assert (alice_entry.version, alice_entry.data) == (1, valid("thought_record"))
        assert alice_entry.versions.count() == 1

    def test_it_lets_only_the_patient_change_an_entry(self, alice_entry, sam):
        with pytest.raises(PermissionDenied):
            services.entry_update(
                entry=alice_entry,
                data={**valid("thought_record"), "situation": "Edited by staff"},
                actor=sam.user,
                expected_version=1,
            )
        alice_entry.refresh_from_db()
        assert alice_entry.version == 1


class TestEntryComment:
    def test_it_saves_a_comment_and_audits_it(self, alice_entry, sam):
        comment = services.entry_comment(
            entry=alice_entry, author=sam.user, text="  Well done for catching this thought.  "
        )
        assert comment.text == "Well done for catching this thought."
        audit = AuditEntry.objects.get(action=AuditAction.CREATE, what="exercise comment")
        assert (audit.actor, audit.patient_id) == (sam.user, alice_entry.patient_id)
        assert audit.detail == {"entry": alice_entry.pk, "comment": comment.pk}

    @pytest.mark.parametrize(
        "text, reason",
        [
            ("", "cannot be left empty"),
            ("   ", "cannot be left empty"),
            ("x" * 2001, "2000 characters"),
            (None, "enter text"),
        ],
    )
    def test_it_refuses_a_bad_comment_and_saves_nothing(self, alice_entry, sam, text, reason):
        with pytest.raises(ValidationError) as error:
            services.entry_comment(entry=alice_entry, author=sam.user, text=text)
        message = error.value.message_dict["text"][0]
        assert message.startswith("Comment:") and reason in message
        assert ExerciseComment.objects.count() == 0
        assert not AuditEntry.objects.filter(what="exercise comment").exists()

    def test_it_lets_only_the_care_team_comment(
        self, alice_entry, alice, morgan, nia, priya, oscar, ruth, tomasz
    ):
        for author in (morgan, nia):
            services.entry_comment(entry=alice_entry, author=author.user, text="Good")
        for outsider in (alice, priya, oscar, ruth, tomasz):
            with pytest.raises(PermissionDenied):
                services.entry_comment(entry=alice_entry, author=outsider.user, text="Hello")
        assert ExerciseComment.objects.count() == 2


class TestEncryptionAtRest:
    @pytest.mark.parametrize("kind", EXERCISE_KEYS)
    def test_it_stores_no_answer_as_plain_text(self, alice, kind):
        entry = make_entry(alice, kind)
        phrase = SECRET_PHRASE[kind]
        for table in ("checkins_exerciseentry", "checkins_exerciseentryversion"):
            stored = raw_column(table, "data")
            assert stored and all(phrase not in value for value in stored)
        entry.refresh_from_db()
        assert phrase in str(entry.data)

    def test_it_stores_no_comment_as_plain_text(self, alice_entry, sam):
        services.entry_comment(entry=alice_entry, author=sam.user, text="Lovely balanced thought")
        assert all(
            "balanced" not in value for value in raw_column("checkins_exercisecomment", "text")
        )
        assert ExerciseComment.objects.get().text == "Lovely balanced thought"


class TestEntriesForPatient:
    def test_it_lists_newest_first_with_comment_counts(self, alice, bob, sam):
        older = make_entry(alice, "journal")
        newer = make_entry(alice, "activity_plan")
        make_entry(bob, "journal")
        services.entry_comment(entry=older, author=sam.user, text="Thanks")
        entries = list(selectors.entries_for_patient(alice))
        assert entries == [newer, older]
        assert [e.comment_count for e in entries] == [0, 1]

    def test_it_narrows_by_kind_and_by_time(self, alice):
        journal = make_entry(alice, "journal")
        plan = make_entry(alice, "activity_plan")
        assert list(selectors.entries_for_patient(alice, kind="journal")) == [journal]
        ExerciseEntry.objects.filter(pk=journal.pk).update(
            updated_at=timezone.now() - timedelta(days=10)
        )
        since = timezone.now() - timedelta(days=1)
        assert list(selectors.entries_for_patient(alice, since=since)) == [plan]


class TestEntryFor:
    def test_it_gives_a_patient_their_own_entry_unaudited(self, alice, alice_entry):
        assert selectors.entry_for(alice.user, alice_entry.pk) == alice_entry
        assert not AuditEntry.objects.exists()

    def test_it_gives_the_care_team_the_entry_and_audits_the_read(self, alice_entry, sam):
        entry = selectors.entry_for(sam.user, alice_entry.pk)
        assert entry == alice_entry and entry.patient.user.full_name == "Alice Patient"
        audit = AuditEntry.objects.get()
        assert (audit.actor, audit.action, audit.what) == (sam.user, "read", "exercise entry")

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_anyone_else(self, request, alice_entry, persona):
        outsider = request.getfixturevalue(persona)
        with pytest.raises(Http404):
            selectors.entry_for(outsider.user, alice_entry.pk)
        assert not AuditEntry.objects.exists()

    def test_it_answers_not_found_for_a_missing_entry(self, alice):
        with pytest.raises(Http404):
            selectors.entry_for(alice.user, 999999)
