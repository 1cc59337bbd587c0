"""The exercise operations of the API: list, create (idempotent), read, edit, comment."""

import json

import pytest

from alliance.audit.models import AuditEntry
from alliance.checkins import services
from alliance.checkins.models import ExerciseComment, ExerciseEntry, ExerciseEntryVersion
from alliance.checkins.tests.conftest import make_entry, valid

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def put_json(client, url, body):
    return client.put(url, data=json.dumps(body), content_type="application/json")


def entries_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/exercises"


class TestListExerciseEntries:
    def test_it_lists_the_patients_own_entries(self, login, alice, bob, alice_entry, bob_entry):
        body = login(alice).get(entries_url(alice)).json()
        assert [e["id"] for e in body] == [alice_entry.pk]
        assert body[0]["kind"] == "thought_record"
        assert body[0]["title"] == "Thought record"
        assert body[0]["data"] == valid("thought_record")
        assert (body[0]["version"], body[0]["comments"]) == (1, [])

    def test_it_lists_them_for_the_supporter_with_comments_and_audits(
        self, login, alice, alice_entry, sam
    ):
        services.entry_comment(entry=alice_entry, author=sam.user, text="Good work")
        body = login(sam).get(entries_url(alice)).json()
        assert body[0]["comments"][0]["text"] == "Good work"
        assert body[0]["comments"][0]["author"]["name"] == "Sam Supporter"
        assert AuditEntry.objects.filter(action="read", what="exercise entries").count() == 1

    def test_it_narrows_by_kind(self, login, alice, alice_entry):
        journal = make_entry(alice, "journal")
        body = login(alice).get(entries_url(alice) + "?kind=journal").json()
        assert [e["id"] for e in body] == [journal.pk]

    def test_it_refuses_an_unknown_kind_naming_the_field(self, login, alice):
        response = login(alice).get(entries_url(alice) + "?kind=dream_diary")
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["kind"]

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_anyone_else(self, request, login, alice, alice_entry, persona):
        response = login(request.getfixturevalue(persona)).get(entries_url(alice))
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    def test_it_runs_a_constant_number_of_queries(
        self, login, alice, sam, django_assert_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = login(sam)
        make_entry(alice, "journal")
        client.get(entries_url(alice))
        with CaptureQueriesContext(connection) as first:
            client.get(entries_url(alice))
        for _ in range(5):
            entry = make_entry(alice, "goal_plan")
            services.entry_comment(entry=entry, author=sam.user, text="Keep going")
        with django_assert_num_queries(len(first)):
            assert len(client.get(entries_url(alice)).json()) == 6


class TestCreateExerciseEntry:
    def test_it_creates_an_entry(self, login, alice):
        response = post_json(
            login(alice),
            entries_url(alice),
            {"kind": "goal_plan", "data": valid("goal_plan"), "module_key": "staying-well"},
        )
        assert response.status_code == 201
        body = response.json()
        entry = ExerciseEntry.objects.get()
        assert body["id"] == entry.pk
        assert (body["version"], body["module_key"]) == (1, "staying-well")
        assert entry.data == valid("goal_plan")

    def test_it_is_idempotent_with_a_client_key(self, login, alice):
        client = login(alice)
        payload = {"kind": "journal", "data": valid("journal"), "client_key": "retry-0001"}
        first = post_json(client, entries_url(alice), payload)
        again = post_json(client, entries_url(alice), payload)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert ExerciseEntry.objects.count() == 1

    def test_it_refuses_a_client_key_reused_with_other_answers(self, login, alice):
        client = login(alice)
        post_json(
            client,
            entries_url(alice),
            {"kind": "journal", "data": valid("journal"), "client_key": "retry-0001"},
        )
        response = post_json(
            client,
            entries_url(alice),
            {"kind": "journal", "data": {"reflection": "Other"}, "client_key": "retry-0001"},
        )
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert list(response.json()["error"]["fields"]) == ["client_key"]
        assert ExerciseEntry.objects.count() == 1

    @pytest.mark.parametrize(
        "kind, change, field, words",
        [
            ("activity_plan", {"pleasure": 11}, "pleasure", "Pleasure"),
            (
                "thought_record",
                {"emotions": [{"emotion": "Sad", "intensity": 101}]},
                "emotions",
                "Emotions, row 1",
            ),
            ("thought_record", {"situation": ""}, "situation", "Situation"),
            ("goal_plan", {"action_when": None}, "action_when", "When"),
            ("problem_solving", {"options": [{"pros": "x"}]}, "options", "Ideas, row 1"),
            ("journal", {"feeling": "meh"}, "feeling", "feeling"),
        ],
    )
    def test_it_refuses_bad_answers_naming_the_field(
        self, login, alice, kind, change, field, words
    ):
        response = post_json(
            login(alice), entries_url(alice), {"kind": kind, "data": {**valid(kind), **change}}
        )
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert list(error["fields"]) == [field]
        assert words in error["fields"][field][0]
        assert ExerciseEntry.objects.count() == ExerciseEntryVersion.objects.count() == 0

    def test_it_refuses_an_unknown_kind(self, login, alice):
        response = post_json(login(alice), entries_url(alice), {"kind": "x", "data": {}})
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["kind"]

    def test_it_refuses_answers_that_are_not_an_object(self, login, alice):
        response = post_json(login(alice), entries_url(alice), {"kind": "journal", "data": "x"})
        assert response.status_code == 422
        assert ExerciseEntry.objects.count() == 0

    def test_it_lets_only_the_patient_create(self, login, alice, sam):
        response = post_json(
            login(sam), entries_url(alice), {"kind": "journal", "data": valid("journal")}
        )
        assert response.status_code == 403
        assert ExerciseEntry.objects.count() == 0

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz"])
    def test_it_answers_not_found_for_another_patient(self, request, login, alice, persona):
        response = post_json(
            login(request.getfixturevalue(persona)),
            entries_url(alice),
            {"kind": "journal", "data": valid("journal")},
        )
        assert response.status_code == 404
        assert ExerciseEntry.objects.count() == 0


class TestGetExerciseEntry:
    def test_it_gives_a_patient_their_own_entry(self, login, alice, alice_entry):
        body = login(alice).get(f"/api/v1/exercises/{alice_entry.pk}").json()
        assert body["data"] == valid("thought_record")
        assert body["patient_id"] == alice.pk

    def test_it_gives_the_supporter_the_entry_and_audits(self, login, alice_entry, sam):
        assert login(sam).get(f"/api/v1/exercises/{alice_entry.pk}").status_code == 200
        assert AuditEntry.objects.filter(action="read", what="exercise entry").count() == 1

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_anyone_else(self, request, login, alice_entry, persona):
        response = login(request.getfixturevalue(persona)).get(
            f"/api/v1/exercises/{alice_entry.pk}"
        )
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    def test_it_answers_not_found_for_a_missing_entry(self, login, alice):
        assert login(alice).get("/api/v1/exercises/999999").json() == NOT_FOUND

    def test_it_asks_to_sign_in(self, client, alice_entry):
        response = client.get(f"/api/v1/exercises/{alice_entry.pk}")
        assert response.status_code == 401


class TestUpdateExerciseEntry:
    def test_it_saves_a_new_version(self, login, alice, alice_entry):
        changed = {**valid("thought_record"), "balanced_thought": "She is busy."}
        response = put_json(
            login(alice),
            f"/api/v1/exercises/{alice_entry.pk}",
            {"data": changed, "expected_version": 1},
        )
        assert response.status_code == 200
        assert response.json()["version"] == 2
        assert response.json()["data"]["balanced_thought"] == "She is busy."
        assert alice_entry.versions.count() == 2

    def test_it_refuses_a_stale_version_with_a_conflict(self, login, alice, alice_entry):
        client = login(alice)
        first = {**valid("thought_record"), "balanced_thought": "First"}
        put_json(
            client, f"/api/v1/exercises/{alice_entry.pk}", {"data": first, "expected_version": 1}
        )
        response = put_json(
            client,
            f"/api/v1/exercises/{alice_entry.pk}",
            {"data": {**first, "balanced_thought": "Second"}, "expected_version": 1},
        )
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "conflict"
        assert "version 2" in error["fields"]["expected_version"][0]
        alice_entry.refresh_from_db()
        assert alice_entry.data["balanced_thought"] == "First"

    def test_it_answers_a_retried_edit_with_the_saved_entry(self, login, alice, alice_entry):
        client = login(alice)
        payload = {
            "data": {**valid("thought_record"), "balanced_thought": "Once"},
            "expected_version": 1,
        }
        put_json(client, f"/api/v1/exercises/{alice_entry.pk}", payload)
        response = put_json(client, f"/api/v1/exercises/{alice_entry.pk}", payload)
        assert (response.status_code, response.json()["version"]) == (200, 2)

    def test_it_refuses_bad_answers_naming_the_field(self, login, alice, alice_entry):
        response = put_json(
            login(alice),
            f"/api/v1/exercises/{alice_entry.pk}",
            {"data": {**valid("thought_record"), "thought_belief": 101}, "expected_version": 1},
        )
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["thought_belief"]
        alice_entry.refresh_from_db()
        assert alice_entry.version == 1

    def test_it_is_refused_to_staff(self, login, alice_entry, sam):
        response = put_json(
            login(sam),
            f"/api/v1/exercises/{alice_entry.pk}",
            {"data": valid("thought_record"), "expected_version": 1},
        )
        assert response.status_code == 403

    def test_it_answers_not_found_for_another_patients_entry(self, login, bob, alice_entry):
        response = put_json(
            login(bob),
            f"/api/v1/exercises/{alice_entry.pk}",
            {"data": valid("thought_record"), "expected_version": 1},
        )
        assert response.json() == NOT_FOUND


class TestCommentExerciseEntry:
    def test_it_lets_the_supporter_comment(self, login, alice_entry, sam):
        response = post_json(
            login(sam), f"/api/v1/exercises/{alice_entry.pk}/comments", {"text": "Well done"}
        )
        assert response.status_code == 201
        assert response.json()["text"] == "Well done"
        assert response.json()["author"]["name"] == "Sam Supporter"
        assert AuditEntry.objects.filter(action="create", what="exercise comment").count() == 1

    def test_it_refuses_an_empty_comment_naming_the_field(self, login, alice_entry, sam):
        response = post_json(
            login(sam), f"/api/v1/exercises/{alice_entry.pk}/comments", {"text": " "}
        )
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {
            "text": ["Comment: this cannot be left empty."]
        }
        assert ExerciseComment.objects.count() == 0

    @pytest.mark.parametrize(
        "persona, status",
        [
            ("alice", 403),
            ("ruth", 403),
            ("bob", 404),
            ("priya", 404),
            ("oscar", 404),
            ("tomasz", 404),
        ],
    )
    def test_it_is_refused_outside_the_care_team(
        self, request, login, alice_entry, persona, status
    ):
        response = post_json(
            login(request.getfixturevalue(persona)),
            f"/api/v1/exercises/{alice_entry.pk}/comments",
            {"text": "Hi"},
        )
        assert response.status_code == status
        assert ExerciseComment.objects.count() == 0


class TestOpenApiAndTokens:
    def test_it_describes_the_exercise_operations_by_name(self, client, db):
        schema = client.get("/api/v1/openapi.json").json()
        operations = {
            operation["operationId"]
            for methods in schema["paths"].values()
            for operation in methods.values()
        }
        assert operations >= {
            "list_exercise_entries",
            "create_exercise_entry",
            "get_exercise_entry",
            "update_exercise_entry",
            "comment_exercise_entry",
        }

    def test_it_lets_a_script_with_a_token_create_an_entry(self, alice):
        from django.test import Client

        from alliance.accounts.services import api_token_create

        _token, raw = api_token_create(user=alice.user, name="phone app")
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            entries_url(alice),
            data=json.dumps({"kind": "journal", "data": valid("journal")}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )
        assert response.status_code == 201, response.content
        assert ExerciseEntry.objects.get().patient == alice
