"""Supervision: teams' caseloads with supporter time, moving a patient to another
supporter, and deciding a patient's request for a different one — pages, API, access,
bad input and query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alliance.accounts.models import Patient, Role
from alliance.audit.models import AuditEntry
from alliance.care.models import Episode, Review
from alliance.conftest import make_patient, make_staff
from alliance.insights.caseload import supervision
from alliance.insights.tests.test_caseload import (  # noqa: F401  (support_urls: a fixture)
    attended_contact,
    make_history,
    start_episode,
    support_urls,
)
from alliance.messaging.models import ChangeStatus, SupporterChangeRequest
from alliance.messaging.services import supporter_change_request


@pytest.fixture
def sasha(riverside, north):
    """A second supporter of the North team."""
    return make_staff(riverside, Role.SUPPORTER, "Sasha North", [north])


@pytest.fixture
def active(alice, programme, sam):
    """Alice's active episode, started four weeks ago."""
    return start_episode(alice, programme, sam, days_ago=28)


def completed_review(episode, reviewer, minutes, days_ago):
    at = timezone.now() - timedelta(days=days_ago)
    return Review.objects.create(
        episode=episode,
        reviewer=reviewer,
        covers_from=episode.started_at,
        opened_at=at - timedelta(minutes=minutes),
        completed_at=at,
        minutes_spent=minutes,
    )


def ask_for_change(patient, reason="We do not click"):
    change, _created = supporter_change_request(patient=patient, actor=patient.user, reason=reason)
    return change


# --- The time spent ------------------------------------------------------------------------


class TestSupervisionSelector:
    def test_it_sums_review_and_contact_minutes_per_patient_per_week(
        self, morgan, sam, alice, active
    ):
        now = timezone.now()
        attended_contact(active, now - timedelta(days=3), minutes=50)
        attended_contact(active, now - timedelta(days=10))  # no time recorded: its 30 booked
        attended_contact(active, now - timedelta(days=40), minutes=60)  # too long ago
        completed_review(active, sam, 12, days_ago=2)
        completed_review(active, sam, 8, days_ago=9)
        view = supervision(morgan.user)
        [load] = [s for s in view.supporters if s.supporter == sam]
        assert load.minutes == {alice.pk: 50 + 30 + 12 + 8}
        assert load.minutes_per_patient_per_week == 25.0
        assert load.patient_times[0][1] == 25.0

    def test_it_counts_time_to_whoever_spent_it(self, morgan, sam, sasha, alice, active):
        completed_review(active, sasha, 20, days_ago=1)
        view = supervision(morgan.user)
        loads = {s.supporter: s for s in view.supporters}
        assert loads[sasha].minutes == {alice.pk: 20}
        assert loads[sam].minutes == {}


# --- The page --------------------------------------------------------------------------------


class TestSupervisionPage:
    def test_it_shows_each_supporters_caseload_and_time(
        self, login, morgan, sam, sasha, alice, active
    ):
        attended_contact(active, timezone.now() - timedelta(days=2), minutes=40)
        page = login(morgan).get("/supervision/").content.decode()
        assert "Sam Supporter's caseload" in page
        assert "Sasha North's caseload" in page
        assert "Alice Patient" in page
        assert '<td data-label="Minutes per week">10.0</td>' in page
        assert f'href="/supervision/patients/{alice.pk}/reassign/"' in page

    def test_it_shows_a_service_manager_the_whole_service(self, login, ruth, alice, bob):
        page = login(ruth).get("/supervision/").content.decode()
        assert "Alice Patient" in page and "Bob Southpatient" in page
        assert "Priya Other's caseload" in page

    def test_it_keeps_a_supervisor_to_their_teams(self, login, morgan, alice, bob, carol):
        page = login(morgan).get("/supervision/").content.decode()
        assert "Alice Patient" in page
        assert "Bob Southpatient" not in page and "Carol Hillpatient" not in page

    def test_it_lists_open_requests_for_a_different_supporter(self, login, morgan, alice):
        ask_for_change(alice, reason="I would like someone who knows about shift work")
        page = login(morgan).get("/supervision/").content.decode()
        assert "I would like someone who knows about shift work" in page
        assert "asked on" in page and "to change from Sam Supporter" in page

    def test_it_is_for_supervisors_and_service_managers(
        self, login, sam, nia, tomasz, hana, ada, alice
    ):
        for outsider in (sam, nia, tomasz, hana, ada):
            assert login(outsider).get("/supervision/").status_code == 403
        assert login(alice).get("/supervision/").status_code == 404

    def test_it_runs_a_fixed_number_of_queries(
        self, login, riverside, north, morgan, sam, sasha, programme, django_assert_num_queries
    ):
        def add_patients(count, weeks):
            for n in range(count):
                supporter = sam if n % 2 else sasha
                patient = make_patient(riverside, north, f"P{n}-{weeks} Person", supporter)
                episode = start_episode(patient, programme, supporter, days_ago=weeks * 7)
                make_history(patient, episode, weeks=weeks)
                completed_review(episode, supporter, 10, days_ago=1)
                if n % 3 == 0:
                    ask_for_change(patient)

        client = login(morgan)
        add_patients(3, weeks=2)
        client.get("/supervision/")
        with django_assert_num_queries(SUPERVISION_QUERIES, exact=False) as small:
            assert client.get("/supervision/").status_code == 200
        add_patients(20, weeks=6)
        with django_assert_num_queries(len(small.captured_queries)):
            page = client.get("/supervision/").content.decode()
        assert page.count('class="patient-name"') == 23


# At most: the session, user, two-factor device, staff profile (4); the caseload's reads
# (11); the supporters and their teams (2); contact and review minutes (2); open requests
# (1); the page's header (notification bell) and the session's save (3).
SUPERVISION_QUERIES = 24


# --- Moving a patient ------------------------------------------------------------------------


class TestReassignPage:
    def test_it_moves_a_patient_and_their_episode_to_another_supporter(
        self, login, morgan, sam, sasha, alice, active
    ):
        client = login(morgan)
        page = client.get(f"/supervision/patients/{alice.pk}/reassign/").content.decode()
        assert "Sasha North" in page
        response = client.post(
            f"/supervision/patients/{alice.pk}/reassign/", {"supporter_id": sasha.pk}
        )
        assert response.status_code == 302
        alice.refresh_from_db()
        assert alice.supporter == sasha
        assert Episode.objects.get(pk=active.pk).supporter == sasha
        entries = AuditEntry.objects.filter(patient=alice, actor=morgan.user)
        assert entries.filter(what="named supporter", detail__new=sasha.user.email).exists()
        assert entries.filter(what="episode supporter").exists()

    def test_it_refuses_a_supporter_of_another_team_naming_the_field(
        self, login, morgan, priya, sam, sasha, alice, active
    ):
        response = login(morgan).post(
            f"/supervision/patients/{alice.pk}/reassign/", {"supporter_id": priya.pk}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "New supporter: Choose a supporter of the patient&#x27;s team." in page
        alice.refresh_from_db()
        assert alice.supporter == sam
        assert not AuditEntry.objects.filter(what="named supporter", action="update").exists()

    def test_it_refuses_a_supporter_of_another_service(self, login, ruth, oscar, sam, sasha, alice):
        response = login(ruth).post(
            f"/supervision/patients/{alice.pk}/reassign/", {"supporter_id": oscar.pk}
        )
        assert response.status_code == 400
        assert "Choose a supporter of the patient&#x27;s team" in response.content.decode()
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_asks_for_a_supporter(self, login, morgan, sam, sasha, alice):
        response = login(morgan).post(f"/supervision/patients/{alice.pk}/reassign/", {})
        assert response.status_code == 400
        assert "New supporter: Choose the new supporter." in response.content.decode()
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_is_for_those_who_may_change_a_care_team(
        self, login, sam, sasha, nia, tomasz, alice
    ):
        for outsider, status in ((sam, 403), (nia, 403), (tomasz, 404)):
            response = login(outsider).post(
                f"/supervision/patients/{alice.pk}/reassign/", {"supporter_id": sasha.pk}
            )
            assert response.status_code == status
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_is_not_found_outside_ones_teams(self, login, morgan, priya, bob):
        response = login(morgan).get(f"/supervision/patients/{bob.pk}/reassign/")
        assert response.status_code == 404
        response = login(bob).get(f"/supervision/patients/{bob.pk}/reassign/")
        assert response.status_code == 404


class TestReassignPatient:
    def test_it_moves_the_patient(self, login, morgan, sasha, alice, active):
        response = login(morgan).post(
            f"/api/v1/patients/{alice.pk}/reassign",
            {"supporter_id": sasha.pk},
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json() == {
            "patient_id": alice.pk,
            "supporter_id": sasha.pk,
            "supporter": "Sasha North",
        }
        assert Episode.objects.get(pk=active.pk).supporter == sasha

    def test_it_changes_nothing_when_retried(self, login, morgan, sasha, alice):
        client = login(morgan)
        for _ in range(2):
            response = client.post(
                f"/api/v1/patients/{alice.pk}/reassign",
                {"supporter_id": sasha.pk},
                content_type="application/json",
            )
            assert response.status_code == 200
        changes = AuditEntry.objects.filter(patient=alice, what="named supporter", action="update")
        assert changes.count() == 1

    def test_it_refuses_a_supporter_of_another_service_naming_the_field(
        self, login, morgan, oscar, sam, alice
    ):
        response = login(morgan).post(
            f"/api/v1/patients/{alice.pk}/reassign",
            {"supporter_id": oscar.pk},
            content_type="application/json",
        )
        assert response.status_code == 422
        fields = response.json()["error"]["fields"]
        assert list(fields) == ["supporter_id"]
        assert "Choose a supporter of North, Alice Patient" in fields["supporter_id"][0]
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_is_forbidden_to_a_supporter(self, login, sam, sasha, alice):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/reassign",
            {"supporter_id": sasha.pk},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_is_not_found_outside_ones_teams(self, login, morgan, priya, bob):
        response = login(morgan).post(
            f"/api/v1/patients/{bob.pk}/reassign",
            {"supporter_id": priya.pk},
            content_type="application/json",
        )
        assert response.status_code == 404

    def test_it_asks_to_sign_in(self, client, alice):
        response = client.post(
            f"/api/v1/patients/{alice.pk}/reassign", {}, content_type="application/json"
        )
        assert response.status_code == 401


# --- Deciding a patient's request --------------------------------------------------------------


def decide_url(change) -> str:
    return f"/supervision/requests/{change.pk}/decide/"


class TestDecidePage:
    def test_it_approves_a_request_by_moving_the_patient(self, login, morgan, sasha, alice, active):
        change = ask_for_change(alice)
        prefix = f"r{change.pk}"
        response = login(morgan).post(
            decide_url(change),
            {
                f"{prefix}-decision": "approve",
                f"{prefix}-supporter_id": sasha.pk,
                f"{prefix}-note": "Sasha works evenings too; moved.",
            },
        )
        assert response.status_code == 302
        change.refresh_from_db()
        assert change.status == ChangeStatus.DECIDED and change.new_supporter == sasha
        assert Patient.objects.get(pk=alice.pk).supporter == sasha
        assert Episode.objects.get(pk=active.pk).supporter == sasha

    def test_it_declines_a_request_with_a_note(self, login, morgan, sam, alice):
        change = ask_for_change(alice)
        prefix = f"r{change.pk}"
        login(morgan).post(
            decide_url(change),
            {f"{prefix}-decision": "decline", f"{prefix}-note": "Talked it through together."},
        )
        change.refresh_from_db()
        assert change.status == ChangeStatus.DECIDED and change.new_supporter is None
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_asks_for_a_note_and_changes_nothing(self, login, morgan, sam, sasha, alice):
        change = ask_for_change(alice)
        prefix = f"r{change.pk}"
        response = login(morgan).post(
            decide_url(change),
            {f"{prefix}-decision": "approve", f"{prefix}-supporter_id": sasha.pk},
        )
        assert response.status_code == 400
        assert "Write what you decided, for the record." in response.content.decode()
        change.refresh_from_db()
        assert change.status == ChangeStatus.OPEN
        assert Patient.objects.get(pk=alice.pk).supporter == sam

    def test_it_asks_for_the_new_supporter_when_approving(self, login, morgan, sam, alice):
        change = ask_for_change(alice)
        prefix = f"r{change.pk}"
        response = login(morgan).post(
            decide_url(change), {f"{prefix}-decision": "approve", f"{prefix}-note": "Yes"}
        )
        assert response.status_code == 400
        assert "Choose the new supporter, from the patient&#x27;s team" in (
            response.content.decode()
        )
        assert SupporterChangeRequest.objects.get(pk=change.pk).status == ChangeStatus.OPEN

    def test_it_is_not_found_for_a_request_outside_ones_teams(self, login, morgan, bob):
        change = ask_for_change(bob)
        response = login(morgan).post(decide_url(change), {})
        assert response.status_code == 404

    def test_it_is_for_supervisors(self, login, sam, alice):
        change = ask_for_change(alice)
        assert login(sam).post(decide_url(change), {}).status_code == 403
        assert SupporterChangeRequest.objects.get(pk=change.pk).status == ChangeStatus.OPEN


class TestDecideSupporterChange:
    def url(self, change) -> str:
        return f"/api/v1/supporter-change-requests/{change.pk}/decide"

    def test_it_approves(self, login, morgan, sasha, alice):
        change = ask_for_change(alice)
        response = login(morgan).post(
            self.url(change),
            {"decision": "approve", "supporter_id": sasha.pk, "note": "Moved to Sasha."},
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json()["status"] == "decided"
        assert response.json()["new_supporter_id"] == sasha.pk
        assert Patient.objects.get(pk=alice.pk).supporter == sasha

    def test_it_refuses_a_supporter_of_another_team_naming_the_field(
        self, login, morgan, priya, sam, alice
    ):
        change = ask_for_change(alice)
        response = login(morgan).post(
            self.url(change),
            {"decision": "approve", "supporter_id": priya.pk, "note": "Move"},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["supporter_id"]
        assert Patient.objects.get(pk=alice.pk).supporter == sam
        assert SupporterChangeRequest.objects.get(pk=change.pk).status == ChangeStatus.OPEN

    def test_it_refuses_an_unknown_decision(self, login, morgan, alice):
        change = ask_for_change(alice)
        response = login(morgan).post(
            self.url(change), {"decision": "maybe", "note": "?"}, content_type="application/json"
        )
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["decision"]

    def test_it_is_not_found_outside_ones_teams(self, login, morgan, bob):
        change = ask_for_change(bob)
        response = login(morgan).post(
            self.url(change), {"decision": "decline", "note": "No"}, content_type="application/json"
        )
        assert response.status_code == 404

    def test_it_is_forbidden_to_a_supporter(self, login, sam, alice):
        change = ask_for_change(alice)
        response = login(sam).post(
            self.url(change), {"decision": "decline", "note": "No"}, content_type="application/json"
        )
        assert response.status_code == 403


class TestGetSupervision:
    def test_it_answers_caseloads_time_and_requests(self, login, morgan, sam, alice, active):
        attended_contact(active, timezone.now() - timedelta(days=1), minutes=20)
        ask_for_change(alice)
        body = login(morgan).get("/api/v1/supervision").json()
        [load] = [s for s in body["supporters"] if s["supporter_id"] == sam.pk]
        assert load["patient_count"] == 1
        assert load["patients"][0] == {
            "patient_id": alice.pk,
            "name": "Alice Patient",
            "tier": "review_due",  # four weeks in, never reviewed
            "minutes_per_week": 5.0,
        }
        assert body["change_requests"][0]["patient_id"] == alice.pk

    def test_it_is_forbidden_to_others(self, login, sam, tomasz, alice):
        for outsider in (sam, tomasz, alice):
            assert login(outsider).get("/api/v1/supervision").status_code == 403

    def test_it_asks_to_sign_in(self, client, db):
        assert client.get("/api/v1/supervision").status_code == 401
