"""The content API: programmes for staff who author, deliver or manage care."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance.content.services import content_load
from alliance.content.tests.programme_files import write_programme

LIST_URL = reverse("api:list_programmes")


def get_url(programme_id: int) -> str:
    return reverse("api:get_programme", args=[programme_id])


class TestListProgrammes:
    @pytest.mark.parametrize("persona", ["sam", "nia", "morgan", "ruth", "hana", "ada", "oscar"])
    def test_it_lists_the_newest_versions_to_staff(self, request, login, persona, loaded):
        _, new = loaded
        response = login(request.getfixturevalue(persona)).get(LIST_URL)
        assert response.status_code == 200
        [programme] = response.json()
        assert programme == {
            "id": new.pk,
            "key": "test-programme",
            "version": 2,
            "title": "Test programme, new",
            "summary": "A programme for tests.",
            "kind": "programme",
            "problems": ["depression"],
            "care_models": ["blended"],
            "content_hash": new.content_hash,
            "loaded_at": programme["loaded_at"],
            "module_count": 2,
        }

    def test_it_filters_by_kind(self, login, sam, loaded, programs):
        write_programme(
            programs,
            "extras",
            ("programme.yaml", "key: test-programme", "key: extras"),
            ("programme.yaml", "kind: programme", "kind: addon"),
        )
        content_load(directory=programs)
        client = login(sam)
        addons = client.get(LIST_URL, {"kind": "addon"}).json()
        assert [p["key"] for p in addons] == ["extras"]
        assert len(client.get(LIST_URL).json()) == 2

    def test_it_refuses_an_unknown_kind(self, login, sam, loaded):
        response = login(sam).get(LIST_URL, {"kind": "course"})
        assert response.status_code == 422

    @pytest.mark.parametrize("persona", ["alice", "tomasz"])
    def test_it_is_refused_to_patients_and_researchers(self, request, login, persona, loaded):
        response = login(request.getfixturevalue(persona)).get(LIST_URL)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_it_asks_a_visitor_to_sign_in(self, client, loaded):
        assert client.get(LIST_URL).status_code == 401

    def test_it_runs_the_same_queries_whatever_the_number_of_programmes(
        self, login, sam, loaded, programs
    ):
        client = login(sam)
        with CaptureQueriesContext(connection) as few:
            client.get(LIST_URL)
        for key in ("more-a", "more-b"):
            write_programme(programs, key, ("programme.yaml", "key: test-programme", f"key: {key}"))
        content_load(directory=programs)
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(LIST_URL).json()) == 3
        assert len(many) == len(few)


class TestGetProgramme:
    def test_it_returns_the_modules_with_their_guides_and_pages(self, login, sam, loaded):
        old, _ = loaded
        response = login(sam).get(get_url(old.pk))
        assert response.status_code == 200
        programme = response.json()
        assert (programme["id"], programme["version"]) == (old.pk, 1)
        first, second = programme["modules"]
        assert {k: v for k, v in first.items() if k not in ("id", "pages")} == {
            "key": "first",
            "position": 1,
            "title": "First module",
            "summary": "The first one.",
            "mandatory": True,
            "unlock_rule": "after_previous",
            "unlock_days": None,
            "minutes": 20,
            "session_number": 1,
            "session_relation": "prepares",
            "guide": {
                "online": "Reads about the cycle.",
                "look_at": "The journal entry.",
                "ask": ["How did it go?"],
                "homework": ["Keep a diary."],
                "call": "",
            },
            "homework": ["Write down three things you did."],
        }
        welcome, first_step = first["pages"]
        assert {k: v for k, v in welcome.items() if k != "id"} == {
            "position": 1,
            "title": "Welcome",
            "body_html": "<p>Hello <strong>there</strong>.</p>\n"
            '<p class="exercise-slot" data-exercise="thought_record"></p>',
            "exercises": ["thought_record"],
        }
        assert first_step["title"] == "Your first step"
        assert (second["unlock_rule"], second["unlock_days"]) == ("days_after_start", 7)
        assert [p["title"] for p in second["pages"]] == ["Only page"]

    def test_it_answers_not_found_for_a_missing_programme(self, login, sam, db):
        response = login(sam).get(get_url(999999))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    @pytest.mark.parametrize("persona", ["alice", "tomasz"])
    def test_it_is_refused_to_patients_and_researchers(self, request, login, persona, loaded):
        response = login(request.getfixturevalue(persona)).get(get_url(loaded[0].pk))
        assert response.status_code == 403

    def test_it_reads_the_content_in_three_queries(self, login, sam, loaded):
        client = login(sam)
        with CaptureQueriesContext(connection) as queries:
            client.get(get_url(loaded[0].pk))
        content = [q for q in queries.captured_queries if '"content_' in q["sql"]]
        assert len(content) == 3  # programme, modules, pages
