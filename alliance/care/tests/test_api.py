"""The care API: the week, page progress, the plan and its tailoring."""

import pytest

from alliance.care.models import Episode
from alliance.conftest import assignment


class TestWeekApi:
    def test_it_returns_the_patients_week(self, login, alice, episode):
        body = login(alice).get("/api/v1/me/week").json()
        assert body["next_module"]["module_key"] == "start"
        assert body["progress"] == {"done": 0, "total": 4, "percent": 0}
        assert body["exercises"][0]["kind"] == "thought_record"

    def test_it_is_for_patients(self, login, sam):
        response = login(sam).get("/api/v1/me/week")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


class TestCompletePage:
    def test_it_records_progress_idempotently(self, login, alice, episode):
        client = login(alice)
        module = assignment(episode, "start")
        for _ in range(2):
            body = client.post(f"/api/v1/me/plan/{module.pk}/pages/1/complete").json()
        assert body == {"module_finished": False, "pages_done": 1, "page_count": 3}

    def test_it_refuses_a_locked_module(self, login, alice, episode):
        module = assignment(episode, "active")
        response = login(alice).post(f"/api/v1/me/plan/{module.pk}/pages/1/complete")
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"page": ["This module is not open yet."]}
        module.refresh_from_db()
        assert module.pages_done == 0

    def test_it_refuses_a_page_that_does_not_exist(self, login, alice, episode):
        module = assignment(episode, "start")
        response = login(alice).post(f"/api/v1/me/plan/{module.pk}/pages/7/complete")
        assert response.status_code == 422
        assert "no such page" in response.json()["error"]["fields"]["page"][0]

    def test_it_answers_not_found_for_another_patients_module(self, login, bob, episode):
        module = assignment(episode, "start")
        response = login(bob).post(f"/api/v1/me/plan/{module.pk}/pages/1/complete")
        assert response.status_code == 404


class TestPlanApi:
    @pytest.mark.parametrize(
        "persona, status",
        [
            ("alice", 200),
            ("sam", 200),
            ("nia", 200),
            ("morgan", 200),
            ("ruth", 200),
            ("priya", 404),
            ("oscar", 404),
            ("tomasz", 404),
            ("bob", 404),
        ],
    )
    def test_it_follows_the_access_policy(self, request, login, alice, episode, persona, status):
        client = login(request.getfixturevalue(persona))
        response = client.get(f"/api/v1/patients/{alice.pk}/plan")
        assert response.status_code == status
        if status == 200:
            assert [m["module_key"] for m in response.json()["modules"]] == [
                "start",
                "active",
                "thoughts",
                "extra",
            ]

    def test_it_waives_only_with_a_reason(self, login, sam, alice, episode):
        client = login(sam)
        module = assignment(episode, "active")
        url = f"/api/v1/patients/{alice.pk}/plan/{module.pk}/waive"
        response = client.post(url, {"reason": ""}, content_type="application/json")
        assert response.status_code == 422
        assert "reason" in response.json()["error"]["fields"]
        module.refresh_from_db()
        assert module.waived_at is None
        body = client.post(
            url, {"reason": "Covered in session"}, content_type="application/json"
        ).json()
        assert body["modules"][1]["state"] == "waived"

    def test_it_refuses_tailoring_to_a_service_manager(self, login, ruth, alice, episode):
        module = assignment(episode, "extra")
        response = login(ruth).post(
            f"/api/v1/patients/{alice.pk}/plan/{module.pk}/unlock",
            {},
            content_type="application/json",
        )
        assert response.status_code == 403
        module.refresh_from_db()
        assert module.unlocked_at is None

    def test_it_answers_not_found_for_an_unknown_action(self, login, sam, alice, episode):
        module = assignment(episode, "extra")
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/plan/{module.pk}/explode",
            {},
            content_type="application/json",
        )
        assert response.status_code == 404

    def test_it_starts_an_episode(self, login, sam, alice, programme):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/episodes",
            {
                "programme_id": programme.pk,
                "care_model": "guided_self_help",
                "supporter_id": sam.pk,
            },
            content_type="application/json",
        )
        assert response.status_code == 201
        assert response.json()["episode"]["care_model"] == "guided_self_help"

    def test_it_names_an_unknown_programme(self, login, sam, alice):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/episodes",
            {"programme_id": 999, "care_model": "blended"},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"programme_id": ["No programme has this id."]}
        assert not Episode.objects.exists()

    def test_it_adds_an_addon(self, login, sam, alice, episode, addon):
        module = addon.modules.get(key="worry-time")
        body = (
            login(sam)
            .post(
                f"/api/v1/patients/{alice.pk}/plan/addons",
                {"module_id": module.pk},
                content_type="application/json",
            )
            .json()
        )
        assert body["modules"][-1] == body["modules"][-1] | {
            "module_key": "worry-time",
            "is_addon": True,
            "state": "available",
        }

    def test_it_sets_homework(self, login, sam, alice, episode):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/homework",
            {"text": "Plan one nice thing"},
            content_type="application/json",
        )
        assert response.status_code == 201
        assert response.json()["text"] == "Plan one nice thing"

    def test_it_refuses_empty_homework(self, login, sam, alice, episode):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/homework", {"text": "  "}, content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"text": ["Write the homework."]}
        assert not episode.homework.exists()
