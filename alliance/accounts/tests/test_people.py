"""An administrator manages the accounts of their own service, and nothing else."""

from django.core import mail

from alliance.accounts.models import Patient, StaffProfile, User


class TestStaffAccountsPage:
    def test_it_adds_a_member_of_staff(self, login, ada, north):
        client = login(ada)
        response = client.post(
            "/staff/",
            {
                "full_name": "Nina New",
                "email": "Nina@Riverside.example",
                "role": "supporter",
                "teams": [north.pk],
            },
        )
        assert response.status_code == 302
        profile = StaffProfile.objects.get(user__email="nina@riverside.example")
        assert profile.role == "supporter"
        assert list(profile.teams.all()) == [north]
        assert not profile.user.has_usable_password()

    def test_it_refuses_a_malformed_email(self, login, ada):
        client = login(ada)
        before = User.objects.count()
        response = client.post(
            "/staff/", {"full_name": "Nina", "email": "nina@", "role": "supporter"}
        )
        assert response.status_code == 400
        assert "Enter a valid email address" in response.content.decode()
        assert User.objects.count() == before

    def test_it_refuses_an_address_already_in_use(self, login, ada, sam):
        client = login(ada)
        before = User.objects.count()
        response = client.post(
            "/staff/", {"full_name": "Sam Again", "email": sam.user.email, "role": "supervisor"}
        )
        assert response.status_code == 400
        assert "already exists" in response.content.decode()
        assert User.objects.count() == before

    def test_it_refuses_a_team_of_another_service(self, login, ada, hill_team):
        client = login(ada)
        response = client.post(
            "/staff/",
            {
                "full_name": "Nina",
                "email": "nina@x.example",
                "role": "supporter",
                "teams": [hill_team.pk],
            },
        )
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert not User.objects.filter(email="nina@x.example").exists()

    def test_it_is_refused_to_other_roles(self, login, ruth, sam):
        for persona in (ruth, sam):
            assert login(persona).get("/staff/").status_code == 403

    def test_it_deactivates_and_reactivates_staff(self, login, ada, sam):
        client = login(ada)
        client.post(f"/staff/{sam.pk}/active/", {"active": "0"})
        sam.user.refresh_from_db()
        assert not sam.user.is_active
        client.post(f"/staff/{sam.pk}/active/", {"active": "1"})
        sam.user.refresh_from_db()
        assert sam.user.is_active

    def test_it_answers_not_found_for_staff_of_another_service(self, login, ada, oscar):
        response = login(ada).post(f"/staff/{oscar.pk}/active/", {"active": "0"})
        assert response.status_code == 404
        oscar.user.refresh_from_db()
        assert oscar.user.is_active

    def test_it_does_not_let_an_administrator_lock_themselves_out(self, login, ada):
        login(ada).post(f"/staff/{ada.pk}/active/", {"active": "0"})
        ada.user.refresh_from_db()
        assert ada.user.is_active


class TestAddPatient:
    def test_it_adds_a_patient_and_sends_a_sign_in_link(
        self, login, ada, north, django_capture_on_commit_callbacks
    ):
        client = login(ada)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/patients/add/",
                {"full_name": "Dana New", "email": "dana@patients.example", "team": north.pk},
            )
        patient = Patient.objects.get(user__email="dana@patients.example")
        assert response["Location"] == f"/patients/{patient.pk}/"
        assert patient.team == north
        assert "/sign-in/link/" in mail.outbox[-1].body

    def test_it_refuses_a_duplicate_address(self, login, ada, north, alice):
        before = Patient.objects.count()
        response = login(ada).post(
            "/patients/add/",
            {"full_name": "Alice Two", "email": alice.user.email, "team": north.pk},
        )
        assert response.status_code == 400
        assert "already exists" in response.content.decode()
        assert Patient.objects.count() == before

    def test_it_is_refused_to_a_supporter(self, login, sam, north):
        response = login(sam).post(
            "/patients/add/", {"full_name": "X Y", "email": "xy@patients.example", "team": north.pk}
        )
        assert response.status_code == 403
        assert not User.objects.filter(email="xy@patients.example").exists()


class TestServiceSettings:
    def test_it_lets_an_administrator_set_the_crisis_information(self, login, ada, riverside):
        client = login(ada)
        assert "Samaritans" in client.get("/service/settings/").content.decode()
        client.post("/service/settings/", {"crisis_info": "Call our crisis line: 0800 123"})
        riverside.refresh_from_db()
        assert riverside.crisis_info == "Call our crisis line: 0800 123"

    def test_it_refuses_text_that_is_too_long(self, login, ada, riverside):
        response = login(ada).post("/service/settings/", {"crisis_info": "x" * 2001})
        assert "at most 2000 characters" in response.content.decode()
        riverside.refresh_from_db()
        assert riverside.crisis_info == ""

    def test_it_is_for_administrators(self, login, ruth, riverside):
        response = login(ruth).post("/service/settings/", {"crisis_info": "x"})
        assert response.status_code == 403
        riverside.refresh_from_db()
        assert riverside.crisis_info == ""
