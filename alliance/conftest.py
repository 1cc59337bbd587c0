"""Shared test personas, used by every app's tests.

Riverside has two teams. Alice is a patient of the North team; Sam supports her; Priya
supports the South team; Morgan supervises North; Ruth manages the service; Tomasz
researches; Ada administers. Oscar supports patients of another service (Hillside).
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import Patient, Role, Service, StaffProfile, Team, User

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def riverside(db):
    return Service.objects.create(name="Riverside", slug="riverside")


@pytest.fixture
def hillside(db):
    return Service.objects.create(name="Hillside", slug="hillside")


@pytest.fixture
def north(riverside):
    return Team.objects.create(service=riverside, name="North")


@pytest.fixture
def south(riverside):
    return Team.objects.create(service=riverside, name="South")


@pytest.fixture
def hill_team(hillside):
    return Team.objects.create(service=hillside, name="Hill")


def make_staff(service, role, name, teams=()):
    email = f"{name.split()[0].lower()}@{service.slug}.example"
    user = User.objects.create_user(email, PASSWORD, full_name=name)
    profile = StaffProfile.objects.create(user=user, service=service, role=role)
    profile.teams.set(teams)
    return profile


def make_patient(service, team, name, supporter=None):
    email = f"{name.split()[0].lower()}@patients.example"
    user = User.objects.create_user(email, PASSWORD, full_name=name)
    return Patient.objects.create(user=user, service=service, team=team, supporter=supporter)


@pytest.fixture
def sam(riverside, north):
    return make_staff(riverside, Role.SUPPORTER, "Sam Supporter", [north])


@pytest.fixture
def priya(riverside, south):
    return make_staff(riverside, Role.SUPPORTER, "Priya Other", [south])


@pytest.fixture
def morgan(riverside, north):
    return make_staff(riverside, Role.SUPERVISOR, "Morgan Supervisor", [north])


@pytest.fixture
def nia(riverside, north):
    return make_staff(riverside, Role.DIGITAL_NAVIGATOR, "Nia Navigator", [north])


@pytest.fixture
def ruth(riverside):
    return make_staff(riverside, Role.SERVICE_MANAGER, "Ruth Manager")


@pytest.fixture
def tomasz(riverside):
    return make_staff(riverside, Role.RESEARCHER, "Tomasz Researcher")


@pytest.fixture
def hana(riverside):
    return make_staff(riverside, Role.CONTENT_AUTHOR, "Hana Author")


@pytest.fixture
def ada(riverside):
    return make_staff(riverside, Role.ADMINISTRATOR, "Ada Admin")


@pytest.fixture
def oscar(hillside, hill_team):
    return make_staff(hillside, Role.SUPPORTER, "Oscar Outsider", [hill_team])


@pytest.fixture
def alice(riverside, north, sam):
    return make_patient(riverside, north, "Alice Patient", supporter=sam)


@pytest.fixture
def bob(riverside, south, priya):
    return make_patient(riverside, south, "Bob Southpatient", supporter=priya)


@pytest.fixture
def carol(hillside, hill_team, oscar):
    return make_patient(hillside, hill_team, "Carol Hillpatient", supporter=oscar)


def verified_client(client, user):
    """Sign ``user`` in; a member of staff also passes two-factor, as after the MFA page."""
    client.force_login(user)
    if user.is_care_staff:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login(client):
    """``login(user)`` returns the test client signed in as that person."""

    def sign_in(user):
        return verified_client(client, getattr(user, "user", user))

    return sign_in
