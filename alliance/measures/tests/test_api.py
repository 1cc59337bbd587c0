"""The measures API: instruments, due questionnaires, submission, responses, outcome."""

import pytest

from alliance.measures import services
from alliance.measures.models import QuestionnaireRequest, Response

JSON = "application/json"


@pytest.fixture
def phq9(alice, sam):
    return services.questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)


class TestInstruments:
    def test_it_lists_instruments_and_whether_they_are_offered(self, login, sam):
        body = {i["code"]: i for i in login(sam).get("/api/v1/instruments").json()}
        assert body["phq9"]["offered"] and not body["epds"]["offered"]
        assert body["epds"]["licensed"]

    def test_it_withholds_an_unlicensed_instruments_wording(self, login, sam):
        response = login(sam).get("/api/v1/instruments/epds")
        assert response.status_code == 403
        assert "licence for EPDS" in response.json()["error"]["message"]

    def test_it_answers_not_found_for_an_unknown_instrument(self, login, sam):
        assert login(sam).get("/api/v1/instruments/phq99").status_code == 404


class TestSubmit:
    def url(self, request):
        return f"/api/v1/me/questionnaires/{request.pk}/response"

    def test_it_lists_the_patients_due_questionnaires(self, login, alice, phq9):
        body = login(alice).get("/api/v1/me/questionnaires").json()
        assert [q["id"] for q in body] == [phq9.pk]

    def test_it_scores_once_and_answers_a_retry_with_the_same_response(self, login, alice,
                                                                       phq9):
        client = login(alice)
        first = client.post(self.url(phq9), {"answers": [1] * 8 + [0]}, content_type=JSON)
        assert first.status_code == 201
        assert first.json() | {"total": 8, "severity": "mild", "risk": False} == first.json()
        again = client.post(self.url(phq9), {"answers": [3] * 9}, content_type=JSON)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert Response.objects.count() == 1

    def test_it_returns_crisis_information_with_a_risk_answer(self, login, alice, phq9):
        body = login(alice).post(self.url(phq9), {"answers": [0] * 8 + [2]},
                                 content_type=JSON).json()
        assert body["risk"] is True and "116 123" in body["crisis_information"]

    def test_it_names_the_item_out_of_range_and_stores_nothing(self, login, alice, phq9):
        response = login(alice).post(self.url(phq9), {"answers": [0, 0, 0, 4, 0, 0, 0, 0, 0]},
                                     content_type=JSON)
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"q4": ["Question 4: 4 is out of range 0–3"]}
        assert not Response.objects.exists()

    def test_it_refuses_a_missing_item(self, login, alice, phq9):
        response = login(alice).post(self.url(phq9), {"answers": [0] * 8}, content_type=JSON)
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"answers": ["expected 9 answers, got 8"]}
        assert not Response.objects.exists()

    def test_it_answers_not_found_for_a_questionnaire_not_sent_to_you(self, login, bob, phq9):
        response = login(bob).post(self.url(phq9), {"answers": [0] * 9}, content_type=JSON)
        assert response.status_code == 404
        assert not Response.objects.exists()

    def test_it_saves_a_draft(self, login, alice, phq9):
        body = login(alice).put(f"/api/v1/me/questionnaires/{phq9.pk}/draft",
                                {"answers": [1, None, None, None, None, None, None, None, None]},
                                content_type=JSON).json()
        assert body["status"] == "in_progress"
        assert not Response.objects.exists()


class TestCareTeam:
    def test_it_lets_the_supporter_send_and_read_scores(self, login, alice, sam, phq9):
        services.response_submit(request=phq9, actor=alice.user, answers=[2] * 9)
        client = login(sam)
        assert client.get(f"/api/v1/patients/{alice.pk}/responses").json()[0]["total"] == 18
        response = client.post(f"/api/v1/patients/{alice.pk}/questionnaires",
                               {"instrument": "gad7"}, content_type=JSON)
        assert response.status_code == 201
        assert QuestionnaireRequest.objects.filter(instrument="gad7").exists()

    def test_it_names_an_unlicensed_instrument(self, login, alice, sam):
        response = login(sam).post(f"/api/v1/patients/{alice.pk}/questionnaires",
                                   {"instrument": "wai-sr"}, content_type=JSON)
        assert response.status_code == 422
        assert "licence" in response.json()["error"]["fields"]["instrument"][0]
        assert not QuestionnaireRequest.objects.exists()

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get(f"/api/v1/patients/{alice.pk}/responses").status_code == 404
        assert client.get(f"/api/v1/patients/{alice.pk}/outcome").status_code == 404
        assert client.get(f"/api/v1/patients/{alice.pk}/fhir").status_code == 404

    def test_it_reports_the_outcome_with_nulls_where_undefined(self, login, alice, sam, episode):
        body = login(sam).get(f"/api/v1/patients/{alice.pk}/outcome").json()
        assert body["episode_id"] == episode.pk
        assert body["finished_treatment"] is False
        assert body["recovered"] is None

    def test_it_exports_a_fhir_bundle_and_audits_it(self, login, alice, sam, phq9):
        from alliance.audit.models import AuditEntry

        services.response_submit(request=phq9, actor=alice.user, answers=[1] * 9)
        body = login(sam).get(f"/api/v1/patients/{alice.pk}/fhir").json()
        assert body["resourceType"] == "Bundle"
        assert AuditEntry.objects.filter(patient=alice, action="export").exists()


class TestAlerts:
    def test_it_lists_and_acknowledges_a_risk_alert(self, login, alice, sam, phq9):
        services.response_submit(request=phq9, actor=alice.user, answers=[0] * 8 + [1])
        client = login(sam)
        alerts = client.get("/api/v1/alerts").json()
        assert [a["kind"] for a in alerts] == ["risk"]
        url = f"/api/v1/alerts/{alerts[0]['id']}/acknowledge"
        refused = client.post(url, {"note": ""}, content_type=JSON)
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"] == {
            "note": ["Write what you did about this alert."]
        }
        done = client.post(url, {"note": "Called her back"}, content_type=JSON).json()
        assert done["state"] == "acknowledged" and done["action_note"] == "Called her back"

    def test_it_hides_alerts_of_other_teams(self, login, alice, priya, phq9):
        services.response_submit(request=phq9, actor=alice.user, answers=[0] * 8 + [1])
        assert login(priya).get("/api/v1/alerts").json() == []
