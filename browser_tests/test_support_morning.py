"""A supporter's morning in a real Chromium: triage the caseload, review two patients,
answer a message, read a pre-session brief and record the session.

The real programmes of ``programs/`` are loaded. After every page ``check_page`` saves a
screenshot and asserts no request left the live server, no browser error, and no serious or
critical axe-core violation. The caseload and the brief are checked on a 390-pixel phone too.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from alliance.care.models import Contact, ContactStatus, Episode, Homework, Review
from alliance.care.services import episode_start
from alliance.checkins.models import ExerciseEntry
from alliance.conftest import make_patient
from alliance.insights.models import AlertKind
from alliance.insights.services import alert_raise
from alliance.messaging.models import Thread
from alliance.messaging.selectors import thread_for
from alliance.messaging.services import message_send
from browser_tests.test_care_walkthrough import sign_in_staff

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def support_pages(settings):
    """The support pages, mounted for the run when the project does not mount them yet."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("support:caseload")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "alliance.insights.tests.test_caseload"


@pytest.fixture
def morning(riverside, north, sam, alice, programmes):
    """Sam's caseload: Alice (a risk alert, a thought record, a session this morning),
    Ben (a message waiting six days) and Cara (nothing urgent)."""
    now = timezone.now()
    ben = make_patient(riverside, north, "Ben Carter", supporter=sam)
    cara = make_patient(riverside, north, "Cara Quiet", supporter=sam)
    episodes = {}
    for patient, model, days in ((alice, "blended", 21), (ben, "guided_self_help", 10)):
        episodes[patient] = episode_start(
            patient=patient,
            programme=programmes["blended-depression"],
            care_model=model,
            supporter=sam,
            actor=sam.user,
            started_at=now - timedelta(days=days),
        )
    episode_start(
        patient=cara,
        programme=programmes["blended-depression"],
        care_model="blended",
        supporter=sam,
        actor=sam.user,
        started_at=now - timedelta(days=2),
    )
    alice_episode = episodes[alice]
    Contact.objects.create(
        episode=alice_episode,
        supporter=sam,
        kind="face_to_face",
        scheduled_at=now - timedelta(days=7),
        status=ContactStatus.ATTENDED,
        minutes_spent=50,
    )
    session = Contact.objects.create(
        episode=alice_episode,
        supporter=sam,
        kind="face_to_face",
        scheduled_at=now - timedelta(minutes=70),
        duration_minutes=50,
    )
    ExerciseEntry.objects.create(
        patient=alice,
        kind="thought_record",
        data={
            "situation": "My manager asked to see me",
            "emotions": [{"emotion": "Anxious", "intensity": 80}],
            "automatic_thought": "I am going to lose my job",
            "balanced_thought": "She may want to plan the next project",
        },
    )
    alert_raise(
        patient=alice,
        kind=AlertKind.RISK,
        cause="browser:1",
        summary="PHQ-9 item 9 answered “several days”",
    )
    message_send(
        thread=thread_for(ben),
        author=ben.user,
        body="Is it normal to feel worse before feeling better?",
        now=now - timedelta(days=6),
    )
    return {"ben": ben, "cara": cara, "session": session, "alice_episode": alice_episode}


def caseload_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def open_from_caseload(page: Page, page_name: str, patient_name: str) -> None:
    page.goto("/caseload/")
    page.get_by_role("link", name=f"{page_name}: {patient_name}").click()


def review(page: Page, check_page, patient_name: str, label: str) -> None:
    open_from_caseload(page, "Review", patient_name)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review of {patient_name}")
    check_page(f"review-{label}")
    page.get_by_label("Feedback to the patient").fill(
        "You have kept going through a hard few weeks, and that matters. "
        "What did you notice about yourself this week?"
    )
    page.get_by_label("Next steps").fill("Try one thought record before we next speak.")
    page.get_by_role("button", name="Mark review done").click()
    expect(page.get_by_role("status")).to_be_visible()
    check_page(f"review-{label}-done")


class TestSupportMorning:
    def test_a_supporter_works_a_morning(
        self, page: Page, check_page, live_server, sam, alice, morning
    ):
        ben, session = morning["ben"], morning["session"]
        sign_in_staff(page, check_page, live_server, sam)

        # Triage: the risk alert first, then the reply that is overdue.
        page.goto("/caseload/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
        names = page.locator("a.patient-name")
        expect(names).to_have_text(["Alice Patient", "Ben Carter", "Cara Quiet"])
        expect(caseload_row(page, "Alice Patient")).to_contain_text("Risk alert")
        expect(caseload_row(page, "Ben Carter")).to_contain_text("Reply overdue")
        check_page("caseload")
        page.get_by_label("Show").select_option(label="Needs attention")
        page.get_by_role("button", name="Show").click()
        expect(names).to_have_text(["Alice Patient", "Ben Carter"])
        check_page("caseload-filtered")
        page.set_viewport_size(PHONE)
        page.goto("/caseload/")
        check_page("caseload-phone")
        page.set_viewport_size(DESKTOP)

        # Two reviews: both patients are due under the service's schedule.
        review(page, check_page, "Alice Patient", "alice")
        review(page, check_page, "Ben Carter", "ben")
        assert Review.objects.filter(completed_at__isnull=False).count() == 2

        # Answer Ben's message.
        open_from_caseload(page, "Messages", "Ben Carter")
        expect(page.get_by_text("Is it normal to feel worse")).to_be_visible()
        check_page("messages-ben")
        page.get_by_label("Your reply").fill(
            "Yes, that is common, Ben, and it often passes. Let's talk it through on Thursday."
        )
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Let's talk it through on Thursday")).to_be_visible()
        check_page("messages-ben-sent")
        assert Thread.objects.get(patient=ben).awaiting_reply_since is None
        page.goto("/caseload/")
        expect(caseload_row(page, "Ben Carter")).not_to_contain_text("Reply overdue")

        # Read Alice's brief before her session.
        open_from_caseload(page, "Brief", "Alice Patient")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Pre-session brief: Alice Patient"
        )
        agenda = page.get_by_role("region", name="Suggested agenda")
        expect(agenda.get_by_role("listitem").first).to_have_text(
            "Check safety first: a risk alert is open."
        )
        expect(agenda).to_contain_text("Go through the thought record about “My manager asked")
        expect(page.get_by_role("region", name="Latest exercises")).to_contain_text(
            "She may want to plan the next project"
        )
        expect(page.get_by_role("button", name="Print this brief")).to_be_visible()
        check_page("brief")
        page.set_viewport_size(PHONE)
        check_page("brief-phone")
        page.set_viewport_size(DESKTOP)
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        page.emulate_media(media="screen")

        # Record the session: attended, with notes, time and homework.
        page.get_by_role("link", name="Contacts", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
        check_page("contacts")
        page.get_by_role("link", name=re.compile("^Record the outcome")).click()
        check_page("contact-outcome")
        page.get_by_label("Attended").check()
        page.get_by_label("Contact notes").fill(
            "Talked through safety: no plans, crisis numbers agreed. Went through the "
            "thought record; she found the balanced thought on her own."
        )
        page.get_by_label("Minutes spent").fill("50")
        page.get_by_label("Homework set in the session").fill("One thought record a day")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_be_visible()
        check_page("contact-recorded")
        session.refresh_from_db()
        assert session.status == ContactStatus.ATTENDED and session.minutes_spent == 50
        assert Homework.objects.filter(episode=morning["alice_episode"], contact=session).exists()

        # After the session the brief counts from it.
        open_from_caseload(page, "Brief", "Alice Patient")
        today = timezone.localtime(session.scheduled_at).strftime("%a %-d %b %Y")
        expect(page.locator(".brief-meta")).to_contain_text(
            f"Since the last contact (face-to-face, {today})."
        )
        assert Episode.objects.get(pk=morning["alice_episode"].pk).supporter == sam


@pytest.fixture
def morgan(riverside, north):
    """The North team's supervisor, with an authenticator set up."""
    from alliance.accounts.models import Role
    from alliance.conftest import make_staff
    from browser_tests.conftest import with_authenticator

    return with_authenticator(make_staff(riverside, Role.SUPERVISOR, "Morgan Supervisor", [north]))


class TestSupervision:
    def test_a_supervisor_decides_a_request_and_moves_a_patient(
        self, page: Page, check_page, live_server, riverside, north, sam, alice, morgan, morning
    ):
        from alliance.accounts.models import Patient, Role
        from alliance.conftest import make_staff
        from alliance.messaging.services import supporter_change_request

        sasha = make_staff(riverside, Role.SUPPORTER, "Sasha North", [north])
        supporter_change_request(
            patient=morning["ben"], actor=morning["ben"].user, reason="I work nights"
        )
        sign_in_staff(page, check_page, live_server, morgan)
        page.goto("/supervision/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Supervision")
        check_page("supervision")

        requests = page.get_by_role("region", name="Requests for a different supporter")
        requests.get_by_role("button", name="Decide").click()
        expect(page.get_by_role("alert")).to_contain_text("Write what you decided")
        check_page("supervision-decision-errors")
        requests = page.get_by_role("region", name="Requests for a different supporter")
        requests.get_by_label("Approve: move them to another supporter").check()
        requests.get_by_label("New supporter (when you approve)").select_option(label="Sasha North")
        requests.get_by_label("Note of what you decided").fill("Sasha works evenings too.")
        requests.get_by_role("button", name="Decide").click()
        expect(page.get_by_role("status")).to_contain_text("is decided")
        assert Patient.objects.get(pk=morning["ben"].pk).supporter == sasha

        page.get_by_role("link", name="Move Cara Quiet to another supporter").click()
        check_page("reassign")
        page.get_by_label("New supporter").select_option(label="Sasha North")
        page.get_by_role("button", name="Move").click()
        expect(page.get_by_role("status")).to_contain_text("Cara Quiet's supporter is now")
        assert Patient.objects.get(pk=morning["cara"].pk).supporter == sasha
        page.set_viewport_size(PHONE)
        check_page("supervision-phone")
