"""The patient's week and module reader, and the supporter's plan page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.care import services
from alliance.care.models import Contact, ModuleAssignment
from alliance.conftest import assignment


class TestWeekPage:
    def test_it_tells_a_patient_without_episode_that_nothing_is_needed(self, login, alice):
        page = login(alice).get("/my/").content.decode()
        assert "Your supporter will set up your programme" in page
        assert "Sam Supporter" in page

    def test_it_shows_what_to_do_now(self, login, alice, episode):
        page = login(alice).get("/my/").content.decode()
        assert "What to do now" in page
        assert "Module start" in page
        assert "About 15 minutes" in page
        assert f'href="/my/modules/{assignment(episode, "start").pk}/"' in page
        assert "0 of 4 modules finished" in page
        assert "Thought record" in page  # the exercise embedded in the open module

    def test_it_shows_the_next_contact_and_homework(self, login, alice, episode, sam):
        Contact.objects.create(
            episode=episode,
            supporter=sam,
            kind="phone",
            scheduled_at=timezone.now() + timedelta(days=2),
        )
        services.homework_add(episode=episode, text="Walk round the park twice", actor=sam.user)
        page = login(alice).get("/my/").content.decode()
        assert "Phone" in page and "with Sam Supporter" in page
        assert "Walk round the park twice" in page

    def test_it_marks_homework_done(self, login, alice, episode, sam):
        homework = services.homework_add(episode=episode, text="Walk", actor=sam.user)
        client = login(alice)
        client.post(f"/my/homework/{homework.pk}/", {"done": "1"})
        homework.refresh_from_db()
        assert homework.done_at is not None
        assert "Walk" not in client.get("/my/").content.decode().split("Your homework")[1][:300]

    def test_it_refuses_another_patients_homework(self, login, bob, episode, sam):
        homework = services.homework_add(episode=episode, text="Walk", actor=sam.user)
        response = login(bob).post(f"/my/homework/{homework.pk}/", {"done": "1"})
        assert response.status_code == 404
        homework.refresh_from_db()
        assert homework.done_at is None

    def test_it_runs_a_fixed_number_of_queries(
        self, login, alice, episode, sam, django_assert_num_queries
    ):
        client = login(alice)
        client.get("/my/")
        # Other apps add cards to the week (check-in, messages, notifications), so the first
        # size has a ceiling; the second must run exactly as many queries as the first.
        with django_assert_num_queries(18, exact=False) as before:
            client.get("/my/")
        for n in range(20):
            services.homework_add(episode=episode, text=f"Task {n}", actor=sam.user)
            services.contact_book(
                episode=episode, kind="phone", scheduled_at=timezone.now() + timedelta(days=n + 1)
            )
        review, _ = services.review_start(episode=episode, reviewer=sam, anyway=True)
        services.review_complete(
            review=review, actor=sam.user, feedback="Well done", homework=["A"]
        )
        with django_assert_num_queries(len(before.captured_queries)):
            client.get("/my/")

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get("/my/").status_code == 404


class TestModuleReader:
    def test_it_resumes_at_the_page_the_patient_left(self, login, alice, episode):
        client = login(alice)
        module = assignment(episode, "start")
        client.get(f"/my/modules/{module.pk}/2/")
        response = client.get(f"/my/modules/{module.pk}/")
        assert response["Location"] == f"/my/modules/{module.pk}/2/"

    def test_it_shows_a_page_with_its_exercise_link(self, login, alice, episode):
        module = assignment(episode, "start")
        page = login(alice).get(f"/my/modules/{module.pk}/1/").content.decode()
        assert "Text of start 1" in page
        assert "Page 1 of 3" in page
        assert "/exercises/new/thought_record/?next=%2Fmy%2Fmodules%2F" in page
        assert "exercise-slot" not in page

    def test_it_walks_through_a_module_to_the_end(self, login, alice, episode):
        client = login(alice)
        module = assignment(episode, "start")
        assert client.post(f"/my/modules/{module.pk}/1/")["Location"].endswith("/2/")
        client.post(f"/my/modules/{module.pk}/2/")
        response = client.post(f"/my/modules/{module.pk}/3/", follow=True)
        assert "Well done: you finished" in response.content.decode()
        assert "Practise start" in response.content.decode()  # the module's homework
        module.refresh_from_db()
        assert module.completed_at is not None

    def test_it_never_shows_a_locked_module(self, login, alice, episode):
        locked = assignment(episode, "active")
        response = login(alice).get(f"/my/modules/{locked.pk}/1/")
        assert response.status_code == 403
        assert "It opens when you finish the module before it" in response.content.decode()
        assert "Text of active" not in response.content.decode()
        assert ModuleAssignment.objects.get(pk=locked.pk).pages_done == 0

    def test_it_refuses_progress_in_a_locked_module(self, login, alice, episode):
        locked = assignment(episode, "active")
        response = login(alice).post(f"/my/modules/{locked.pk}/1/")
        assert response.status_code == 403
        assert ModuleAssignment.objects.get(pk=locked.pk).pages_done == 0

    def test_it_answers_not_found_for_another_patients_module(self, login, bob, episode):
        module = assignment(episode, "start")
        assert login(bob).get(f"/my/modules/{module.pk}/1/").status_code == 404

    def test_it_answers_not_found_for_a_page_beyond_the_end(self, login, alice, episode):
        module = assignment(episode, "start")
        assert login(alice).get(f"/my/modules/{module.pk}/9/").status_code == 404

    def test_it_runs_a_fixed_number_of_queries(
        self, login, alice, episode, django_assert_num_queries
    ):
        client = login(alice)
        module = assignment(episode, "start")
        client.get(f"/my/modules/{module.pk}/1/")
        # The layout has other apps' parts (the notification bell): a ceiling, then equality.
        with django_assert_num_queries(12, exact=False) as before:
            client.get(f"/my/modules/{module.pk}/1/")
        services.plan_unlock(assignment=assignment(episode, "extra"), actor=episode.patient.user)
        for n in range(3):
            services.page_complete(
                assignment=module, page_number=n + 1, page_count=3, state="available"
            )
        with django_assert_num_queries(len(before.captured_queries)):
            client.get(f"/my/modules/{module.pk}/1/")


class TestPlanPage:
    def test_it_shows_the_plan_and_guides_to_the_supporter(self, login, sam, alice, episode):
        page = login(sam).get(f"/patients/{alice.pk}/plan/").content.decode()
        assert "Module start" in page and "Protocol guide" in page and "How was it?" in page
        assert "Unlock now" in page
        assert AuditEntry.objects.filter(patient=alice, what="plan").exists()

    def test_it_offers_to_start_an_episode(self, login, sam, alice, programme):
        client = login(sam)
        assert "Start the episode" in client.get(f"/patients/{alice.pk}/plan/").content.decode()
        response = client.post(
            f"/patients/{alice.pk}/episodes/",
            {"programme": programme.pk, "care_model": "blended", "supporter": sam.pk},
        )
        assert response.status_code == 302
        assert alice.episodes.get().assignments.count() == 4

    def test_it_names_a_missing_care_model(self, login, sam, alice, programme):
        response = login(sam).post(f"/patients/{alice.pk}/episodes/", {"programme": programme.pk})
        assert response.status_code == 400
        assert "Care model: This field is required" in response.content.decode()
        assert not alice.episodes.exists()

    def test_it_waives_with_a_reason_and_refuses_without(self, login, sam, alice, episode):
        client = login(sam)
        module = assignment(episode, "active")
        url = f"/patients/{alice.pk}/plan/{module.pk}/waive/"
        response = client.post(url, {"reason": ""})
        assert response.status_code == 400
        assert "Write why this mandatory module" in response.content.decode()
        module.refresh_from_db()
        assert module.waived_at is None
        client.post(url, {"reason": "Done this with me in session"})
        module.refresh_from_db()
        assert module.waive_reason == "Done this with me in session"

    def test_it_names_a_bad_position(self, login, sam, alice, episode):
        module = assignment(episode, "extra")
        response = login(sam).post(
            f"/patients/{alice.pk}/plan/{module.pk}/move/", {"position": "first"}
        )
        assert response.status_code == 400
        assert "Choose a position as a number" in response.content.decode()
        module.refresh_from_db()
        assert module.position == 4

    def test_it_adds_an_addon_module(self, login, sam, alice, episode, addon):
        module = addon.modules.get(key="sleep")
        login(sam).post(f"/patients/{alice.pk}/plan/addons/", {"module": module.pk})
        assert episode.assignments.filter(module=module, is_addon=True).exists()

    def test_it_sets_homework_that_reaches_the_week(self, login, sam, alice, episode, client):
        login(sam).post(f"/patients/{alice.pk}/homework/", {"text": "Call your sister"})
        client.logout()
        assert "Call your sister" in login(alice).get("/my/").content.decode()

    def test_it_lets_a_digital_navigator_look_but_not_tailor(self, login, nia, alice, episode):
        client = login(nia)
        page = client.get(f"/patients/{alice.pk}/plan/").content.decode()
        assert "Module start" in page and "Unlock now" not in page
        module = assignment(episode, "extra")
        assert client.post(f"/patients/{alice.pk}/plan/{module.pk}/unlock/").status_code == 403
        module.refresh_from_db()
        assert module.unlocked_at is None

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, episode, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get(f"/patients/{alice.pk}/plan/").status_code == 404
        module = assignment(episode, "extra")
        url = f"/patients/{alice.pk}/plan/{module.pk}/unlock/"
        assert client.post(url).status_code == 404
        module.refresh_from_db()
        assert module.unlocked_at is None
