"""The access policy as a matrix: every role against own, same-team, other-team and
other-service patients, through the policy, the page and the API."""

import pytest
from django.http import Http404

from alliance.accounts import policy

# Who may see which patient. alice: North (sam's team); bob: South; carol: Hillside.
MATRIX = [
    # persona, sees alice (same team), sees bob (other team), sees carol (other service)
    ("sam", True, False, False),
    ("nia", True, False, False),
    ("morgan", True, False, False),
    ("ruth", True, True, False),
    ("ada", True, True, False),
    ("tomasz", False, False, False),
    ("hana", False, False, False),
    ("oscar", False, False, True),
]


@pytest.fixture
def everyone(request, alice, bob, carol, sam, priya, nia, morgan, ruth, ada, tomasz, hana, oscar):
    return locals()


class TestPatientsVisibleTo:
    @pytest.mark.parametrize("persona, sees_alice, sees_bob, sees_carol", MATRIX)
    def test_it_follows_the_matrix(self, everyone, persona, sees_alice, sees_bob, sees_carol):
        user = everyone[persona].user
        visible = set(policy.patients_visible_to(user))
        assert (everyone["alice"] in visible) is sees_alice
        assert (everyone["bob"] in visible) is sees_bob
        assert (everyone["carol"] in visible) is sees_carol

    def test_it_shows_a_patient_only_their_own_record(self, everyone):
        visible = list(policy.patients_visible_to(everyone["alice"].user))
        assert visible == [everyone["alice"]]

    def test_it_shows_nothing_to_a_deactivated_supporter(self, everyone):
        sam = everyone["sam"].user
        sam.is_active = False
        sam.save()
        assert not policy.patients_visible_to(sam).exists()

    def test_it_shows_a_supporter_of_two_teams_both(self, everyone, north, south):
        everyone["sam"].teams.set([north, south])
        visible = set(policy.patients_visible_to(everyone["sam"].user))
        assert visible == {everyone["alice"], everyone["bob"]}


class TestAccessPatient:
    def test_it_answers_not_found_for_a_foreign_patient(self, everyone):
        with pytest.raises(Http404):
            policy.access_patient(everyone["sam"].user, everyone["bob"].pk, what="test")

    def test_it_answers_not_found_for_a_missing_patient(self, everyone):
        with pytest.raises(Http404):
            policy.access_patient(everyone["sam"].user, 999999, what="test")

    def test_it_lets_a_patient_open_only_themselves(self, everyone):
        alice = everyone["alice"]
        assert policy.access_patient(alice.user, alice.pk, what="test") == alice
        with pytest.raises(Http404):
            policy.access_patient(alice.user, everyone["bob"].pk, what="test")


class TestPatientPage:
    @pytest.mark.parametrize("persona, sees_alice, sees_bob, sees_carol", MATRIX)
    def test_it_follows_the_matrix(
        self, everyone, login, persona, sees_alice, sees_bob, sees_carol
    ):
        client = login(everyone[persona])
        for patient, allowed in (("alice", sees_alice), ("bob", sees_bob), ("carol", sees_carol)):
            response = client.get(f"/patients/{everyone[patient].pk}/")
            if allowed:
                assert response.status_code == 200
                assert everyone[patient].user.full_name in response.content.decode()
            else:
                # Researchers and authors are refused the page; others get "not found".
                assert response.status_code in (403, 404)
                assert everyone[patient].user.full_name not in response.content.decode()

    def test_it_refuses_staff_pages_to_a_patient(self, everyone, login):
        client = login(everyone["alice"])
        response = client.get(f"/patients/{everyone['alice'].pk}/")
        assert response.status_code == 403

    def test_it_lists_only_visible_patients(self, everyone, login):
        page = login(everyone["sam"]).get("/patients/").content.decode()
        assert "Alice Patient" in page
        assert "Bob Southpatient" not in page
        assert "Carol Hillpatient" not in page

    def test_it_lists_in_a_constant_number_of_queries(
        self, everyone, login, django_assert_max_num_queries, north, sam
    ):
        from alliance.conftest import make_patient

        client = login(everyone["sam"])
        client.get("/patients/")
        for n in range(10):
            make_patient(everyone["alice"].service, north, f"Extra{n} Patient", supporter=sam)
        with django_assert_max_num_queries(12):
            response = client.get("/patients/")
        assert response.content.decode().count("Patient</a>") >= 11


class TestPatientApi:
    @pytest.mark.parametrize("persona, sees_alice, sees_bob, sees_carol", MATRIX)
    def test_it_follows_the_matrix(
        self, everyone, login, persona, sees_alice, sees_bob, sees_carol
    ):
        client = login(everyone[persona])
        listed = {p["id"] for p in client.get("/api/v1/patients").json()}
        for patient, allowed in (("alice", sees_alice), ("bob", sees_bob), ("carol", sees_carol)):
            patient_id = everyone[patient].pk
            assert (patient_id in listed) is allowed
            response = client.get(f"/api/v1/patients/{patient_id}")
            assert response.status_code == (200 if allowed else 404)
            if not allowed:
                assert response.json() == {
                    "error": {"code": "not_found", "message": "Not found.", "fields": {}}
                }


class TestChangeSupporterPage:
    def test_it_lets_a_supervisor_change_the_supporter(self, everyone, login, north):
        from alliance.conftest import make_staff

        second = make_staff(everyone["alice"].service, "supporter", "Second Supporter", [north])
        client = login(everyone["morgan"])
        response = client.post(f"/patients/{everyone['alice'].pk}/", {"supporter": second.pk})
        assert response.status_code == 302
        everyone["alice"].refresh_from_db()
        assert everyone["alice"].supporter == second

    def test_it_refuses_a_supporter_of_another_team(self, everyone, login):
        client = login(everyone["morgan"])
        response = client.post(
            f"/patients/{everyone['alice'].pk}/", {"supporter": everyone["priya"].pk}
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        everyone["alice"].refresh_from_db()
        assert everyone["alice"].supporter == everyone["sam"]

    def test_it_refuses_a_supporter_the_change(self, everyone, login):
        client = login(everyone["sam"])
        response = client.post(f"/patients/{everyone['alice'].pk}/", {"supporter": ""})
        assert response.status_code == 403
        everyone["alice"].refresh_from_db()
        assert everyone["alice"].supporter == everyone["sam"]
