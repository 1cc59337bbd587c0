"""Shared test personas, used by every app's tests.

Riverside has two teams. Alice is a patient of the North team; Sam supports her; Priya
supports the South team; Morgan supervises North; Ruth manages the service; Tomasz
researches; Ada administers. Oscar supports patients of another service (Hillside).
"""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import Patient, Role, Service, StaffProfile, Team, User
from alliance.content.models import Module, Page, Programme

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


# --- A small programme and an add-on, made directly (the loader has its own tests) ---
def make_programme(key="depression", kind="programme", modules=None, version=1):
    programme = Programme.objects.create(
        key=key,
        version=version,
        title=key.title(),
        summary="S",
        kind=kind,
        problems=["depression"],
        care_models=["blended"],
        content_hash=f"{key}{version}",
    )
    specs = modules or [
        ("start", True, "after_previous", None, 3),
        ("active", True, "after_previous", None, 2),
        ("thoughts", False, "days_after_start", 14, 2),
        ("extra", False, "by_supporter", None, 1),
    ]
    for position, (mkey, mandatory, rule, days, pages) in enumerate(specs, start=1):
        module = Module.objects.create(
            programme=programme,
            key=mkey,
            position=position,
            title=f"Module {mkey}",
            mandatory=mandatory,
            unlock_rule=rule,
            unlock_days=days,
            minutes=15,
            guide={"ask": ["How was it?"]},
            homework=[f"Practise {mkey}"],
        )
        for n in range(1, pages + 1):
            exercises = ["thought_record"] if n == 1 else []
            slot = '<p class="exercise-slot" data-exercise="thought_record"></p>' if n == 1 else ""
            Page.objects.create(
                module=module,
                position=n,
                title=f"{mkey} page {n}",
                body_html=f"<p>Text of {mkey} {n}</p>{slot}",
                exercises=exercises,
            )
    return programme


@pytest.fixture
def programme(db):
    return make_programme()


@pytest.fixture
def addon(db):
    return make_programme(
        key="worry",
        kind="addon",
        modules=[
            ("worry-time", False, "by_supporter", None, 2),
            ("sleep", False, "by_supporter", None, 1),
        ],
    )


@pytest.fixture
def episode(alice, programme, sam):
    from alliance.care import services

    return services.episode_start(
        patient=alice, programme=programme, care_model="blended", supporter=sam, actor=sam.user
    )


def assignment(episode, key):
    return episode.assignments.select_related("module").get(module__key=key)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)")


def has_inline_script(page: str) -> bool:
    """True when a page carries a script without ``src`` (forbidden by the CSP)."""
    return bool(INLINE_SCRIPT.search(page))
