"""`alliance demo`: a demo service with two teams, every staff role and 30 patients.

Idempotent: running it again changes nothing that is there already. Refuses to run in
production, because every demo account shares one published password and MFA key.
"""

import base64

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import Patient, Role, Service, StaffProfile, Team, User

DEMO_PASSWORD = "alliance-demo-2026"
# The demo staff's shared authenticator key (base32), published in the README.
DEMO_TOTP_KEY_BASE32 = "MFTLVVFA455U2JRC76SGIEP6YQWCVCLQ"
DEMO_DOMAIN = "demo.example"

TEAMS = ["North team", "South team"]

STAFF = [
    (
        "supporter",
        "Sam Okafor",
        Role.SUPPORTER,
        ["North team"],
        "Psychological Wellbeing Practitioner",
    ),
    ("supporter2", "Priya Raman", Role.SUPPORTER, ["South team"], "Coach"),
    (
        "navigator",
        "Lee Chambers",
        Role.DIGITAL_NAVIGATOR,
        ["North team", "South team"],
        "Digital navigator",
    ),
    (
        "supervisor",
        "Morgan Ellis",
        Role.SUPERVISOR,
        ["North team", "South team"],
        "Clinical supervisor",
    ),
    ("manager", "Ruth Adeyemi", Role.SERVICE_MANAGER, [], "Service manager"),
    ("researcher", "Tomasz Nowak", Role.RESEARCHER, [], "Researcher"),
    ("author", "Hannah Price", Role.CONTENT_AUTHOR, [], "Content author"),
    ("admin", "Alex Byrne", Role.ADMINISTRATOR, [], "Administrator"),
]

PATIENT_NAMES = [
    "Amira Hassan",
    "Ben Carter",
    "Chloe Davies",
    "Daniel Osei",
    "Ella Jones",
    "Farah Khan",
    "George Wright",
    "Hollie Evans",
    "Isaac Turner",
    "Jasmine Patel",
    "Kieran Walsh",
    "Laura Green",
    "Mohammed Ali",
    "Nadia Kowalski",
    "Owen Hughes",
    "Poppy Lewis",
    "Qasim Rahman",
    "Rosie Bennett",
    "Sofia Martins",
    "Tyler Brooks",
    "Uma Shah",
    "Victor Mensah",
    "Wendy Clarke",
    "Xander Reid",
    "Yasmin Begum",
    "Zoe Fletcher",
    "Aaron Kelly",
    "Bethany Price",
    "Callum Ross",
    "Delia Stone",
]


def demo_key_hex() -> str:
    return base64.b32decode(DEMO_TOTP_KEY_BASE32 + "=" * (-len(DEMO_TOTP_KEY_BASE32) % 8)).hex()


def current_demo_code() -> str:
    totp = TOTP(bytes.fromhex(demo_key_hex()))
    return f"{totp.token():06d}"


class Command(BaseCommand):
    help = _("Create (or top up) the demo service, its staff and 30 patients.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--code",
            action="store_true",
            help=_("Print the demo staff's current two-factor code and stop."),
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                _("The demo data has a published password: it is refused in production.")
            )
        if options["code"]:
            self.stdout.write(current_demo_code())
            return
        created = self.create_demo()
        enrolled = self.enrol_patients()
        self.stdout.write(
            _("Demo data ready (%(n)d new accounts, %(e)d patients newly enrolled).")
            % {"n": created, "e": enrolled}
        )

    def enrol_patients(self) -> int:
        """Programmes, episodes with progress, and score histories (other apps' demo data)."""
        from alliance.care import demo as care_demo
        from alliance.measures import demo as measures_demo

        for service in Service.objects.filter(slug="riverside"):
            measures_demo.record_licences(service)
        from alliance.checkins import demo as checkins_demo

        enrolled = care_demo.populate()
        measures_demo.populate()
        checkins_demo.populate()
        from alliance.messaging import demo as messaging_demo

        messaging_demo.populate()
        from alliance.research import demo as research_demo

        research_demo.populate()
        from alliance.insights import demo as insights_demo
        from alliance.insights import demo_support

        demo_support.populate()
        insights_demo.populate()
        from alliance.notify import demo as notify_demo

        notify_demo.populate()
        return enrolled

    @transaction.atomic
    def create_demo(self) -> int:
        service, _created = Service.objects.get_or_create(
            slug="riverside", defaults={"name": "Riverside Talking Therapies"}
        )
        teams = {name: Team.objects.get_or_create(service=service, name=name)[0] for name in TEAMS}
        created = 0
        supporters = []
        for local, name, role, team_names, title in STAFF:
            profile, was_new = self.staff(service, local, name, role, title)
            created += was_new
            if was_new:
                profile.teams.set([teams[t] for t in team_names])
            if role == Role.SUPPORTER:
                supporters.append((profile, teams[team_names[0]]))
        for index, name in enumerate(PATIENT_NAMES):
            supporter, team = supporters[index % len(supporters)]
            created += self.patient(service, team, supporter, index + 1, name)
        return created

    def staff(self, service, local, name, role, title) -> tuple[StaffProfile, bool]:
        email = f"{local}@{DEMO_DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is not None:
            return user.staff_profile, False
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
        profile = StaffProfile.objects.create(
            user=user, service=service, role=role, job_title=title
        )
        TOTPDevice.objects.create(
            user=user, name="demo authenticator", key=demo_key_hex(), confirmed=True
        )
        return profile, True

    def patient(self, service, team, supporter, number, name) -> int:
        email = f"patient{number:02d}@{DEMO_DOMAIN}"
        if User.objects.filter(email=email).exists():
            return 0
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name=name, preferred_name=name.split()[0]
        )
        Patient.objects.create(user=user, service=service, team=team, supporter=supporter)
        return 1
