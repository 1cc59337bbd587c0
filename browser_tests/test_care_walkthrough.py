"""Walkthroughs of care in a real Chromium: a patient's week, module and exercise; the
supporter's plan; a questionnaire with a risk answer and its alert; the content preview.

The real programmes of ``programs/`` are loaded, so the pages show what patients will
read. After every page ``check_page`` saves a screenshot and asserts no request left the
live server, no browser error, and no serious or critical axe-core violation.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from alliance.care.models import ModuleAssignment
from alliance.checkins.models import ExerciseEntry
from alliance.insights.models import Alert, AlertState
from alliance.measures.models import QuestionnaireRequest, RequestStatus
from alliance.measures.services import questionnaire_send, response_submit
from browser_tests.test_walkthrough import nav, pass_mfa, sign_in

pytestmark = pytest.mark.browser


def sign_in_staff(page: Page, check_page, live_server, profile) -> None:
    sign_in(page, check_page, profile.user.email)
    pass_mfa(page, check_page, live_server, profile.user.totpdevice_set.get().bin_key)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {profile.user.full_name}")


def open_patient(page: Page, check_page, live_server, patient, link: str) -> None:
    """From the staff home: Patients, the patient's record, then one of its care links."""
    nav(page, "Patients").click()
    page.get_by_role("table", name="Patients you can see").get_by_role(
        "link", name=patient.user.full_name
    ).click()
    expect(page).to_have_url(f"{live_server.url}/patients/{patient.pk}/")
    check_page("patient-record")
    page.get_by_role("region", name="Care").get_by_role("link", name=link).click()


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def status(page: Page) -> Locator:
    return page.get_by_role("status")


def module_url(live_server, assignment: ModuleAssignment, page_number: int) -> str:
    return f"{live_server.url}/my/modules/{assignment.pk}/{page_number}/"


def plan_row(page: Page, title: str) -> Locator:
    """A module's card on the plan page, found by its heading."""
    title_heading = page.get_by_role("heading", level=3, name=re.compile(f"^{re.escape(title)}"))
    return page.get_by_role("listitem").filter(has=title_heading)


def assignment(episode, key: str) -> ModuleAssignment:
    return episode.assignments.select_related("module").get(module__key=key)


class TestPatientWeekAndModule:
    def test_it_works_through_a_module_with_its_exercise(
        self, page: Page, check_page, live_server, alice, depression_episode
    ):
        # Alice finished the first module last week; "Getting active again" is next.
        first = assignment(depression_episode, "understanding-depression")
        first.completed_at = first.started_at = timezone.now() - timedelta(days=7)
        first.pages_done = 5
        first.save()
        active = assignment(depression_episode, "getting-active")

        sign_in(page, check_page, alice.user.email)
        expect(page).to_have_url(f"{live_server.url}/my/")
        expect(heading(page)).to_have_text("Hello, Alice Patient")
        to_do = page.get_by_role("region", name="What to do now")
        expect(to_do).to_contain_text("Getting active again")
        expect(page.get_by_role("region", name="Your progress")).to_contain_text(
            "1 of 5 modules finished"
        )
        check_page("week")

        to_do.get_by_role("link", name="Start").click()
        expect(page).to_have_url(module_url(live_server, active, 1))
        expect(page.get_by_text("Page 1 of 5")).to_be_visible()
        expect(heading(page)).to_have_text("Why doing comes first")
        check_page("module-page-1")

        for number, title in ((2, "Noticing what you do"), (3, "What matters to you")):
            page.get_by_role("button", name="Next page").click()
            expect(page).to_have_url(module_url(live_server, active, number))
            expect(heading(page)).to_have_text(title)
        page.get_by_role("button", name="Next page").click()
        expect(page).to_have_url(module_url(live_server, active, 4))
        expect(heading(page)).to_have_text("Planning your week")
        check_page("module-page-4-exercise")

        # The exercise embedded in the page: the form, then back to the same page.
        page.get_by_role("link", name="Open the Activity plan").click()
        expect(page).to_have_url(
            re.compile(r"/exercises/new/activity_plan/\?next=.*getting-active")
        )
        expect(heading(page)).to_have_text("Activity plan")
        check_page("activity-plan-form")

        page.get_by_role("button", name="Save").click()
        summary = page.get_by_role("alert")
        expect(summary.get_by_role("heading")).to_have_text("There is a problem")
        expect(summary.get_by_role("link", name=re.compile("^Activity: "))).to_be_visible()
        expect(summary.get_by_role("link", name=re.compile("^Day and time: "))).to_be_visible()
        check_page("activity-plan-errors")
        assert not ExerciseEntry.objects.exists()

        planned = (timezone.localdate() + timedelta(days=2)).isoformat() + "T10:30"
        page.get_by_label("Activity", exact=True).fill("Walk to the park after breakfast")
        page.get_by_label("Day and time").fill(planned)
        expect(
            page.get_by_role("group", name=re.compile("^Did you do it")).get_by_label("Not yet")
        ).to_be_checked()
        page.get_by_label("Notes").fill("Take the long way round if it is sunny.")
        page.get_by_role("button", name="Save").click()

        expect(page).to_have_url(module_url(live_server, active, 4))
        expect(status(page)).to_contain_text("Your entry was saved.")
        expect(heading(page)).to_have_text("Planning your week")
        check_page("module-page-4-after-exercise")
        entry = ExerciseEntry.objects.get()
        assert (entry.patient, entry.kind, entry.module_key) == (
            alice,
            "activity_plan",
            "getting-active",
        )
        assert entry.data["activity"] == "Walk to the park after breakfast"
        assert "done" not in entry.data

        page.get_by_role("button", name="Next page").click()
        expect(page).to_have_url(module_url(live_server, active, 5))
        expect(heading(page)).to_have_text("When it's hard to get going")
        check_page("module-page-5-last")
        page.get_by_role("button", name="Finish this module").click()

        expect(page).to_have_url(f"{live_server.url}/my/")
        expect(status(page)).to_contain_text("Well done: you finished “Getting active again”.")
        progress = page.get_by_role("region", name="Your progress")
        expect(progress).to_contain_text("2 of 5 modules finished")
        expect(
            progress.get_by_role("listitem").filter(has_text="Getting active again")
        ).to_contain_text("Finished")
        homework = page.get_by_role("region", name="Your homework")
        expect(homework).to_contain_text("Plan three to five small activities for this week")
        expect(homework).to_contain_text("After each planned activity, rate your mood")
        expect(page.get_by_role("region", name="What to do now")).to_contain_text(
            "You are up to date"
        )
        check_page("week-after-module")
        active.refresh_from_db()
        assert active.completed_at is not None
        assert active.pages_done == 5


class TestSupporterPlan:
    def test_it_unlocks_waives_with_a_reason_and_adds_an_add_on(
        self, page: Page, check_page, live_server, sam, alice, depression_episode
    ):
        sign_in_staff(page, check_page, live_server, sam)
        open_patient(page, check_page, live_server, alice, "Programme and plan")
        expect(page).to_have_url(f"{live_server.url}/patients/{alice.pk}/plan/")
        expect(heading(page)).to_have_text("Programme and plan")
        expect(page.get_by_role("main")).to_contain_text("Blended CBT for depression")
        check_page("plan")

        # Unlock the module only the supporter opens.
        solving = plan_row(page, "Solving problems step by step")
        expect(solving).to_contain_text("Locked · you unlock it")
        solving.get_by_role("button", name="Unlock now Solving problems step by step").click()
        expect(status(page)).to_contain_text("The plan was updated.")
        expect(plan_row(page, "Solving problems step by step")).to_contain_text(
            "Open · 0 of 4 pages"
        )
        check_page("plan-unlocked")
        assert assignment(depression_episode, "problem-solving").unlocked_at is not None

        # Waive a mandatory module: first without a reason, which is refused.
        thoughts = plan_row(page, "Unhelpful thoughts")
        expect(thoughts).to_contain_text("Locked · opens")
        thoughts.get_by_role("button", name="Waive").click()
        summary = page.get_by_role("alert")
        expect(summary.get_by_role("heading")).to_have_text("There is a problem")
        expect(summary).to_contain_text(
            "Write why this mandatory module is not right for the patient."
        )
        expect(plan_row(page, "Unhelpful thoughts")).to_contain_text("Locked · opens")
        check_page("plan-waive-error")
        assert assignment(depression_episode, "unhelpful-thoughts").waived_at is None

        reason = "We work on thoughts in the sessions instead."
        thoughts = plan_row(page, "Unhelpful thoughts")
        thoughts.get_by_label("Reason to waive “Unhelpful thoughts”").fill(reason)
        thoughts.get_by_role("button", name="Waive").click()
        expect(page).to_have_url(f"{live_server.url}/patients/{alice.pk}/plan/")
        expect(status(page)).to_contain_text("The plan was updated.")
        expect(plan_row(page, "Unhelpful thoughts")).to_contain_text(f"Waived: {reason}")
        expect(page.get_by_role("alert")).to_have_count(0)
        check_page("plan-waived")
        waived = assignment(depression_episode, "unhelpful-thoughts")
        assert waived.waived_at is not None
        assert waived.waive_reason == reason

        # Add an add-on module from the anxiety and worry programme.
        addons = page.get_by_role("region", name="Add an add-on module")
        addons.get_by_label("Add-on module").select_option(
            label="Anxiety and worry: Worry and uncertainty"
        )
        addons.get_by_role("button", name="Add and unlock").click()
        expect(status(page)).to_contain_text("The module was added to the plan and unlocked.")
        added = plan_row(page, "Worry and uncertainty")
        expect(added).to_contain_text("add-on")
        expect(added).to_contain_text("Open · 0 of")
        check_page("plan-add-on")
        extra = assignment(depression_episode, "worry-and-uncertainty")
        assert extra.is_addon
        assert extra.unlocked_at is not None
        assert extra.position == 6


class TestQuestionnaireWithRisk:
    def test_the_patient_answers_item_9_and_the_supporter_acknowledges_the_alert(
        self, page: Page, check_page, live_server, sam, alice, depression_episode
    ):
        sent = questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)

        sign_in(page, check_page, alice.user.email)
        due = page.get_by_role("region", name="Questionnaires to fill in")
        expect(due).to_be_visible()
        check_page("week-questionnaire-due")
        due.get_by_role("link", name="Patient Health Questionnaire-9").click()
        expect(page).to_have_url(f"{live_server.url}/my/questionnaires/{sent.pk}/")
        expect(heading(page)).to_have_text("Patient Health Questionnaire-9")
        check_page("phq9")

        first_answers = {1: "Several days", 2: "More than half the days", 3: "Several days"}
        for number, answer in first_answers.items():
            question(page, number).get_by_role("radio", name=answer).check()
        page.get_by_role("button", name="Save and finish later").click()

        expect(page).to_have_url(f"{live_server.url}/my/")
        expect(status(page)).to_contain_text("Your answers are saved. You can finish later.")
        due = page.get_by_role("region", name="Questionnaires to fill in")
        expect(due).to_contain_text("started — carry on")
        check_page("week-questionnaire-started")
        sent.refresh_from_db()
        assert sent.status == RequestStatus.IN_PROGRESS
        assert not Alert.objects.exists()

        due.get_by_role("link", name="Patient Health Questionnaire-9").click()
        for number, answer in first_answers.items():
            expect(question(page, number).get_by_role("radio", name=answer)).to_be_checked()
        expect(question(page, 4).get_by_role("radio", checked=True)).to_have_count(0)
        check_page("phq9-resumed")
        rest = {
            4: "Nearly every day",
            5: "Not at all",
            6: "Several days",
            7: "Several days",
            8: "Not at all",
            9: "Several days",
        }
        for number, answer in rest.items():
            question(page, number).get_by_role("radio", name=answer).check()
        page.get_by_role("group", name=re.compile("^If you checked off any problems")).get_by_role(
            "radio", name="Somewhat difficult"
        ).check()
        page.get_by_role("button", name="Send my answers").click()

        # The crisis information comes first, at once.
        expect(page).to_have_url(f"{live_server.url}/my/questionnaires/{sent.pk}/done/")
        crisis = page.get_by_role("alert")
        expect(crisis.get_by_role("heading")).to_have_text("Please look after yourself now")
        expect(crisis).to_contain_text("Samaritans")
        expect(crisis).to_contain_text("999")
        expect(page.get_by_role("main")).to_contain_text("Your score: 10")
        check_page("phq9-done-crisis")
        alert = Alert.objects.get()
        assert (alert.patient, alert.kind, alert.state) == (alice, "risk", AlertState.OPEN)

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{live_server.url}/sign-in/")

        sign_in_staff(page, check_page, live_server, sam)
        open_patient(page, check_page, live_server, alice, "Scores, outcomes and alerts")
        expect(page).to_have_url(f"{live_server.url}/patients/{alice.pk}/scores/")
        expect(heading(page)).to_have_text("Scores and outcomes")
        alerts = page.get_by_role("region", name="Open alerts")
        expect(alerts).to_contain_text("PHQ-9 risk item 9 answered positively (total 10).")
        chart = page.get_by_role("region", name="PHQ-9")
        expect(chart.locator("svg")).to_be_visible()
        expect(chart).to_contain_text("Latest: 10")
        check_page("scores-open-alert")

        note = "Phoned Alice the same day; agreed a safety plan; told the duty clinician."
        alerts.get_by_label("What you did").fill(note)
        alerts.get_by_role("button", name="Acknowledge").click()
        expect(page).to_have_url(f"{live_server.url}/patients/{alice.pk}/scores/")
        expect(status(page)).to_contain_text("The alert is acknowledged and your note is kept.")
        expect(page.get_by_role("region", name="Open alerts")).to_have_count(0)
        expect(page.get_by_role("region", name="PHQ-9")).to_be_visible()
        check_page("scores-acknowledged")
        alert.refresh_from_db()
        assert alert.state == AlertState.ACKNOWLEDGED
        assert alert.action_note == note
        assert alert.acknowledged_by == sam.user
        assert QuestionnaireRequest.objects.get(pk=sent.pk).status == RequestStatus.COMPLETED


def question(page: Page, number: int) -> Locator:
    """A questionnaire item's radio group, by its number (its legend starts "9. ...")."""
    return page.get_by_role("group", name=re.compile(rf"^{number}\. "))


class TestContentAuthor:
    def test_it_previews_the_programmes(
        self, page: Page, check_page, live_server, hana, programmes
    ):
        sign_in_staff(page, check_page, live_server, hana)
        expect(nav(page, "Patients")).to_have_count(0)
        check_page("author-home")

        nav(page, "Programmes").click()
        expect(page).to_have_url(f"{live_server.url}/content/")
        expect(heading(page)).to_have_text("Programmes")
        table = page.get_by_role("table", name="Loaded programmes")
        for title in ("Anxiety and worry", "Blended CBT for depression", "Postpartum mood"):
            expect(table.get_by_role("link", name=title)).to_be_visible()
        check_page("programmes")

        table.get_by_role("link", name="Postpartum mood").click()
        programme = programmes["postpartum-mood"]
        expect(page).to_have_url(f"{live_server.url}/content/programmes/{programme.pk}/")
        expect(heading(page)).to_have_text("Postpartum mood")
        modules = page.get_by_role("navigation", name="6 modules")
        expect(modules.get_by_role("link")).to_have_count(6)
        modules.get_by_role("link", name="Managing negative thoughts").click()
        section = page.get_by_role("region", name="Module 4: Managing negative thoughts")
        expect(section).to_be_in_viewport()
        expect(
            section.get_by_role("complementary", name="Exercise: Thought record")
        ).to_be_visible()
        check_page("programme-preview")


class TestErrorSummariesLeadToTheField:
    """An error summary must say which answer is wrong and link to it (WCAG 3.3.1, and the
    pattern of every other form here): following the link puts the focus in the box."""

    def test_a_waive_without_a_reason_names_the_module_and_links_to_its_reason(
        self, page: Page, check_page, live_server, sam, alice, depression_episode
    ):
        thoughts = assignment(depression_episode, "unhelpful-thoughts")
        sign_in_staff(page, check_page, live_server, sam)
        page.goto(f"/patients/{alice.pk}/plan/")
        plan_row(page, "Unhelpful thoughts").get_by_role("button", name="Waive").click()

        summary = page.get_by_role("alert")
        expect(summary.get_by_role("heading")).to_have_text("There is a problem")
        check_page("plan-waive-error")
        thoughts.refresh_from_db()
        assert thoughts.waived_at is None
        # Four mandatory modules have a "Waive" button: the message must say which one.
        expect(
            summary,
            message="the error summary of a refused waive does not name the module",
        ).to_contain_text("Unhelpful thoughts")
        links = summary.get_by_role("link")
        expect(
            links, message="the error summary does not link to the module's reason box"
        ).to_have_count(1)
        links.click()
        expect(page.locator(f"#reason-{thoughts.pk}")).to_be_focused()

    def test_an_acknowledgement_without_a_note_links_to_the_note_box(
        self, page: Page, check_page, live_server, sam, alice, depression_episode
    ):
        sent = questionnaire_send(patient=alice, instrument="phq9", actor=sam.user)
        response_submit(request=sent, actor=alice.user, answers=[1, 1, 1, 1, 0, 0, 0, 0, 2])
        alert = Alert.objects.get()

        sign_in_staff(page, check_page, live_server, sam)
        page.goto(f"/patients/{alice.pk}/scores/")
        alerts = page.get_by_role("region", name="Open alerts")
        alerts.get_by_role("button", name="Acknowledge").click()

        summary = page.get_by_role("alert")
        expect(summary.get_by_role("heading")).to_have_text("There is a problem")
        check_page("scores-acknowledge-error")
        alert.refresh_from_db()
        assert alert.state == AlertState.OPEN
        link = summary.get_by_role("link", name=re.compile("Write what you did about this alert"))
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, (
            f"the error summary links to {target}, which is not on the page "
            f"(the note box is #note-{alert.pk})"
        )
        link.click()
        expect(page.locator(f"#note-{alert.pk}")).to_be_focused()
