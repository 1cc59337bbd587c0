"""Reviews: the schedule, the queue, what is new since the last review, starting and
completing a review, its time, feedback and homework; pages, API and access."""

import sys
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance.accounts.models import Role
from alliance.audit.models import AuditEntry
from alliance.care import reviews as rules
from alliance.care import selectors, services
from alliance.care.models import Episode, Homework, Review, ReviewSchedule
from alliance.checkins.models import ExerciseEntry
from alliance.conftest import assignment, make_patient, make_staff
from alliance.insights.services import alert_raise
from alliance.measures import services as measures
from alliance.measures.models import Response


def started_days_ago(episode: Episode, days: float) -> Episode:
    """Move the episode's start into the past (the blended schedule is 14 days)."""
    episode.started_at = timezone.now() - timedelta(days=days)
    Episode.objects.filter(pk=episode.pk).update(started_at=episode.started_at)
    return episode


def done_review(episode, reviewer, days_ago: float, **fields) -> Review:
    when = timezone.now() - timedelta(days=days_ago)
    return Review.objects.create(
        episode=episode,
        reviewer=reviewer,
        covers_from=episode.started_at,
        opened_at=when - timedelta(minutes=10),
        completed_at=when,
        minutes_spent=10,
        **fields,
    )


@pytest.fixture
def due(episode):
    """Alice's episode, due a review: started 16 days ago, never reviewed."""
    return started_days_ago(episode, 16)


def answer(patient, code, answers, actor):
    request = measures.questionnaire_send(patient=patient, instrument=code, actor=actor)
    return measures.response_submit(request=request, actor=patient.user, answers=answers)


class TestReviewRules:
    def test_it_is_due_one_interval_after_the_last_review_or_the_start(self):
        start = timezone.now()
        assert rules.review_due_at(
            started_at=start, last_reviewed_at=None, interval=7
        ) == start + timedelta(days=7)
        later = start + timedelta(days=3)
        assert rules.review_due_at(
            started_at=start, last_reviewed_at=later, interval=14
        ) == later + timedelta(days=14)

    @pytest.mark.parametrize(
        "seconds, minutes", [(0, 1), (59, 1), (61, 2), (600, 10), (3600, 60), (86400, 60)]
    )
    def test_it_counts_minutes_rounded_up_and_capped(self, seconds, minutes):
        opened = timezone.now()
        assert rules.minutes_between(opened, opened + timedelta(seconds=seconds)) == minutes

    def test_it_uses_the_services_interval_or_the_default(self):
        assert rules.interval_days("guided_self_help") == 7
        assert rules.interval_days("blended") == 14
        assert rules.interval_days("blended", {"blended": 10}) == 10

    def test_it_fills_known_placeholders_and_leaves_others(self):
        text = "Hi {patient_first_name}, {unknown} from {supporter_name}"
        filled = rules.fill_placeholders(text, {"patient_first_name": "Al", "supporter_name": "S"})
        assert filled == "Hi Al, {unknown} from S"

    def test_it_names_the_modules_done(self):
        assert rules.modules_phrase([]) == "some of your work"
        assert rules.modules_phrase(["A"]) == "“A”"
        assert rules.modules_phrase(["A", "B", "C"]) == "“A”, “B” and “C”"

    def test_every_template_is_warm_and_signed(self):
        for template in rules.FEEDBACK_TEMPLATES:
            body = str(template.body)
            assert body.startswith("Hi {patient_first_name},")
            assert body.rstrip().endswith("{supporter_name}")


class TestReviewsDue:
    def test_it_lists_an_episode_never_reviewed_one_interval_after_its_start(self, due, alice):
        states = selectors.reviews_due(alice.__class__.objects.all())
        assert [s.episode.pk for s in states] == [due.pk]
        assert states[0].last_reviewed_at is None
        assert states[0].overdue_days == 2

    def test_it_leaves_out_an_episode_that_started_recently(self, episode, alice):
        started_days_ago(episode, 13)
        assert selectors.reviews_due(alice.__class__.objects.all()) == []

    def test_it_counts_from_the_last_completed_review(self, due, alice, sam):
        done_review(due, sam, days_ago=3)
        assert selectors.reviews_due(alice.__class__.objects.all()) == []
        Review.objects.all().delete()
        done_review(due, sam, days_ago=15)
        [state] = selectors.reviews_due(alice.__class__.objects.all())
        assert state.overdue_days == 1

    def test_it_ignores_a_review_still_open(self, due, alice, sam):
        services.review_start(episode=due, reviewer=sam)
        [state] = selectors.reviews_due(alice.__class__.objects.all())
        assert state.open_since is not None

    def test_it_follows_the_services_schedule(self, due, alice, riverside):
        ReviewSchedule.objects.create(service=riverside, care_model="blended", interval_days=30)
        assert selectors.reviews_due(alice.__class__.objects.all()) == []

    def test_it_leaves_out_ended_episodes(self, due, alice, sam):
        services.episode_end(episode=due, reason="completed", actor=sam.user)
        assert selectors.reviews_due(alice.__class__.objects.all()) == []

    def test_it_runs_two_queries_whatever_the_caseload(
        self, due, alice, riverside, north, sam, programme, django_assert_num_queries
    ):
        patients = alice.__class__.objects.all()
        with django_assert_num_queries(2):
            assert len(selectors.reviews_due(patients)) == 1
        for n in range(5):
            patient = make_patient(riverside, north, f"P{n} Extra", supporter=sam)
            episode = services.episode_start(
                patient=patient,
                programme=programme,
                care_model="guided_self_help",
                supporter=sam,
                actor=None,
            )
            started_days_ago(episode, 8 + n)
            done_review(episode, sam, days_ago=8)
        with django_assert_num_queries(2):
            assert len(selectors.reviews_due(patients)) == 6


class TestSinceLastReview:
    def test_it_gathers_what_is_new_since_the_last_review(self, due, alice, sam):
        old = done_review(due, sam, days_ago=5)
        module = assignment(due, "start")
        for page in (1, 2, 3):
            services.page_complete(
                assignment=module, page_number=page, page_count=3, state="available"
            )
        ExerciseEntry.objects.create(patient=alice, kind="thought_record", data={"situation": "x"})
        done = services.homework_add(episode=due, text="Walk", actor=sam.user)
        services.homework_set_done(homework=done, done=True)
        alert_raise(patient=alice, kind="risk", cause="test:1", summary="Risk answer")
        since = selectors.since_last_review(due)
        assert since.last_review == old
        assert since.since == old.completed_at
        assert [r.module.key for r in since.modules_completed] == ["start"]
        assert [e.kind for e in since.exercise_entries] == ["thought_record"]
        assert [h.text for h in since.homework_done] == ["Walk"]
        assert "Practise start" in [h.text for h in since.homework_open]
        assert [a.summary for a in since.alerts] == ["Risk answer"]
        assert not since.is_quiet

    def test_it_leaves_out_what_came_before(self, due, alice, sam):
        ExerciseEntry.objects.create(patient=alice, kind="thought_record", data={"situation": "x"})
        done_review(due, sam, days_ago=0)
        since = selectors.since_last_review(due)
        assert since.exercise_entries == []
        assert since.is_quiet

    def test_it_gives_scores_with_their_change_and_reliable_change(self, due, alice, sam):
        answer(alice, "phq9", [3, 3, 2, 2, 2, 2, 1, 1, 0], sam.user)  # 16
        done_review(due, sam, days_ago=0)
        answer(alice, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0], sam.user)  # 8
        [score] = selectors.since_last_review(due).scores
        assert score.instrument == "phq9"
        assert score.latest.total == 8
        assert score.previous_total == 16
        assert score.change == -8
        assert score.reliable_change == "improvement"

    def test_it_includes_check_ins_when_the_app_has_them(self, due, alice):
        try:
            model = apps.get_model("checkins", "DailyCheckIn")
        except LookupError:
            pytest.skip("The checkins app has no DailyCheckIn model yet.")
        model.objects.create(patient=alice, local_date=date.today(), mood=6)
        checkins = selectors.since_last_review(due).checkins
        assert [c.mood for c in checkins] == [6]

    def test_it_runs_a_fixed_number_of_queries(self, due, alice, sam, django_assert_num_queries):
        selectors.since_last_review(due)
        with django_assert_num_queries(12, exact=False) as before:
            selectors.since_last_review(due)
        for n in range(5):
            ExerciseEntry.objects.create(patient=alice, kind="thought_record", data={"n": n})
            services.homework_add(episode=due, text=f"Task {n}", actor=sam.user)
            answer(alice, "gad7", [1, 1, 1, 1, 1, 1, n % 4], sam.user)
        with django_assert_num_queries(len(before.captured_queries)):
            selectors.since_last_review(due)


class TestReviewStart:
    def test_it_opens_a_review_covering_since_the_last_one(self, due, sam):
        review, created = services.review_start(episode=due, reviewer=sam)
        assert created and review.is_open
        assert review.covers_from == due.started_at
        assert AuditEntry.objects.filter(what="review", actor=sam.user).exists()

    def test_it_keeps_the_clock_of_an_open_review(self, due, sam):
        first, _ = services.review_start(episode=due, reviewer=sam)
        again, created = services.review_start(episode=due, reviewer=sam)
        assert again.pk == first.pk and not created
        assert again.opened_at == first.opened_at
        assert Review.objects.count() == 1

    def test_it_refuses_a_patient_not_due_naming_the_override(self, episode, sam):
        with pytest.raises(ValidationError) as error:
            services.review_start(episode=episode, reviewer=sam)
        message = error.value.message_dict["anyway"][0]
        assert "is not due a review until" in message
        assert "Review now anyway" in message
        assert not Review.objects.exists()

    def test_it_starts_anyway_when_asked(self, episode, sam):
        review, created = services.review_start(episode=episode, reviewer=sam, anyway=True)
        assert created and review.is_open

    def test_it_refuses_an_ended_episode(self, due, sam):
        services.episode_end(episode=due, reason="completed", actor=sam.user)
        with pytest.raises(ValidationError) as error:
            services.review_start(episode=due, reviewer=sam, anyway=True)
        assert "episode" in error.value.message_dict
        assert not Review.objects.exists()


class TestReviewComplete:
    def test_it_records_the_time_since_opening_capped(self, due, sam):
        review, _ = services.review_start(
            episode=due, reviewer=sam, now=timezone.now() - timedelta(minutes=12, seconds=5)
        )
        done = services.review_complete(review=review, actor=sam.user)
        assert done.minutes_spent == 13
        review2, _ = services.review_start(
            episode=due, reviewer=sam, anyway=True, now=timezone.now() - timedelta(hours=5)
        )
        assert services.review_complete(review=review2, actor=sam.user).minutes_spent == 60

    def test_it_takes_the_minutes_the_supporter_gives(self, due, sam):
        review, _ = services.review_start(episode=due, reviewer=sam)
        done = services.review_complete(review=review, actor=sam.user, minutes_spent="25")
        assert done.minutes_spent == 25

    @pytest.mark.parametrize("minutes", ["0", "241", "ten", "2.5", -3])
    def test_it_refuses_bad_minutes_and_changes_nothing(self, due, sam, minutes):
        review, _ = services.review_start(episode=due, reviewer=sam)
        with pytest.raises(ValidationError) as error:
            services.review_complete(
                review=review,
                actor=sam.user,
                feedback="Well done",
                homework=["Walk"],
                minutes_spent=minutes,
            )
        assert "minutes spent" in error.value.message_dict["minutes_spent"][0]
        review.refresh_from_db()
        assert review.is_open and review.feedback == ""
        assert not Homework.objects.filter(review=review).exists()

    def test_it_refuses_feedback_too_long_naming_the_field(self, due, sam):
        review, _ = services.review_start(episode=due, reviewer=sam)
        with pytest.raises(ValidationError) as error:
            services.review_complete(review=review, actor=sam.user, feedback="x" * 5001)
        assert "Feedback can be up to 5000 characters" in error.value.message_dict["feedback"][0]
        review.refresh_from_db()
        assert review.is_open

    def test_it_sets_homework_that_reaches_the_week(self, due, sam, alice):
        review, _ = services.review_start(episode=due, reviewer=sam)
        services.review_complete(
            review=review, actor=sam.user, homework=["Call a friend", "", "  Call a friend "]
        )
        homework = Homework.objects.filter(review=review)
        assert [h.text for h in homework] == ["Call a friend"]
        week = selectors.patient_week(alice)
        assert "Call a friend" in [h.text for h in week.homework]

    def test_it_is_safe_to_retry(self, due, sam):
        review, _ = services.review_start(episode=due, reviewer=sam)
        first = services.review_complete(review=review, actor=sam.user, homework=["Walk"])
        again = services.review_complete(
            review=review, actor=sam.user, homework=["Walk"], feedback="Other"
        )
        assert again.completed_at == first.completed_at
        assert again.feedback == ""
        assert Homework.objects.filter(review=review).count() == 1

    def test_it_keeps_feedback_for_the_week_without_messaging(self, due, sam, alice, monkeypatch):
        monkeypatch.setitem(sys.modules, "alliance.messaging.services", None)
        review, _ = services.review_start(episode=due, reviewer=sam)
        done = services.review_complete(
            review=review, actor=sam.user, feedback="Lovely work", next_steps="Module 2"
        )
        assert done.feedback_delivery == "week"
        week = selectors.patient_week(alice)
        assert week.review.feedback == "Lovely work" and week.review_feedback_on_week

    def test_it_sends_feedback_as_a_message_when_messaging_can(self, due, sam, alice):
        try:
            from alliance.messaging.services import message_send  # noqa: F401
        except ImportError:
            pytest.skip("The messaging app has no message_send yet.")
        from alliance.messaging.models import Message

        review, _ = services.review_start(episode=due, reviewer=sam)
        done = services.review_complete(review=review, actor=sam.user, feedback="Lovely work")
        assert done.feedback_delivery == "message"
        assert Message.objects.get(thread__patient=alice).body == "Lovely work"

    def test_it_encrypts_feedback_at_rest(self, due, sam):
        from django.db import connection

        review, _ = services.review_start(episode=due, reviewer=sam)
        services.review_complete(review=review, actor=sam.user, feedback="Private words")
        with connection.cursor() as cursor:
            cursor.execute("SELECT feedback FROM care_review WHERE id = %s", [review.pk])
            assert "Private words" not in cursor.fetchone()[0]

    def test_it_saves_a_draft_without_completing(self, due, sam):
        review, _ = services.review_start(episode=due, reviewer=sam)
        services.review_save(review=review, feedback="Half", next_steps="Soon")
        review.refresh_from_db()
        assert review.is_open and review.feedback == "Half"


class TestReviewQueuePage:
    def test_it_lists_the_supporters_patients_due_with_how_overdue(self, login, sam, alice, due):
        page = login(sam).get("/reviews/").content.decode()
        assert "1 review due" in page
        assert f'href="/patients/{alice.pk}/review/"' in page
        assert "2 days" in page and "Never" in page

    def test_it_shows_the_teams_patients_on_request(
        self, login, riverside, north, alice, due, programme
    ):
        other = make_staff(riverside, Role.SUPPORTER, "Olu Second", [north])
        client = login(other)
        assert "Alice Patient" not in client.get("/reviews/").content.decode()
        assert "Alice Patient" in client.get("/reviews/?who=all").content.decode()

    def test_it_lists_what_comes_up_this_week(self, login, sam, alice, episode):
        started_days_ago(episode, 10)
        page = login(sam).get("/reviews/").content.decode()
        assert "0 reviews due" in page
        assert "Coming up" in page and "Alice Patient" in page

    @pytest.mark.parametrize("persona", ["nia", "morgan", "ruth", "ada"])
    def test_it_lets_the_care_team_and_managers_read_it(self, request, login, alice, due, persona):
        response = login(request.getfixturevalue(persona)).get("/reviews/")
        assert response.status_code == 200
        assert "Alice Patient" in response.content.decode()

    @pytest.mark.parametrize("persona", ["priya", "oscar"])
    def test_it_never_shows_outsiders_the_patient(self, request, login, alice, due, persona):
        client = login(request.getfixturevalue(persona))
        page = client.get("/reviews/?who=all").content.decode()
        assert "Alice Patient" not in page

    @pytest.mark.parametrize("persona", ["tomasz", "hana", "alice"])
    def test_it_is_not_found_for_people_without_patients(self, request, login, due, persona):
        assert login(request.getfixturevalue(persona)).get("/reviews/").status_code == 404

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, alice, due, riverside, north, programme, django_assert_num_queries
    ):
        client = login(sam)
        client.get("/reviews/")
        with django_assert_num_queries(20, exact=False) as before:
            client.get("/reviews/")
        for n in range(6):
            patient = make_patient(riverside, north, f"Q{n} Extra", supporter=sam)
            episode = services.episode_start(
                patient=patient,
                programme=programme,
                care_model="blended",
                supporter=sam,
                actor=None,
            )
            started_days_ago(episode, 15 + n)
        with django_assert_num_queries(len(before.captured_queries)):
            page = client.get("/reviews/").content.decode()
        assert "7 reviews due" in page


class TestReviewPage:
    def test_opening_it_starts_the_review_clock_once(self, login, sam, alice, due):
        client = login(sam)
        page = client.get(f"/patients/{alice.pk}/review/").content.decode()
        assert "You opened this review at" in page
        assert "New since" in page and "Mark review done" in page
        client.get(f"/patients/{alice.pk}/review/")
        assert Review.objects.filter(episode=due, completed_at=None).count() == 1
        assert AuditEntry.objects.filter(patient=alice, what="review", action="read").exists()

    def test_it_asks_before_reviewing_a_patient_not_due(self, login, sam, alice, episode):
        page = login(sam).get(f"/patients/{alice.pk}/review/").content.decode()
        assert "is not due a review until" in page
        assert "Review now anyway" in page
        assert not Review.objects.exists()

    def test_it_refuses_to_start_without_the_override(self, login, sam, alice, episode):
        response = login(sam).post(f"/patients/{alice.pk}/review/start/", {})
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Review now anyway: " in page and "is not due a review until" in page
        assert not Review.objects.exists()

    def test_it_starts_with_the_override(self, login, sam, alice, episode):
        response = login(sam).post(f"/patients/{alice.pk}/review/start/", {"anyway": "1"})
        assert response["Location"] == f"/patients/{alice.pk}/review/"
        assert Review.objects.filter(episode=episode, completed_at=None).count() == 1

    def test_it_completes_a_review_into_the_patients_week(
        self, login, client, sam, alice, due, monkeypatch
    ):
        monkeypatch.setitem(sys.modules, "alliance.messaging.services", None)
        staff = login(sam)
        staff.get(f"/patients/{alice.pk}/review/")
        response = staff.post(
            f"/patients/{alice.pk}/review/",
            {
                "action": "complete",
                "feedback": "You did really well this week.",
                "next_steps": "Start the next module",
                "homework": "Walk twice\nCall your sister",
                "minutes_spent": "",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == "/reviews/"
        assert "Review of Alice Patient done" in response.content.decode()
        review = Review.objects.get(episode=due)
        assert review.completed_at and review.minutes_spent >= 1
        client.logout()
        week = login(alice).get("/my/").content.decode()
        assert "You did really well this week." in week
        assert "Start the next module" in week
        assert "Walk twice" in week and "Call your sister" in week

    def test_it_names_bad_minutes_and_changes_nothing(self, login, sam, alice, due):
        client = login(sam)
        client.get(f"/patients/{alice.pk}/review/")
        response = client.post(
            f"/patients/{alice.pk}/review/",
            {"action": "complete", "feedback": "Hi", "homework": "Walk", "minutes_spent": "lots"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "Minutes spent: Give the minutes spent as a whole number" in page
        assert "Hi</textarea>" in page  # what was typed is kept
        review = Review.objects.get(episode=due)
        assert review.is_open and not Homework.objects.filter(review=review).exists()

    def test_it_saves_and_finishes_later(self, login, sam, alice, due):
        client = login(sam)
        client.get(f"/patients/{alice.pk}/review/")
        client.post(
            f"/patients/{alice.pk}/review/",
            {"action": "save", "feedback": "Half written", "next_steps": ""},
        )
        review = Review.objects.get(episode=due)
        assert review.is_open and review.feedback == "Half written"
        assert "Half written" in client.get(f"/patients/{alice.pk}/review/").content.decode()

    def test_it_fills_a_template_for_the_patient(self, login, sam, alice, due):
        page = (
            login(sam)
            .get(f"/patients/{alice.pk}/review/?template=care:quiet_week")
            .content.decode()
        )
        assert "Hi Alice," in page
        assert "Sam Supporter</textarea>" in page

    def test_it_lets_a_digital_navigator_read_but_not_review(self, login, nia, alice, due):
        client = login(nia)
        page = client.get(f"/patients/{alice.pk}/review/").content.decode()
        assert "New since" in page and "Mark review done" not in page
        assert not Review.objects.exists()
        response = client.post(
            f"/patients/{alice.pk}/review/", {"action": "complete", "feedback": "x"}
        )
        assert response.status_code == 403
        assert (
            client.post(f"/patients/{alice.pk}/review/start/", {"anyway": "1"}).status_code == 403
        )
        assert not Review.objects.exists()

    def test_it_shows_a_patient_without_an_episode(self, login, sam, alice):
        page = login(sam).get(f"/patients/{alice.pk}/review/").content.decode()
        assert "No active episode" in page

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, due, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get(f"/patients/{alice.pk}/review/").status_code == 404
        response = client.post(f"/patients/{alice.pk}/review/", {"feedback": "x"})
        assert response.status_code == 404
        response = client.post(f"/patients/{alice.pk}/review/start/", {"anyway": "1"})
        assert response.status_code == 404
        assert not Review.objects.exists()

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, alice, due, django_assert_num_queries
    ):
        client = login(sam)
        client.get(f"/patients/{alice.pk}/review/")
        with django_assert_num_queries(45, exact=False) as before:
            client.get(f"/patients/{alice.pk}/review/")
        for n in range(5):
            ExerciseEntry.objects.create(patient=alice, kind="thought_record", data={"n": n})
            services.homework_add(episode=due, text=f"Task {n}", actor=sam.user)
            done_review(due, sam, days_ago=10 + n, feedback=f"Old {n}")
            alert_raise(patient=alice, kind="risk", cause=f"t:{n}", summary="Risk")
        with django_assert_num_queries(len(before.captured_queries)):
            client.get(f"/patients/{alice.pk}/review/")


class TestReviewSchedulePage:
    def test_it_lets_an_administrator_change_the_schedule(self, login, ada, riverside):
        client = login(ada)
        page = client.get("/reviews/schedule/").content.decode()
        assert 'value="7"' in page and 'value="14"' in page
        response = client.post(
            "/reviews/schedule/", {"guided_self_help": "5", "blended": "21", "messaging": "7"}
        )
        assert response.status_code == 302
        assert selectors.review_schedule_of(riverside) == {
            "guided_self_help": 5,
            "blended": 21,
            "messaging": 7,
        }

    def test_it_names_a_bad_value_and_changes_nothing(self, login, ada, riverside):
        response = login(ada).post(
            "/reviews/schedule/", {"guided_self_help": "5", "blended": "365", "messaging": "7"}
        )
        assert response.status_code == 400
        assert "Blended (online modules between face-to-face sessions): " in (
            response.content.decode()
        )
        assert "from 1 to 90" in response.content.decode()
        assert not ReviewSchedule.objects.exists()

    @pytest.mark.parametrize("persona", ["sam", "morgan", "tomasz", "oscar", "alice"])
    def test_it_is_for_administrators(self, request, login, persona, riverside):
        client = login(request.getfixturevalue(persona))
        assert client.get("/reviews/schedule/").status_code == 404
        client.post("/reviews/schedule/", {"guided_self_help": "3"})
        assert not ReviewSchedule.objects.exists()


class TestReviewApi:
    def test_it_lists_the_reviews_due(self, login, sam, alice, due):
        body = login(sam).get("/api/v1/reviews/due").json()
        assert [(r["patient_id"], r["overdue_days"], r["review_open"]) for r in body] == [
            (alice.pk, 2, False)
        ]

    @pytest.mark.parametrize("persona, status", [("tomasz", 404), ("alice", 404)])
    def test_it_refuses_the_list_to_people_without_patients(
        self, request, login, due, persona, status
    ):
        response = login(request.getfixturevalue(persona)).get("/api/v1/reviews/due")
        assert response.status_code == status

    def test_it_shows_outsiders_nobody(self, login, priya, oscar, due):
        assert login(priya).get("/api/v1/reviews/due").json() == []

    def test_it_starts_and_completes_a_review(self, login, sam, alice, due):
        client = login(sam)
        url = f"/api/v1/patients/{alice.pk}/reviews"
        started = client.post(url, {}, content_type="application/json")
        assert started.status_code == 201
        review_id = started.json()["id"]
        again = client.post(url, {}, content_type="application/json")
        assert again.status_code == 200 and again.json()["id"] == review_id
        done = client.post(
            f"{url}/{review_id}/complete",
            {"feedback": "Great", "homework": ["Walk"], "minutes_spent": 15},
            content_type="application/json",
        ).json()
        assert done["minutes_spent"] == 15 and done["completed_at"]
        assert [h["text"] for h in done["homework"]] == ["Walk"]
        assert done["feedback_delivery"] in ("week", "message")

    def test_it_refuses_a_patient_not_due_naming_the_field(self, login, sam, alice, episode):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/reviews", {}, content_type="application/json"
        )
        assert response.status_code == 422
        assert "is not due a review" in response.json()["error"]["fields"]["anyway"][0]
        assert not Review.objects.exists()
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/reviews",
            {"anyway": True},
            content_type="application/json",
        )
        assert response.status_code == 201

    def test_it_names_bad_minutes(self, login, sam, alice, due):
        client = login(sam)
        review_id = client.post(
            f"/api/v1/patients/{alice.pk}/reviews", {}, content_type="application/json"
        ).json()["id"]
        response = client.post(
            f"/api/v1/patients/{alice.pk}/reviews/{review_id}/complete",
            {"minutes_spent": 999},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert "minutes_spent" in response.json()["error"]["fields"]
        assert Review.objects.get(pk=review_id).is_open

    def test_it_completes_only_your_own_review(self, login, sam, morgan, alice, due):
        review, _ = services.review_start(episode=due, reviewer=sam)
        response = login(morgan).post(
            f"/api/v1/patients/{alice.pk}/reviews/{review.pk}/complete",
            {},
            content_type="application/json",
        )
        assert response.status_code == 404
        review.refresh_from_db()
        assert review.is_open

    def test_it_is_read_only_for_a_digital_navigator(self, login, nia, alice, due):
        response = login(nia).post(
            f"/api/v1/patients/{alice.pk}/reviews", {}, content_type="application/json"
        )
        assert response.status_code == 403
        assert not Review.objects.exists()

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, sam, alice, due, persona):
        review, _ = services.review_start(episode=due, reviewer=sam)
        client = login(request.getfixturevalue(persona))
        url = f"/api/v1/patients/{alice.pk}/reviews"
        assert client.post(url, {}, content_type="application/json").status_code == 404
        response = client.post(
            f"{url}/{review.pk}/complete", {"feedback": "x"}, content_type="application/json"
        )
        assert response.status_code == 404
        assert Review.objects.count() == 1
        review.refresh_from_db()
        assert review.is_open

    def test_the_week_api_gives_the_review_note(self, login, sam, alice, due, monkeypatch):
        monkeypatch.setitem(sys.modules, "alliance.messaging.services", None)
        review, _ = services.review_start(episode=due, reviewer=sam)
        services.review_complete(review=review, actor=sam.user, feedback="Hi", next_steps="More")
        note = login(alice).get("/api/v1/me/week").json()["review"]
        assert note["feedback"] == "Hi" and note["next_steps"] == "More"
        assert note["reviewer"] == "Sam Supporter"


class TestScoresInReviewPage:
    def test_it_shows_scores_and_change(self, login, sam, alice, due):
        answer(alice, "phq9", [3, 3, 2, 2, 2, 2, 1, 1, 0], sam.user)
        answer(alice, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0], sam.user)
        assert Response.objects.count() == 2
        page = login(sam).get(f"/patients/{alice.pk}/review/").content.decode()
        assert "PHQ-9" in page and "-8 (from 16)" in page
        assert "Reliable improvement" in page
