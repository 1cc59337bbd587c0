"""Agreement between coders, reconciliation and the recorded consensus."""

import pytest
from django.core.exceptions import ValidationError

from alliance.research import services
from alliance.research.models import ConsensusCoding
from alliance.research.tests.conftest import answer_feedback, code_named, document_with
from alliance.research.tests.test_coding import query_count


@pytest.fixture
def coded(project, tomasz, uma):
    """Both coders finish every response. They agree on Warmth in Alice's first answer,
    disagree on Empathy there, and both apply Normalising to Alice's calls answer."""
    helped = document_with(project, "thought records")
    calls = document_with(project, "every week")
    warmth, empathy, normal = (
        code_named(project, name) for name in ("Warmth", "Empathy", "Normalising")
    )
    services.codings_apply(document=helped, coder=tomasz.user, codes=[warmth], start=28, end=48)
    services.codings_apply(document=helped, coder=uma.user, codes=[warmth], start=35, end=48)
    services.codings_apply(document=helped, coder=tomasz.user, codes=[empathy], start=49, end=95)
    services.codings_apply(
        document=calls, coder=tomasz.user, codes=[normal], quote="I felt less alone"
    )
    services.codings_apply(document=calls, coder=uma.user, codes=[normal], quote="less alone")
    for document in project.documents.all():
        for coder in (tomasz.user, uma.user):
            services.document_set_done(document=document, coder=coder)
    return {"helped": helped, "calls": calls, "warmth": warmth, "empathy": empathy}


class TestAgreementPage:
    def test_it_shows_every_statistic_per_code_and_overall(self, login, project, uma, coded):
        page = login(uma).get(f"/research/projects/{project.pk}/agreement/").content.decode()
        for heading in ("Prevalence", "Agreement", "Cohen's κ", "Fleiss' κ", "Krippendorff's α"):
            assert heading in page
        assert "Overall (codes used at least once)" in page
        assert "n/a (no variation)" in page  # Genuineness: nobody used it
        assert "1 disagreement to settle." in page

    def test_outsiders_get_not_found(self, login, project, vic, coded):
        assert login(vic).get(f"/research/projects/{project.pk}/agreement/").status_code == 404


class TestAgreementApi:
    def test_it_reports_the_figures_per_code(self, login, project, tomasz, coded):
        body = login(tomasz).get(f"/api/v1/research/projects/{project.pk}/agreement").json()
        assert body["coders"] == ["Tomasz Researcher", "Uma Coder"]
        by_code = {row["code"]: row for row in body["per_code"]}
        warmth, empathy = by_code["Warmth"], by_code["Empathy"]
        assert warmth["units"] == 4 and warmth["percent_agreement"] == 1.0
        assert warmth["cohen_kappa"] == 1.0 and warmth["krippendorff_alpha"] == 1.0
        assert empathy["percent_agreement"] == 0.75 and empathy["cohen_kappa"] == 0.0
        assert by_code["Genuineness"]["cohen_kappa"] is None
        assert body["disagreements"] == 1
        assert 0 < body["overall"]["cohen_kappa"] < 1

    def test_outsiders_get_not_found(self, login, project, wes, coded):
        response = login(wes).get(f"/api/v1/research/projects/{project.pk}/agreement")
        assert response.status_code == 404


class TestReconciliation:
    def test_opening_it_makes_agreed_codings_consensus(self, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        agreed = ConsensusCoding.objects.filter(unanimous=True).select_related("code")
        assert {(c.document_id, c.code.name) for c in agreed} == {
            (coded["helped"].pk, "Warmth"),
            (coded["calls"].pk, "Normalising"),
        }
        warmth = agreed.get(code__name="Warmth")
        assert (warmth.start, warmth.end, warmth.decided_by) == (35, 48, tomasz.user)
        assert not ConsensusCoding.objects.filter(code=coded["empathy"]).exists()

    def test_the_queue_lists_the_disagreement_and_who_applied_it(
        self, login, project, tomasz, uma, coded
    ):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        rows = login(uma).get(f"/api/v1/research/projects/{project.pk}/disagreements").json()
        assert [
            (r["code"], r["applied_by"], r["not_applied_by"], r["consensus"]) for r in rows
        ] == [("Empathy", ["Tomasz Researcher"], ["Uma Coder"], None)]
        page = login(uma).get(f"/research/projects/{project.pk}/reconcile/").content.decode()
        assert "Empathy" in page and "0 of 1 disagreement decided" in page

    def test_the_lead_decides_with_a_reason(self, login, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        document, empathy = coded["helped"], coded["empathy"]
        url = f"/research/projects/{project.pk}/reconcile/{document.pk}/{empathy.pk}/"
        client = login(tomasz)
        page = client.get(url).content.decode()
        assert "Tomasz Researcher applied it to characters 49–95" in page
        response = client.post(
            url, {"applied": "yes", "passage": "49-95", "reason": "Understanding is shown."}
        )
        assert response.status_code == 302
        decision = ConsensusCoding.objects.get(document=document, code=empathy)
        assert decision.applied and (decision.start, decision.end) == (49, 95)
        assert decision.decided_by == tomasz.user and decision.reason == "Understanding is shown."
        assert not decision.unanimous

    def test_a_decision_without_a_reason_is_refused(self, login, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        document, empathy = coded["helped"], coded["empathy"]
        response = login(tomasz).post(
            f"/research/projects/{project.pk}/reconcile/{document.pk}/{empathy.pk}/",
            {"applied": "no", "reason": ""},
        )
        assert response.status_code == 400
        assert 'href="#id_reason"' in response.content.decode()
        assert not ConsensusCoding.objects.filter(code=empathy).exists()

    def test_an_adjudicator_decides_but_a_coder_does_not(
        self, login, project, tomasz, uma, vic, coded
    ):
        services.project_add_member(project=project, staff=vic, role="adjudicator")
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        payload = {
            "document_id": coded["helped"].pk,
            "code_id": coded["empathy"].pk,
            "applied": False,
            "reason": "Praise, not understanding.",
        }
        url = f"/api/v1/research/projects/{project.pk}/consensus"
        refused = login(uma).put(url, payload, content_type="application/json")
        assert refused.status_code == 403
        decided = login(vic).put(url, payload, content_type="application/json")
        assert decided.status_code == 200
        body = decided.json()
        assert body["applied"] is False and body["decided_by"] == "Vic Elsewhere"
        assert body["participant"].startswith("P-")

    def test_decisions_wait_for_reconciliation(self, project, tomasz, coded):
        with pytest.raises(ValidationError) as error:
            services.consensus_decide(
                document=coded["helped"],
                code=coded["empathy"],
                actor=tomasz.user,
                applied=False,
                reason="Too early",
            )
        assert "applied" in error.value.message_dict
        assert not ConsensusCoding.objects.exists()

    def test_the_api_refuses_a_passage_outside_the_text(self, login, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        response = login(tomasz).put(
            f"/api/v1/research/projects/{project.pk}/consensus",
            {
                "document_id": coded["helped"].pk,
                "code_id": coded["empathy"].pk,
                "applied": True,
                "start": 10,
                "end": 10_000,
                "reason": "r",
            },
            content_type="application/json",
        )
        assert response.status_code == 422 and "end" in response.json()["error"]["fields"]
        assert not ConsensusCoding.objects.filter(code=coded["empathy"]).exists()

    def test_the_api_refuses_a_code_from_another_codebook(self, login, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        other = services.project_create(
            lead=tomasz, title="Other", instruments=["feedback"], starter="change-processes"
        )
        response = login(tomasz).put(
            f"/api/v1/research/projects/{project.pk}/consensus",
            {
                "document_id": coded["helped"].pk,
                "code_id": code_named(other, "Self-care").pk,
                "applied": False,
                "reason": "r",
            },
            content_type="application/json",
        )
        assert response.status_code == 422 and "code_id" in response.json()["error"]["fields"]

    def test_the_consensus_lists_who_decided_and_why(self, login, project, tomasz, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        rows = login(tomasz).get(f"/api/v1/research/projects/{project.pk}/consensus").json()
        assert {r["code"] for r in rows} == {"Warmth", "Normalising"}
        assert all(r["unanimous"] and r["reason"] and r["decided_by"] for r in rows)
        assert {r["passage"] for r in rows} == {"was brilliant", "less alone"}

    def test_outsiders_get_not_found(self, login, project, tomasz, vic, coded):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        client = login(vic)
        assert client.get(f"/research/projects/{project.pk}/reconcile/").status_code == 404
        url = f"/research/projects/{project.pk}/reconcile/{coded['helped'].pk}/"
        assert client.get(f"{url}{coded['empathy'].pk}/").status_code == 404
        api = f"/api/v1/research/projects/{project.pk}/"
        assert client.get(api + "disagreements").status_code == 404
        assert client.get(api + "consensus").status_code == 404


class TestAgreementPageSize:
    def test_its_query_count_does_not_grow_with_the_responses(
        self, login, project, tomasz, uma, alice, sam, coded, django_assert_num_queries
    ):
        client = login(uma)
        url = f"/research/projects/{project.pk}/agreement/"
        expected = query_count(client, url)
        for n in range(6):
            answer_feedback(alice, sam.user, {"calls_improve": f"Idea number {n}"})
        services.project_refresh_documents(project=project)
        warmth = code_named(project, "Warmth")
        for document in project.documents.all():
            services.codings_apply(
                document=document, coder=uma.user, codes=[warmth], start=0, end=4
            )
            for coder in (tomasz.user, uma.user):
                services.document_set_done(document=document, coder=coder)
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert "Counted over the 10 responses" in response.content.decode()
