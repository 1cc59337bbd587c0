"""The exercise pages: a patient's own entries, and their care team's reading and comments."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.audit.models import AuditEntry
from alliance.checkins import services
from alliance.checkins.exercises import EXERCISE_KEYS, EXERCISES
from alliance.checkins.models import ExerciseComment, ExerciseEntry
from alliance.checkins.tests.conftest import make_entry, valid
from alliance.conftest import has_inline_script

THOUGHT_RECORD_FORM = {
    "situation": "At home, my sister didn't reply.",
    "automatic_thought": "She's fed up with me.",
    "emotions-0-emotion": "Sad",
    "emotions-0-intensity": "70",
    "emotions-1-emotion": "",
    "emotions-1-intensity": "",
    "emotions-2-emotion": "",
    "emotions-2-intensity": "",
    "thought_belief": "80",
    "evidence_for": "",
    "evidence_against": "",
    "balanced_thought": "",
    "balanced_belief": "",
    "emotions_after-0-emotion": "",
    "emotions_after-0-intensity": "",
}

ACTIVITY_FORM = {
    "activity": "Walk to the park",
    "planned_for": "2025-07-01T10:00",
    "done": "yes",
    "pleasure": "6",
    "mastery": "",
    "notes": "",
}


def new_url(kind: str) -> str:
    return f"/exercises/new/{kind}/"


def reads(what: str) -> int:
    return AuditEntry.objects.filter(action="read", what=what).count()


def query_count(client, url) -> int:
    client.get(url)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


class TestEntryListPage:
    def test_it_lists_the_patients_entries_by_exercise(self, login, alice, bob):
        make_entry(alice, "journal", data={"reflection": "Alice's week was better"})
        make_entry(bob, "journal", data={"reflection": "Bob's private week"})
        page = login(alice).get("/exercises/").content.decode()
        assert "Alice&#x27;s week was better" in page
        assert "Bob" not in page
        for kind in EXERCISE_KEYS:
            assert f'href="/exercises/new/{kind}/"' in page
            assert str(EXERCISES[kind].description) in page
        assert "checkins/checkins.css" in page

    def test_it_shows_how_many_comments_an_entry_has(self, login, alice, alice_entry, sam):
        services.entry_comment(entry=alice_entry, author=sam.user, text="Nice work")
        assert "1 comment" in login(alice).get("/exercises/").content.decode()

    def test_it_is_for_patients_only(self, login, sam, tomasz):
        for persona in (sam, tomasz):
            assert login(persona).get("/exercises/").status_code == 403

    def test_it_asks_to_sign_in(self, client, db):
        response = client.get("/exercises/")
        assert response.status_code == 302 and "/sign-in/" in response["Location"]

    def test_it_runs_a_constant_number_of_queries(
        self, login, alice, sam, django_assert_num_queries
    ):
        client = login(alice)
        make_entry(alice, "journal")
        expected = query_count(client, "/exercises/")
        for kind in EXERCISE_KEYS * 4:
            entry = make_entry(alice, kind)
            services.entry_comment(entry=entry, author=sam.user, text="Good")
        with django_assert_num_queries(expected):
            response = client.get("/exercises/")
        assert response.content.decode().count("/exercises/new/") == len(EXERCISE_KEYS)


class TestNewEntryPage:
    def test_it_shows_a_form_that_works_without_javascript(self, login, alice):
        page = login(alice).get(new_url("thought_record")).content.decode()
        assert '<form method="post"' in page
        assert not has_inline_script(page)
        assert 'name="client_key"' in page
        for name in (
            "situation",
            "automatic_thought",
            "emotions-0-emotion",
            "emotions-2-intensity",
            "emotions_after-0-intensity",
        ):
            assert f'name="{name}"' in page
        assert 'name="emotions-3-emotion"' not in page
        assert '<label for="id_situation">Situation</label>' in page

    def test_it_saves_an_entry_and_shows_it(self, login, alice):
        response = login(alice).post(
            new_url("thought_record"), {**THOUGHT_RECORD_FORM, "client_key": "k" * 32}
        )
        entry = ExerciseEntry.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/exercises/{entry.pk}/"
        assert entry.data == {
            "situation": "At home, my sister didn't reply.",
            "automatic_thought": "She's fed up with me.",
            "emotions": [{"emotion": "Sad", "intensity": 70}],
            "thought_belief": 80,
        }

    def test_it_reads_yes_no_and_the_day_and_time(self, login, alice):
        login(alice).post(new_url("activity_plan"), ACTIVITY_FORM)
        data = ExerciseEntry.objects.get().data
        # Alice's time zone is Europe/London: 10:00 in July is 09:00 UTC.
        assert data["planned_for"] == "2025-07-01T09:00:00+00:00"
        assert (data["done"], data["pleasure"]) == (True, 6)
        assert "mastery" not in data

    def test_it_returns_to_the_module_it_was_started_from(self, login, alice):
        url = new_url("journal") + "?next=/plan/modules/3/pages/2/&module=getting-active"
        client = login(alice)
        page = client.get(url).content.decode()
        assert 'name="next" value="/plan/modules/3/pages/2/"' in page
        response = client.post(url, {"reflection": "Learned something"})
        assert response["Location"] == "/plan/modules/3/pages/2/"
        assert ExerciseEntry.objects.get().module_key == "getting-active"

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
    def test_it_ignores_a_next_page_on_another_site(self, login, alice, target):
        response = login(alice).post(new_url("journal"), {"reflection": "x", "next": target})
        assert response["Location"] == f"/exercises/{ExerciseEntry.objects.get().pk}/"

    def test_it_refuses_bad_answers_naming_the_field_and_saves_nothing(self, login, alice):
        form = {**ACTIVITY_FORM, "activity": "", "pleasure": "11"}
        response = login(alice).post(new_url("activity_plan"), form)
        page = response.content.decode()
        assert response.status_code == 400
        assert ExerciseEntry.objects.count() == 0
        assert "There is a problem" in page
        assert '<a href="#id_activity">Activity: this cannot be left empty.</a>' in page
        assert '<a href="#id_pleasure">Pleasure: enter a whole number from 0 to 10.</a>' in page
        assert 'aria-invalid="true"' in page
        # What was typed is kept.
        assert 'value="Walk to the park"' not in page  # the activity was blank
        assert 'name="pleasure" value="11"' in page

    def test_it_refuses_an_intensity_over_100(self, login, alice):
        form = {**THOUGHT_RECORD_FORM, "emotions-1-emotion": "Angry", "emotions-1-intensity": "101"}
        response = login(alice).post(new_url("thought_record"), form)
        page = response.content.decode()
        assert response.status_code == 400
        assert "Emotions, row 2, Intensity (0–100): enter a whole number from 0 to 100." in page
        assert 'href="#id_emotions-0-emotion"' in page
        assert ExerciseEntry.objects.count() == 0

    def test_it_refuses_a_missing_situation(self, login, alice):
        form = {**THOUGHT_RECORD_FORM, "situation": "  "}
        page = login(alice).post(new_url("thought_record"), form).content.decode()
        assert "Situation: this cannot be left empty." in page
        assert ExerciseEntry.objects.count() == 0

    def test_it_saves_a_double_submitted_form_once(self, login, alice):
        client = login(alice)
        form = {"reflection": "Submitted twice", "client_key": "a" * 32}
        first = client.post(new_url("journal"), form)
        second = client.post(new_url("journal"), form)
        assert first["Location"] == second["Location"]
        assert ExerciseEntry.objects.count() == 1

    def test_it_keeps_both_when_the_form_is_sent_again_with_other_answers(self, login, alice):
        client = login(alice)
        client.post(new_url("journal"), {"reflection": "First", "client_key": "a" * 32})
        response = client.post(
            new_url("journal"), {"reflection": "Changed after going back", "client_key": "a" * 32}
        )
        page = response.content.decode()
        assert response.status_code == 409
        assert "already saved once" in page
        assert "Changed after going back" in page
        assert ExerciseEntry.objects.count() == 1
        new_key = re.search(r'name="client_key" value="([0-9a-f]+)"', page).group(1)
        assert new_key != "a" * 32
        client.post(
            new_url("journal"), {"reflection": "Changed after going back", "client_key": new_key}
        )
        assert ExerciseEntry.objects.count() == 2

    def test_it_answers_not_found_for_an_unknown_exercise(self, login, alice):
        assert login(alice).get(new_url("dream_diary")).status_code == 404

    def test_it_is_for_patients_only(self, login, sam):
        response = login(sam).post(new_url("journal"), {"reflection": "By staff"})
        assert response.status_code == 403
        assert ExerciseEntry.objects.count() == 0


class TestEntryDetailPage:
    def test_it_shows_the_patient_their_entry_and_comments(self, login, alice, alice_entry, sam):
        services.entry_comment(entry=alice_entry, author=sam.user, text="Great evidence list")
        page = login(alice).get(f"/exercises/{alice_entry.pk}/").content.decode()
        assert "She&#x27;s fed up with me." in page
        assert "Sad" in page and "70" in page
        assert "Great evidence list" in page and "Sam Supporter" in page
        assert f'href="/exercises/{alice_entry.pk}/edit/"' in page
        assert 'name="text"' not in page  # a patient does not comment on their own entry
        assert not AuditEntry.objects.filter(action="read").exists()

    def test_it_shows_the_supporter_the_entry_with_a_comment_form_and_audits(
        self, login, alice_entry, sam
    ):
        page = login(sam).get(f"/exercises/{alice_entry.pk}/").content.decode()
        assert "She&#x27;s fed up with me." in page
        assert 'name="text"' in page
        assert "/edit/" not in page
        assert reads("exercise entry") == 1

    def test_it_lets_a_service_manager_read_but_not_comment(self, login, alice_entry, ruth):
        page = login(ruth).get(f"/exercises/{alice_entry.pk}/").content.decode()
        assert "She&#x27;s fed up with me." in page
        assert 'name="text"' not in page

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_anyone_else(self, request, login, alice_entry, persona):
        response = login(request.getfixturevalue(persona)).get(f"/exercises/{alice_entry.pk}/")
        assert response.status_code == 404
        assert "fed up" not in response.content.decode()
        assert reads("exercise entry") == 0

    def test_it_runs_a_constant_number_of_queries(
        self, login, alice_entry, sam, django_assert_num_queries
    ):
        client = login(sam)
        url = f"/exercises/{alice_entry.pk}/"
        services.entry_comment(entry=alice_entry, author=sam.user, text="First")
        expected = query_count(client, url)
        for n in range(10):
            services.entry_comment(entry=alice_entry, author=sam.user, text=f"Comment {n}")
        with django_assert_num_queries(expected):
            client.get(url)


class TestEditEntryPage:
    def test_it_shows_the_stored_answers(self, login, alice):
        entry = make_entry(alice, "activity_plan")
        page = login(alice).get(f"/exercises/{entry.pk}/edit/").content.decode()
        assert 'value="Walk to the shop after breakfast"' in page
        # 09:30 UTC on 14 March is 09:30 in London (GMT).
        assert 'name="planned_for" value="2025-03-14T09:30"' in page
        assert re.search(r'value="yes" checked', page)
        assert 'name="expected_version" value="1"' in page

    def test_it_saves_the_changes_as_a_new_version(self, login, alice, alice_entry):
        form = {
            **THOUGHT_RECORD_FORM,
            "balanced_thought": "She is busy at work.",
            "expected_version": "1",
        }
        response = login(alice).post(f"/exercises/{alice_entry.pk}/edit/", form)
        assert response.status_code == 302
        alice_entry.refresh_from_db()
        assert alice_entry.version == 2
        assert alice_entry.data["balanced_thought"] == "She is busy at work."
        assert alice_entry.versions.count() == 2

    def test_it_refuses_a_stale_edit_and_keeps_what_was_typed(self, login, alice, alice_entry):
        services.entry_update(
            entry=alice_entry,
            data={**valid("thought_record"), "balanced_thought": "From the phone"},
            actor=alice.user,
            expected_version=1,
        )
        form = {
            **THOUGHT_RECORD_FORM,
            "balanced_thought": "From the laptop",
            "expected_version": "1",
        }
        response = login(alice).post(f"/exercises/{alice_entry.pk}/edit/", form)
        page = response.content.decode()
        assert response.status_code == 409
        assert "changed since you opened it" in page
        assert "From the laptop" in page
        assert 'name="expected_version" value="2"' in page
        alice_entry.refresh_from_db()
        assert alice_entry.data["balanced_thought"] == "From the phone"

    def test_it_refuses_bad_answers_and_changes_nothing(self, login, alice, alice_entry):
        form = {**THOUGHT_RECORD_FORM, "thought_belief": "120", "expected_version": "1"}
        response = login(alice).post(f"/exercises/{alice_entry.pk}/edit/", form)
        assert response.status_code == 400
        assert "Belief in the thought: enter a whole number from 0 to 100." in (
            response.content.decode()
        )
        alice_entry.refresh_from_db()
        assert alice_entry.version == 1

    def test_it_is_refused_to_staff(self, login, alice_entry, sam):
        response = login(sam).post(
            f"/exercises/{alice_entry.pk}/edit/", {**THOUGHT_RECORD_FORM, "expected_version": "1"}
        )
        assert response.status_code == 403
        assert reads("exercise entry") == 0
        alice_entry.refresh_from_db()
        assert alice_entry.version == 1

    def test_it_answers_not_found_for_another_patients_entry(self, login, bob, alice_entry):
        assert login(bob).get(f"/exercises/{alice_entry.pk}/edit/").status_code == 404


class TestHistoryPage:
    def test_it_shows_every_version(self, login, alice, alice_entry):
        services.entry_update(
            entry=alice_entry,
            data={**valid("thought_record"), "balanced_thought": "Second try"},
            actor=alice.user,
            expected_version=1,
        )
        page = login(alice).get(f"/exercises/{alice_entry.pk}/history/").content.decode()
        assert "Version 2" in page and "Version 1" in page
        assert page.index("Version 2") < page.index("Version 1")
        assert "Second try" in page
        assert "She often replies late" in page

    def test_it_is_readable_by_the_care_team_and_audited(self, login, alice_entry, sam):
        assert login(sam).get(f"/exercises/{alice_entry.pk}/history/").status_code == 200
        assert reads("exercise entry") == 1

    @pytest.mark.parametrize("persona", ["bob", "priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_anyone_else(self, request, login, alice_entry, persona):
        response = login(request.getfixturevalue(persona)).get(
            f"/exercises/{alice_entry.pk}/history/"
        )
        assert response.status_code == 404


class TestCommentPage:
    def test_it_lets_the_supporter_comment(self, login, alice_entry, sam):
        response = login(sam).post(
            f"/exercises/{alice_entry.pk}/comments/", {"text": "Well spotted."}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/exercises/{alice_entry.pk}/#comments"
        assert ExerciseComment.objects.get().text == "Well spotted."
        assert AuditEntry.objects.filter(action="create", what="exercise comment").count() == 1

    def test_it_refuses_an_empty_comment_naming_the_field(self, login, alice_entry, sam):
        response = login(sam).post(f"/exercises/{alice_entry.pk}/comments/", {"text": "  "})
        assert response.status_code == 400
        assert '<a href="#id_text">Comment: this cannot be left empty.</a>' in (
            response.content.decode()
        )
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
    def test_it_is_refused_to_anyone_outside_the_care_team(
        self, request, login, alice_entry, persona, status
    ):
        response = login(request.getfixturevalue(persona)).post(
            f"/exercises/{alice_entry.pk}/comments/", {"text": "Hello"}
        )
        assert response.status_code == status
        assert ExerciseComment.objects.count() == 0

    def test_it_accepts_only_post(self, login, alice_entry, sam):
        assert login(sam).get(f"/exercises/{alice_entry.pk}/comments/").status_code == 405


class TestPatientEntriesPage:
    def test_it_lists_a_patients_entries_for_the_supporter_and_audits(
        self, login, alice, alice_entry, sam
    ):
        page = login(sam).get(f"/exercises/patients/{alice.pk}/").content.decode()
        assert "Exercises of Alice Patient" in page
        assert f'href="/exercises/{alice_entry.pk}/"' in page
        assert "/exercises/new/" not in page
        assert reads("exercise entries") == 1

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_staff_without_access(
        self, request, login, alice, alice_entry, persona
    ):
        response = login(request.getfixturevalue(persona)).get(f"/exercises/patients/{alice.pk}/")
        assert response.status_code == 404
        assert reads("exercise entries") == 0

    def test_it_is_for_staff_only(self, login, alice):
        assert login(alice).get(f"/exercises/patients/{alice.pk}/").status_code == 403

    def test_it_runs_a_constant_number_of_queries(
        self, login, alice, sam, django_assert_num_queries
    ):
        client = login(sam)
        url = f"/exercises/patients/{alice.pk}/"
        make_entry(alice, "journal")
        expected = query_count(client, url)
        for kind in EXERCISE_KEYS * 4:
            make_entry(alice, kind)
        with django_assert_num_queries(expected):
            client.get(url)
