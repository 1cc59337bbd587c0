"""Sending, saving part-done, submitting and scoring questionnaires; risk alerts."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from alliance.care import services as care
from alliance.insights.models import Alert
from alliance.measures import selectors, services
from alliance.measures.models import InstrumentLicence, QuestionnaireRequest, Response

PHQ9_MODERATE = [2, 2, 1, 1, 1, 1, 1, 1, 0]  # total 10


@pytest.fixture
def phq9(alice, sam):
    return services.questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)


class TestSchedulingThroughCare:
    def test_it_sends_the_contact_questionnaires_when_a_contact_is_booked(self, episode):
        contact = care.contact_book(
            episode=episode, kind="phone", scheduled_at=timezone.now() + timedelta(days=1)
        )
        codes = set(
            QuestionnaireRequest.objects.filter(occasion=f"contact:{contact.pk}").values_list(
                "instrument", flat=True
            )
        )
        assert codes == {"phq9", "gad7", "wsas"}
        assert len(selectors.due_questionnaires(episode.patient)) == 3

    def test_it_is_idempotent(self, episode):
        care.contact_book(episode=episode, kind="phone", scheduled_at=timezone.now())
        before = QuestionnaireRequest.objects.count()
        assert services.questionnaires_sync(episode) == 0
        assert QuestionnaireRequest.objects.count() == before

    def test_it_withdraws_the_questionnaires_of_a_cancelled_contact(self, episode):
        contact = care.contact_book(
            episode=episode, kind="video", scheduled_at=timezone.now() + timedelta(days=1)
        )
        care.contact_set_status(contact=contact, status="cancelled")
        statuses = set(QuestionnaireRequest.objects.values_list("status", flat=True))
        assert statuses == {"cancelled"}
        assert selectors.due_questionnaires(episode.patient) == []

    def test_it_sends_the_alliance_and_survey_at_the_end_when_licensed(self, episode, sam):
        InstrumentLicence.objects.create(
            service=episode.patient.service, instrument="wai-sr", recorded_by=sam.user
        )
        care.episode_end(episode=episode, reason="completed", actor=sam.user)
        codes = set(QuestionnaireRequest.objects.values_list("instrument", "occasion"))
        assert {("wai-sr", "end"), ("feedback", "follow_up")} <= codes


class TestSend:
    def test_it_refuses_an_unlicensed_copyrighted_instrument(self, alice, sam):
        with pytest.raises(ValidationError) as error:
            services.questionnaire_send(patient=alice, instrument="epds", actor=sam.user)
        assert "licence for EPDS" in error.value.message_dict["instrument"][0]
        assert not QuestionnaireRequest.objects.exists()

    def test_it_refuses_an_unknown_instrument(self, alice, sam):
        with pytest.raises(ValidationError) as error:
            services.questionnaire_send(patient=alice, instrument="phq99", actor=sam.user)
        assert "Choose one of the questionnaires" in error.value.message_dict["instrument"][0]
        assert not QuestionnaireRequest.objects.exists()


class TestSubmit:
    def test_it_scores_once_and_stores_the_score(self, phq9, alice):
        response, created = services.response_submit(
            request=phq9, actor=alice.user, answers=PHQ9_MODERATE, difficulty=1
        )
        assert created
        response.refresh_from_db()
        assert (response.total, response.severity, response.caseness, response.risk) == (
            10,
            "moderate",
            True,
            False,
        )
        assert response.item_scores == PHQ9_MODERATE and response.difficulty == 1
        phq9.refresh_from_db()
        assert phq9.status == "completed"

    def test_it_answers_a_second_submission_with_the_same_response(self, phq9, alice):
        first, _ = services.response_submit(request=phq9, actor=alice.user, answers=PHQ9_MODERATE)
        second, created = services.response_submit(request=phq9, actor=alice.user, answers=[3] * 9)
        assert second.pk == first.pk and not created
        assert Response.objects.count() == 1
        assert Response.objects.get().total == 10

    @pytest.mark.parametrize(
        "answers, field, message",
        [
            ([1] * 8, "answers", "expected 9 answers, got 8"),
            ([1, 1, 1, 4, 1, 1, 1, 1, 1], "q4", "Question 4: 4 is out of range 0–3"),
            ([1, 1, None, 1, 1, 1, 1, 1, 1], "q3", "Question 3: no answer given"),
            ([1, 1, 1, 1, "x", 1, 1, 1, 1], "q5", "Question 5: 'x' is not an integer"),
        ],
    )
    def test_it_refuses_an_incomplete_or_invalid_form(self, phq9, alice, answers, field, message):
        with pytest.raises(ValidationError) as error:
            services.response_submit(request=phq9, actor=alice.user, answers=answers)
        assert error.value.message_dict[field] == [message]
        assert not Response.objects.exists()
        phq9.refresh_from_db()
        assert phq9.status == "pending"

    def test_it_raises_one_risk_alert_for_item_9(self, phq9, alice, sam):
        answers = [1, 1, 1, 1, 1, 1, 1, 1, 1]
        response, _ = services.response_submit(request=phq9, actor=alice.user, answers=answers)
        alert = Alert.objects.get()
        assert alert.kind == "risk" and alert.state == "open"
        assert alert.cause == f"response:{response.pk}"
        assert alert.owner == sam
        assert "item 9" in alert.summary
        services.response_submit(request=phq9, actor=alice.user, answers=answers)
        assert Alert.objects.count() == 1

    def test_it_raises_no_alert_without_risk(self, phq9, alice):
        services.response_submit(request=phq9, actor=alice.user, answers=PHQ9_MODERATE)
        assert not Alert.objects.exists()

    def test_it_keeps_survey_answers_encrypted(self, alice, sam):
        survey = services.questionnaire_send(patient=alice, instrument="feedback", actor=sam.user)
        services.response_submit(
            request=survey, actor=alice.user, text_answers={"calls_helped": "Sam listened to me"}
        )
        assert Response.objects.get().text_answers == {"calls_helped": "Sam listened to me"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT text_answers FROM measures_response")
            assert "listened" not in cursor.fetchone()[0]

    def test_it_refuses_an_empty_survey(self, alice, sam):
        survey = services.questionnaire_send(patient=alice, instrument="feedback", actor=sam.user)
        with pytest.raises(ValidationError) as error:
            services.response_submit(
                request=survey, actor=alice.user, text_answers={"calls_helped": "  "}
            )
        assert error.value.message_dict["answers"] == ["Answer at least one question."]
        assert not Response.objects.exists()


class TestDraft:
    def test_it_saves_part_done_answers_without_scoring(self, phq9):
        services.response_save_draft(
            request=phq9, answers=[1, 2, None, None, None, None, None, None, None]
        )
        phq9.refresh_from_db()
        assert phq9.status == "in_progress"
        assert phq9.draft["answers"][:3] == [1, 2, None]
        assert not Response.objects.exists()

    def test_it_refuses_an_out_of_range_draft_answer(self, phq9):
        with pytest.raises(ValidationError) as error:
            services.response_save_draft(request=phq9, answers=[7] + [None] * 8)
        assert error.value.message_dict["q1"] == ["Question 1: 7 is out of range 0–3"]
        phq9.refresh_from_db()
        assert phq9.status == "pending" and phq9.draft is None


class TestOutcome:
    def test_it_computes_the_episode_outcome_from_stored_scores(self, episode, sam):
        patient = episode.patient
        for phq, gad in ((15, 12), (8, 6)):
            for code, total in (("phq9", phq), ("gad7", gad)):
                request = services.questionnaire_send(
                    patient=patient, instrument=code, actor=sam.user
                )
                items = 9 if code == "phq9" else 7
                answers = [min(3, max(0, total - 3 * i)) for i in range(items)]
                services.response_submit(request=request, actor=patient.user, answers=answers)
        for _ in range(2):
            contact = care.contact_book(episode=episode, kind="phone", scheduled_at=timezone.now())
            care.contact_set_status(contact=contact, status="attended")
        outcome = selectors.outcome_of(episode)
        assert outcome.finished_treatment and outcome.at_caseness
        assert outcome.recovered and outcome.reliably_improved and outcome.reliably_recovered
