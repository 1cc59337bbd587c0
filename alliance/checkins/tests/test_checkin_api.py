"""The check-in operations of the API: list, save (idempotent), today's."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from alliance.audit.models import AuditEntry
from alliance.checkins.models import DailyCheckIn

NOW = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)
TODAY = date(2026, 5, 12)
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
SAVE_URL = "/api/v1/me/checkins"


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def add(patient, days_ago: int, mood: int = 5, **fields) -> DailyCheckIn:
    return DailyCheckIn.objects.create(
        patient=patient, local_date=TODAY - timedelta(days=days_ago), mood=mood, **fields
    )


def list_url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}/checkins"


class TestSaveCheckin:
    def test_it_makes_todays_check_in(self, login, alice):
        body = {
            "mood": 7,
            "feelings": ["hopeful"],
            "sleep_hours": 7.5,
            "activity": "Swim",
            "note": "Good",
            "client_key": "api-key-0001",
        }
        response = post_json(login(alice), SAVE_URL, body)
        assert response.status_code == 201
        out = response.json()
        assert out["local_date"] == "2026-05-12"
        assert (out["mood"], out["feelings"], out["sleep_hours"]) == (7, ["hopeful"], 7.5)
        assert (out["activity"], out["note"], out["patient_id"]) == ("Swim", "Good", alice.pk)
        assert DailyCheckIn.objects.get().mood == 7

    def test_a_replay_with_the_same_key_answers_200_and_changes_nothing(self, login, alice):
        client = login(alice)
        first = post_json(client, SAVE_URL, {"mood": 4, "client_key": "api-key-0002"})
        again = post_json(client, SAVE_URL, {"mood": 9, "client_key": "api-key-0002"})
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"] and again.json()["mood"] == 4
        assert DailyCheckIn.objects.get().mood == 4

    def test_a_same_day_change_answers_200(self, login, alice):
        client = login(alice)
        post_json(client, SAVE_URL, {"mood": 4})
        response = post_json(client, SAVE_URL, {"mood": 6, "client_key": "api-key-0003"})
        assert response.status_code == 200
        assert DailyCheckIn.objects.get().mood == 6

    def test_an_offline_check_in_counts_for_the_day_it_was_made(self, login, alice):
        made = "2026-05-10T21:15:00+00:00"  # 22:15 BST on the 10th
        body = {"mood": 3, "made_at": made, "client_key": "offline-key-01"}
        response = post_json(login(alice), SAVE_URL, body)
        assert response.status_code == 201
        assert response.json()["local_date"] == "2026-05-10"

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"mood": 11}, "mood", "Mood: 11 is out of range; choose a number from 0 to 10."),
            ({"mood": "lots"}, "mood", None),
            ({}, "mood", None),
            ({"mood": 5, "feelings": ["sadd"]}, "feelings", None),
            ({"mood": 5, "sleep_hours": 25}, "sleep_hours", None),
            ({"mood": 5, "note": "x" * 1001}, "note", None),
            ({"mood": 5, "local_date": "2026-05-13"}, "local_date", None),
            ({"mood": 5, "made_at": "2026-05-12T18:00:00+00:00"}, "made_at", None),
            ({"mood": 5, "client_key": "bad key!"}, "client_key", None),
            ({"mood": 5, "client_key": "k" * 65}, "client_key", None),
        ],
    )
    def test_it_refuses_bad_input_naming_the_field_and_changes_nothing(
        self, login, alice, body, field, message
    ):
        add(alice, 0, mood=2)
        response = post_json(login(alice), SAVE_URL, body)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert field in error["fields"]
        if message:
            assert error["fields"][field] == [message]
        assert DailyCheckIn.objects.get().mood == 2

    def test_it_refuses_a_check_in_for_another_patient(self, login, alice, bob):
        response = post_json(login(alice), SAVE_URL, {"mood": 5, "patient_id": bob.pk})
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {
            "patient_id": ["Patient: you can only check in for yourself."]
        }
        assert not DailyCheckIn.objects.exists()

    def test_it_accepts_the_patients_own_id(self, login, alice):
        response = post_json(login(alice), SAVE_URL, {"mood": 5, "patient_id": alice.pk})
        assert response.status_code == 201

    def test_it_is_for_patients(self, login, sam):
        response = post_json(login(sam), SAVE_URL, {"mood": 5})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert not DailyCheckIn.objects.exists()

    def test_it_needs_a_signed_in_patient(self, client, db):
        response = post_json(client, SAVE_URL, {"mood": 5})
        assert response.status_code == 401
        assert not DailyCheckIn.objects.exists()

    def test_it_checks_csrf_for_the_browser_session(self, alice):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(alice.user)
        response = post_json(client, SAVE_URL, {"mood": 5})
        assert response.status_code == 403
        assert not DailyCheckIn.objects.exists()


class TestGetCheckinToday:
    def test_it_says_not_done_yet(self, login, alice):
        body = login(alice).get("/api/v1/me/checkins/today").json()
        assert body == {
            "local_date": "2026-05-12",
            "done": False,
            "checkin": None,
            "streak": 0,
            "last_date": None,
            "welcome_back": False,
        }

    def test_it_gives_todays_check_in_and_the_streak(self, login, alice):
        add(alice, 1)
        add(alice, 0, mood=8, note="Hi")
        body = login(alice).get("/api/v1/me/checkins/today").json()
        assert body["done"] is True and body["streak"] == 2
        assert body["checkin"]["mood"] == 8 and body["checkin"]["note"] == "Hi"

    def test_it_welcomes_back_after_a_gap(self, login, alice):
        add(alice, 5)
        body = login(alice).get("/api/v1/me/checkins/today").json()
        assert body["welcome_back"] is True and body["last_date"] == "2026-05-07"

    def test_it_is_for_patients(self, login, sam):
        assert login(sam).get("/api/v1/me/checkins/today").status_code == 403


class TestListCheckins:
    def test_the_patient_lists_their_own_oldest_first(self, login, alice):
        add(alice, 1, mood=3)
        add(alice, 0, mood=4)
        add(alice, 100, mood=9)  # before the default 90 days
        body = login(alice).get(list_url(alice)).json()
        assert [(c["local_date"], c["mood"]) for c in body] == [
            ("2026-05-11", 3),
            ("2026-05-12", 4),
        ]

    def test_it_narrows_to_start_and_end(self, login, alice):
        for n in range(10):
            add(alice, n, mood=n)
        body = login(alice).get(list_url(alice) + "?start=2026-05-05&end=2026-05-06").json()
        assert [c["local_date"] for c in body] == ["2026-05-05", "2026-05-06"]

    @pytest.mark.parametrize(
        "query", ["?start=2026-05-10&end=2026-05-01", "?start=2024-01-01&end=2026-05-01"]
    )
    def test_it_refuses_a_period_backwards_or_too_long(self, login, alice, query):
        response = login(alice).get(list_url(alice) + query)
        assert response.status_code == 422
        assert "start" in response.json()["error"]["fields"]

    def test_the_supporter_reads_them_audited(self, login, alice, sam):
        add(alice, 0, note="For my team")
        body = login(sam).get(list_url(alice)).json()
        assert body[0]["note"] == "For my team"
        assert AuditEntry.objects.filter(patient=alice, what="check-ins", actor=sam.user).exists()

    @pytest.mark.parametrize("outsider", ["priya", "oscar", "tomasz", "bob"])
    def test_it_is_not_found_for_anyone_else(self, request, login, alice, outsider):
        add(alice, 0)
        user = request.getfixturevalue(outsider)
        response = login(user).get(list_url(alice))
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, django_assert_num_queries):
        client = login(alice)
        add(alice, 0)
        client.get(list_url(alice))
        with django_assert_num_queries(5) as small:
            client.get(list_url(alice))
        for n in range(1, 80):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(list_url(alice))

    def test_they_are_in_the_openapi_document(self, login, alice):
        paths = login(alice).get("/api/v1/openapi.json").json()["paths"]
        operations = {
            op["operationId"]
            for path in paths.values()
            for op in path.values()
            if "operationId" in op
        }
        assert {"list_checkins", "save_checkin", "get_checkin_today"} <= operations
