"""Research consent: separate from treatment, versioned, dated, withdrawable; withdrawal
takes a participant's documents out of projects not yet closed."""

import pytest

from alliance.audit.models import AuditEntry
from alliance.research import selectors, services
from alliance.research.models import (
    Coding,
    ConsensusCoding,
    DocumentCompletion,
    Participant,
    ResearchConsent,
    ResearchDocument,
)
from alliance.research.tests.conftest import code_named, consent, document_with


class TestConsentPage:
    def test_it_shows_the_current_text_and_asks(self, login, alice):
        page = login(alice).get("/research/consent/").content.decode()
        assert "Taking part in research" in page
        assert "Version 1" in page
        assert "You have not agreed to take part in research" in page
        assert "separate from your agreement to treatment" in page

    def test_it_records_consent_when_the_box_is_ticked(self, login, alice):
        response = login(alice).post(
            "/research/consent/", {"agree": "on", "action": "give"}, follow=True
        )
        assert "Your consent to research is recorded" in response.content.decode()
        consent_row = ResearchConsent.objects.get(patient=alice)
        assert consent_row.document.version == 1 and consent_row.withdrawn_at is None

    def test_it_refuses_without_the_box_and_records_nothing(self, login, alice):
        response = login(alice).post("/research/consent/", {"action": "give"})
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page and "Tick the box to agree" in page
        assert 'href="#id_agree"' in page
        assert not ResearchConsent.objects.exists()

    def test_it_withdraws(self, login, alice):
        consent(alice)
        response = login(alice).post("/research/consent/", {"action": "withdraw"}, follow=True)
        page = response.content.decode()
        assert "You have withdrawn your consent" in page
        assert "withdrawn on" in page
        assert selectors.consent_in_force(alice) is None

    def test_it_is_not_found_for_staff(self, login, sam, tomasz):
        assert login(sam).get("/research/consent/").status_code == 404
        assert login(tomasz).get("/research/consent/").status_code == 404

    def test_it_asks_for_sign_in(self, client):
        response = client.get("/research/consent/")
        assert response.status_code == 302 and "/sign-in" in response["Location"]


class TestConsentService:
    def test_it_gives_consent_once_however_often_asked(self, alice):
        document = selectors.consent_document_current()
        first, created = services.consent_give(patient=alice, document=document)
        again, created_again = services.consent_give(patient=alice, document=document)
        assert created and not created_again and first.pk == again.pk
        assert ResearchConsent.objects.filter(patient=alice).count() == 1

    def test_it_renews_consent_to_a_new_version(self, alice):
        consent(alice)
        new = services.consent_document_publish(title="Research v2", text="New words.")
        renewed, _ = services.consent_give(patient=alice, document=new)
        old = ResearchConsent.objects.get(patient=alice, document__version=1)
        assert old.withdrawn_at is not None and old.renewed
        assert renewed.document.version == 2 and renewed.in_force

    def test_it_keeps_consent_to_an_old_version_in_force(self, alice):
        consent(alice)
        services.consent_document_publish(title="Research v2", text="New words.")
        assert selectors.consent_in_force(alice).document.version == 1

    def test_it_refuses_an_old_version(self, alice):
        old = selectors.consent_document_current()
        services.consent_document_publish(title="Research v2", text="New words.")
        with pytest.raises(Exception) as error:
            services.consent_give(patient=alice, document=old)
        assert "document" in error.value.message_dict
        assert not ResearchConsent.objects.exists()

    def test_it_audits_giving_and_withdrawing(self, alice):
        consent(alice)
        services.consent_withdraw(patient=alice)
        entries = list(AuditEntry.objects.filter(patient=alice).order_by("seq"))
        assert [e.what for e in entries] == ["research consent", "research consent withdrawn"]
        assert entries[0].detail["new"] == {"version": 1}
        assert entries[1].detail["old"]["in_force"] and not entries[1].detail["new"]["in_force"]

    def test_withdrawing_without_consent_does_nothing(self, alice):
        assert services.consent_withdraw(patient=alice) == 0
        assert not AuditEntry.objects.filter(what="research consent withdrawn").exists()


class TestWithdrawalFromProjects:
    def test_it_removes_documents_codings_and_consensus_from_open_projects(
        self, project, alice, bob, tomasz
    ):
        document = document_with(project, "thought records")
        warmth = code_named(project, "Warmth")
        services.codings_apply(
            document=document, coder=tomasz.user, codes=[warmth], quote="was brilliant"
        )
        services.document_set_done(document=document, coder=tomasz.user)
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        assert ConsensusCoding.objects.filter(document=document).exists()

        removed = services.consent_withdraw(patient=alice)

        assert removed == 2
        assert not Participant.objects.filter(project=project, patient=alice).exists()
        assert not ResearchDocument.objects.filter(source_response__patient=alice).exists()
        assert not Coding.objects.exists() and not ConsensusCoding.objects.exists()
        assert not DocumentCompletion.objects.exists()
        assert ResearchDocument.objects.filter(participant__patient=bob).count() == 2

    def test_it_leaves_closed_projects_as_they_were(self, project, alice, tomasz):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        services.project_set_status(project=project, status="closed", actor=tomasz.user)

        assert services.consent_withdraw(patient=alice) == 0
        assert ResearchDocument.objects.filter(participant__patient=alice).count() == 2

    def test_a_withdrawn_participant_is_not_pulled_in_again(self, project, alice):
        services.consent_withdraw(patient=alice)
        assert services.project_refresh_documents(project=project) == 0
        assert not Participant.objects.filter(patient=alice).exists()

    def test_withdrawal_by_page_names_how_many_answers_left(self, login, project, alice):
        response = login(alice).post("/research/consent/", {"action": "withdraw"}, follow=True)
        assert "(2 removed)" in response.content.decode()


class TestConsentApi:
    def test_it_reads_gives_and_withdraws(self, login, alice):
        client = login(alice)
        state = client.get("/api/v1/research/consent").json()
        assert state["document"]["version"] == 1 and state["in_force"] is None

        given = client.post(
            "/api/v1/research/consent", {"version": 1}, content_type="application/json"
        )
        assert given.status_code == 201 and given.json()["in_force"]["version"] == 1
        again = client.post(
            "/api/v1/research/consent", {"version": 1}, content_type="application/json"
        )
        assert again.status_code == 200
        assert ResearchConsent.objects.filter(patient=alice).count() == 1

        withdrawn = client.delete("/api/v1/research/consent")
        assert withdrawn.status_code == 200 and withdrawn.json() == {"documents_removed": 0}

    def test_it_refuses_a_wrong_version_naming_the_field(self, login, alice):
        response = login(alice).post(
            "/api/v1/research/consent", {"version": 7}, content_type="application/json"
        )
        assert response.status_code == 422
        assert "version" in response.json()["error"]["fields"]
        assert not ResearchConsent.objects.exists()

    def test_it_is_not_found_for_staff(self, login, sam):
        assert login(sam).get("/api/v1/research/consent").status_code == 404
