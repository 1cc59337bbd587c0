"""The patient's questionnaire pages and the care team's scores page."""

import re

import pytest

from alliance.audit.models import AuditEntry
from alliance.insights.models import Alert
from alliance.measures import services
from alliance.measures.models import InstrumentLicence, QuestionnaireRequest, Response


def phq9_post(answers, **extra):
    data = {f"q{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}
    data.update(extra)
    return data


@pytest.fixture
def phq9(alice, sam):
    return services.questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)


class TestFillIn:
    def test_it_shows_the_questionnaire_on_the_week(self, login, alice, phq9):
        page = login(alice).get("/my/", follow=True).content.decode()
        assert "Questionnaires to fill in" in page
        assert f"/my/questionnaires/{phq9.pk}/" in page

    def test_it_scores_a_complete_form_and_shows_the_band(self, login, alice, phq9):
        client = login(alice)
        form = client.get(f"/my/questionnaires/{phq9.pk}/").content.decode()
        assert "Little interest or pleasure in doing things" in form
        response = client.post(
            f"/my/questionnaires/{phq9.pk}/",
            phq9_post([2, 2, 1, 1, 1, 1, 1, 1, 0], difficulty="1", submit="1"),
            follow=True,
        )
        page = response.content.decode()
        assert "Your score: 10" in page and "Moderate" in page
        assert "Please look after yourself now" not in page
        assert Response.objects.get().total == 10

    def test_it_shows_crisis_information_at_once_after_a_risk_answer(self, login, alice, phq9):
        client = login(alice)
        response = client.post(
            f"/my/questionnaires/{phq9.pk}/",
            phq9_post([0, 0, 0, 0, 0, 0, 0, 0, 2], submit="1"),
            follow=True,
        )
        page = response.content.decode()
        assert "Please look after yourself now" in page
        assert "116 123" in page
        assert Alert.objects.filter(patient=alice, kind="risk", state="open").count() == 1

    def test_it_shows_the_services_own_crisis_text(self, login, alice, phq9):
        alice.service.crisis_info = "Call the Riverside crisis line on 0800 000 0000."
        alice.service.save()
        page = login(alice).post(
            f"/my/questionnaires/{phq9.pk}/", phq9_post([0] * 8 + [1], submit="1"), follow=True
        )
        assert "Riverside crisis line" in page.content.decode()

    def test_it_names_the_missing_answer_and_keeps_the_others(self, login, alice, phq9):
        client = login(alice)
        response = client.post(
            f"/my/questionnaires/{phq9.pk}/", phq9_post([1, 1, None, 1, 1, 1, 1, 1, 1], submit="1")
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "Question 3: no answer given" in page
        assert re.search(r'<input[^>]*name="q1"[^>]*value="1"[^>]*checked', page)
        assert not re.search(r'<input[^>]*name="q3"[^>]*checked', page)
        assert not Response.objects.exists()

    def test_it_saves_part_done_and_resumes(self, login, alice, phq9):
        client = login(alice)
        client.post(f"/my/questionnaires/{phq9.pk}/", phq9_post([3, 2], save="1"))
        phq9.refresh_from_db()
        assert phq9.status == "in_progress" and not Response.objects.exists()
        form = client.get(f"/my/questionnaires/{phq9.pk}/").content.decode()
        assert re.search(r'<input[^>]*name="q1"[^>]*value="3"[^>]*checked', form)

    def test_it_answers_not_found_for_a_questionnaire_sent_to_someone_else(self, login, bob, phq9):
        client = login(bob)
        assert client.get(f"/my/questionnaires/{phq9.pk}/").status_code == 404
        response = client.post(f"/my/questionnaires/{phq9.pk}/", phq9_post([0] * 9, submit="1"))
        assert response.status_code == 404
        assert not Response.objects.exists()

    def test_it_does_not_score_a_second_submission(self, login, alice, phq9):
        client = login(alice)
        client.post(f"/my/questionnaires/{phq9.pk}/", phq9_post([0] * 9, submit="1"))
        response = client.post(f"/my/questionnaires/{phq9.pk}/", phq9_post([3] * 9, submit="1"))
        assert response.status_code == 302
        assert Response.objects.count() == 1 and Response.objects.get().total == 0

    def test_it_offers_the_supporters_name_in_the_wai_sr(self, login, alice, sam):
        InstrumentLicence.objects.create(
            service=alice.service, instrument="wai-sr", recorded_by=sam.user
        )
        request = services.questionnaire_send(patient=alice, instrument="wai-sr", actor=sam.user)
        page = login(alice).get(f"/my/questionnaires/{request.pk}/").content.decode()
        assert "Sam Supporter" in page and "{supporter}" not in page


class TestScoresPage:
    def submit(self, request, patient, answers):
        services.response_submit(request=request, actor=patient.user, answers=answers)

    def test_it_shows_the_chart_and_reliable_change(self, login, alice, sam):
        for answers in ([3, 3, 3, 2, 2, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0]):
            request = services.questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)
            self.submit(request, alice, answers)
        page = login(sam).get(f"/patients/{alice.pk}/scores/").content.decode()
        assert "<svg" in page and "Reliable improvement since the first score" in page
        assert AuditEntry.objects.filter(patient=alice, what="scores", actor=sam.user).exists()

    def test_it_lets_the_supporter_send_a_questionnaire(self, login, alice, sam):
        response = login(sam).post(f"/patients/{alice.pk}/scores/send/", {"instrument": "gad7"})
        assert response.status_code == 302
        assert QuestionnaireRequest.objects.get().sent_by == sam.user

    def test_it_does_not_offer_an_unlicensed_instrument(self, login, alice, sam):
        client = login(sam)
        assert 'value="epds"' not in client.get(f"/patients/{alice.pk}/scores/").content.decode()
        response = client.post(f"/patients/{alice.pk}/scores/send/", {"instrument": "epds"})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert not QuestionnaireRequest.objects.exists()

    def test_it_keeps_a_risk_alert_open_until_acknowledged_with_a_note(
        self, login, alice, sam, phq9
    ):
        self.submit(phq9, alice, [0] * 8 + [3])
        alert = Alert.objects.get()
        client = login(sam)
        assert alert.summary in client.get(f"/patients/{alice.pk}/scores/").content.decode()
        url = f"/patients/{alice.pk}/alerts/{alert.pk}/acknowledge/"
        response = client.post(url, {"note": " "})
        assert response.status_code == 400
        assert "Write what you did about this alert" in response.content.decode()
        alert.refresh_from_db()
        assert alert.state == "open"
        client.post(url, {"note": "Phoned Alice; agreed a safety plan; told the duty worker."})
        alert.refresh_from_db()
        assert alert.state == "acknowledged" and alert.acknowledged_by == sam.user
        assert "safety plan" in alert.action_note
        assert list(alert.events.values_list("event", flat=True)) == ["raised", "acknowledged"]

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, phq9, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get(f"/patients/{alice.pk}/scores/").status_code == 404
        response = client.post(f"/patients/{alice.pk}/scores/send/", {"instrument": "gad7"})
        assert response.status_code == 404
        assert QuestionnaireRequest.objects.count() == 1

    def test_it_refuses_sending_to_a_digital_navigator(self, login, alice, nia):
        response = login(nia).post(f"/patients/{alice.pk}/scores/send/", {"instrument": "gad7"})
        assert response.status_code == 403
        assert not QuestionnaireRequest.objects.exists()


class TestLicences:
    def test_it_lets_an_administrator_record_a_licence(self, login, ada):
        client = login(ada)
        assert "EPDS" in client.get("/service/licences/").content.decode()
        client.post("/service/licences/", {"instrument": "epds", "note": "RCPsych 2026"})
        assert InstrumentLicence.objects.get().instrument == "epds"

    def test_it_refuses_a_licence_for_a_free_instrument(self, login, ada):
        response = login(ada).post("/service/licences/", {"instrument": "phq9"}, follow=True)
        assert "This instrument needs no licence" in response.content.decode()
        assert not InstrumentLicence.objects.exists()

    def test_it_is_for_administrators(self, login, sam):
        assert login(sam).get("/service/licences/").status_code == 403
