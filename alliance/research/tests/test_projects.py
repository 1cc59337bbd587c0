"""Research projects: sources, pseudonymised documents, members, stages and access."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.measures.models import Response
from alliance.research import services
from alliance.research.models import Participant, ProjectMember, ResearchProject
from alliance.research.tests.conftest import answer_feedback, consent


class TestProjectCreate:
    def test_it_takes_consenting_participants_only(self, project, alice, bob, dora):
        patients = set(
            Participant.objects.filter(project=project).values_list("patient", flat=True)
        )
        assert patients == {alice.pk, bob.pk}
        assert project.documents.count() == 4
        assert not any("Dora" in d.text for d in project.documents.all())

    def test_it_pseudonymises_every_document(self, project):
        texts = " ".join(d.text for d in project.documents.all())
        for identifier in ("Sam", "07700 900123", "bob.s@example.com", "Jenny"):
            assert identifier not in texts
        assert "[NAME]" in texts and "[PHONE]" in texts and "[EMAIL]" in texts

    def test_it_gives_stable_pseudonyms_that_differ_between_projects(self, project, tomasz, alice):
        pseudonym = Participant.objects.get(project=project, patient=alice).pseudonym
        assert re.fullmatch(r"P-[0-9A-F]{6}", pseudonym)
        assert str(alice.pseudonym) not in pseudonym
        other = services.project_create(lead=tomasz, title="Second", instruments=["feedback"])
        services.project_refresh_documents(project=project)
        assert Participant.objects.get(project=project, patient=alice).pseudonym == pseudonym
        assert Participant.objects.get(project=other, patient=alice).pseudonym != pseudonym

    def test_it_keeps_the_question(self, project):
        document = project.documents.get(question="calls_helped")
        assert document.question_text.startswith("In what ways did you find the calls")
        assert document.instrument == "feedback"

    def test_it_adds_members_and_a_starter_codebook(self, project, tomasz, uma):
        roles = dict(ProjectMember.objects.filter(project=project).values_list("staff", "role"))
        assert roles == {tomasz.pk: "lead", uma.pk: "coder"}
        names = set(project.codebook.codes.values_list("name", flat=True))
        assert {"Warmth", "Empathy", "Genuineness", "Normalising"} <= names

    def test_it_audits_which_patients_went_to_research(self, project, alice, bob, dora):
        audited = set(
            AuditEntry.objects.filter(what="pseudonymised answers for research").values_list(
                "patient", flat=True
            )
        )
        assert audited == {alice.pk, bob.pk}

    def test_it_filters_by_question(self, tomasz, answers):
        project = services.project_create(
            lead=tomasz, title="Calls", instruments=["feedback"], questions=["calls_helped"]
        )
        assert list(project.documents.values_list("question", flat=True)) == ["calls_helped"]

    def test_it_filters_by_period_in_the_service_zone(self, tomasz, answers):
        Response.objects.filter(pk=answers["bob"].pk).update(
            submitted_at=timezone.now() - timedelta(days=40)
        )
        today = timezone.localdate()
        project = services.project_create(
            lead=tomasz,
            title="Recent",
            instruments=["feedback"],
            period_start=today - timedelta(days=7),
            period_end=today,
        )
        patients = set(project.participants.values_list("patient", flat=True))
        assert patients == {answers["alice"].patient_id}

    def test_it_filters_by_programme(self, tomasz, answers, episode, alice, programme):
        Response.objects.filter(pk=answers["alice"].pk).update(episode=episode)
        project = services.project_create(
            lead=tomasz, title="Depression", instruments=["feedback"], programmes=[programme.key]
        )
        assert set(project.participants.values_list("patient", flat=True)) == {alice.pk}

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"title": "  "}, "title"),
            ({"instruments": []}, "instruments"),
            ({"instruments": ["phq9"]}, "instruments"),
            ({"questions": ["nonsense"]}, "questions"),
            ({"programmes": ["no-such-programme"]}, "programmes"),
            ({"starter": "no-such-codebook"}, "starter"),
        ],
    )
    def test_it_refuses_bad_sources_naming_the_field(self, tomasz, answers, changes, field):
        arguments = {"lead": tomasz, "title": "T", "instruments": ["feedback"], **changes}
        with pytest.raises(ValidationError) as error:
            services.project_create(**arguments)
        assert field in error.value.message_dict
        assert not ResearchProject.objects.exists()

    def test_it_refuses_a_period_that_ends_before_it_starts(self, tomasz, answers):
        today = timezone.localdate()
        with pytest.raises(ValidationError) as error:
            services.project_create(
                lead=tomasz,
                title="T",
                instruments=["feedback"],
                period_start=today,
                period_end=today - timedelta(days=1),
            )
        assert "period_end" in error.value.message_dict
        assert not ResearchProject.objects.exists()

    def test_it_refuses_a_coder_who_is_not_a_researcher_of_the_service(
        self, tomasz, sam, wes, answers
    ):
        for outsider in (sam, wes):
            with pytest.raises(ValidationError) as error:
                services.project_create(
                    lead=tomasz, title="T", instruments=["feedback"], coders=[outsider]
                )
            assert "coders" in error.value.message_dict
        assert not ResearchProject.objects.exists()


class TestRefresh:
    def test_it_adds_new_answers_once(self, project, alice, sam):
        answer_feedback(alice, sam.user, {"calls_improve": "More evening calls."})
        assert services.project_refresh_documents(project=project) == 1
        assert services.project_refresh_documents(project=project) == 0
        assert project.documents.count() == 5

    def test_it_adds_a_newly_consenting_participant(self, project, dora):
        consent(dora)
        assert services.project_refresh_documents(project=project) == 1
        assert "Dora" not in project.documents.last().text
        assert "[NAME]'s own words" in project.documents.last().text

    def test_it_refuses_a_closed_project(self, project, tomasz):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        services.project_set_status(project=project, status="closed", actor=tomasz.user)
        with pytest.raises(ValidationError):
            services.project_refresh_documents(project=project)


class TestStatus:
    def test_it_moves_forward_and_back_to_coding(self, project, tomasz):
        for status in ("reconciliation", "open", "reconciliation", "closed"):
            services.project_set_status(project=project, status=status, actor=tomasz.user)
        project.refresh_from_db()
        assert project.status == "closed" and project.closed_at is not None

    def test_it_refuses_to_skip_reconciliation_or_reopen_a_closed_project(self, project, tomasz):
        with pytest.raises(ValidationError) as error:
            services.project_set_status(project=project, status="closed", actor=tomasz.user)
        assert "status" in error.value.message_dict
        project.refresh_from_db()
        assert project.status == "open"


class TestProjectPages:
    def test_it_lists_only_my_projects(self, login, project, vic, tomasz):
        assert "Feedback study" in login(tomasz).get("/research/").content.decode()
        assert "Feedback study" not in login(vic).get("/research/").content.decode()

    def test_it_creates_a_project_from_the_form(self, login, tomasz, uma, answers):
        response = login(tomasz).post(
            "/research/projects/new/",
            {
                "title": "Calls study",
                "instruments": ["feedback"],
                "coders": [str(uma.pk)],
                "starter": "change-processes",
                "blind": "on",
            },
        )
        project = ResearchProject.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/research/projects/{project.pk}/"
        assert project.blind and project.documents.count() == 4
        assert project.members.filter(staff=uma, role="coder").exists()

    def test_it_names_the_field_of_a_bad_form_and_creates_nothing(self, login, tomasz, answers):
        response = login(tomasz).post("/research/projects/new/", {"title": "", "instruments": []})
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page and 'href="#id_title"' in page
        assert not ResearchProject.objects.exists()

    def test_the_lead_invites_a_coder(self, login, project, tomasz, vic):
        response = login(tomasz).post(
            f"/research/projects/{project.pk}/members/", {"staff_id": vic.pk, "role": "coder"}
        )
        assert response.status_code == 302
        assert project.members.filter(staff=vic).exists()

    def test_a_coder_cannot_invite_or_change_the_stage(self, login, project, uma, vic):
        client = login(uma)
        invite = client.post(
            f"/research/projects/{project.pk}/members/", {"staff_id": vic.pk, "role": "coder"}
        )
        stage = client.post(
            f"/research/projects/{project.pk}/status/", {"status": "reconciliation"}
        )
        assert invite.status_code == 403 and stage.status_code == 403
        project.refresh_from_db()
        assert project.status == "open" and not project.members.filter(staff=vic).exists()

    def test_the_overview_shows_sources_members_and_stage(self, login, project, tomasz):
        page = login(tomasz).get(f"/research/projects/{project.pk}/").content.decode()
        assert "Uma Coder" in page and "Open reconciliation" in page
        assert "<dt>Responses</dt><dd>4</dd>" in page

    @pytest.mark.parametrize(
        "path",
        ["", "documents/", "codebook/", "agreement/", "reconcile/", "themes/", "report/"],
    )
    def test_outsiders_get_not_found(self, login, project, vic, wes, sam, ruth, alice, path):
        for outsider in (vic, wes, sam, ruth, alice):
            response = login(outsider).get(f"/research/projects/{project.pk}/{path}")
            assert response.status_code == 404, (outsider, path)

    def test_the_project_list_is_for_researchers_only(self, login, sam, alice):
        assert login(sam).get("/research/").status_code == 404
        assert login(alice).get("/research/").status_code == 404


class TestProjectApi:
    def test_it_creates_lists_and_gets_a_project(self, login, tomasz, uma, answers):
        client = login(tomasz)
        created = client.post(
            "/api/v1/research/projects",
            {
                "title": "API study",
                "instruments": ["feedback"],
                "coders": [uma.pk],
                "starter": "supporter-qualities",
            },
            content_type="application/json",
        )
        assert created.status_code == 201
        body = created.json()
        assert body["documents"] == 4 and body["participants"] == 2 and body["my_role"] == "lead"
        listed = client.get("/api/v1/research/projects").json()
        assert [p["id"] for p in listed] == [body["id"]]
        assert client.get(f"/api/v1/research/projects/{body['id']}").json()["title"] == "API study"

    def test_it_refuses_bad_input_naming_the_field(self, login, tomasz, answers):
        response = login(tomasz).post(
            "/api/v1/research/projects",
            {"title": "X", "instruments": ["phq9"]},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert "instruments" in response.json()["error"]["fields"]
        assert not ResearchProject.objects.exists()

    def test_it_changes_the_stage_and_refreshes(self, login, project, tomasz):
        client = login(tomasz)
        refreshed = client.post(f"/api/v1/research/projects/{project.pk}/refresh")
        assert refreshed.json() == {"added": 0}
        moved = client.post(
            f"/api/v1/research/projects/{project.pk}/status",
            {"status": "reconciliation"},
            content_type="application/json",
        )
        assert moved.status_code == 200 and moved.json()["status"] == "reconciliation"

    def test_it_adds_a_member(self, login, project, tomasz, vic, wes):
        client = login(tomasz)
        added = client.post(
            f"/api/v1/research/projects/{project.pk}/members",
            {"staff_id": vic.pk, "role": "adjudicator"},
            content_type="application/json",
        )
        assert added.status_code == 201 and added.json()["role"] == "adjudicator"
        outsider = client.post(
            f"/api/v1/research/projects/{project.pk}/members",
            {"staff_id": wes.pk},
            content_type="application/json",
        )
        assert outsider.status_code == 422 and "staff_id" in outsider.json()["error"]["fields"]

    def test_outsiders_get_not_found(self, login, project, vic, wes, sam, alice):
        for outsider in (vic, wes, sam, alice):
            response = login(outsider).get(f"/api/v1/research/projects/{project.pk}")
            assert response.status_code == 404

    def test_only_researchers_list_projects(self, login, sam):
        assert login(sam).get("/api/v1/research/projects").status_code == 403

    def test_a_coder_cannot_change_the_stage(self, login, project, uma):
        response = login(uma).post(
            f"/api/v1/research/projects/{project.pk}/status",
            {"status": "reconciliation"},
            content_type="application/json",
        )
        assert response.status_code == 403
        project.refresh_from_db()
        assert project.status == "open"

    def test_documents_are_pseudonymised_and_carry_no_source(self, login, project, tomasz):
        documents = login(tomasz).get(f"/api/v1/research/projects/{project.pk}/documents").json()
        assert len(documents) == 4
        assert set(documents[0]) == {
            "id", "guid", "participant", "instrument", "question", "question_text", "text", "done"
        }  # fmt: skip
        assert all(d["participant"].startswith("P-") for d in documents)
        assert not any("Sam" in d["text"] for d in documents)
