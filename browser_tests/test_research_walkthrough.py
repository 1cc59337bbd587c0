"""The research workspace in a real Chromium: a patient consents; a researcher selects a
passage with the mouse, ticks a code with a shortcut key and applies it; the codebook,
agreement and report pages pass axe-core. Positions must come out in Unicode codepoints,
as the server counts them, even after an emoji (two UTF-16 units in the browser)."""

import re

import pytest
from playwright.sync_api import Page, expect

from alliance.accounts.models import Role
from alliance.conftest import make_staff
from alliance.measures import services as measures
from alliance.research import selectors, services
from alliance.research.models import Coding
from browser_tests.conftest import with_authenticator
from browser_tests.test_walkthrough import pass_mfa, sign_in

pytestmark = pytest.mark.browser

ANSWER = "😀 Sam was brilliant and always so kind on the calls."


@pytest.fixture
def tomasz(riverside):
    return with_authenticator(make_staff(riverside, Role.RESEARCHER, "Tomasz Researcher"))


@pytest.fixture
def consent_text(transactional_db):
    """The consent text the migration publishes (a live-server test flushes it away)."""
    return selectors.consent_document_current() or services.consent_document_publish(
        title="Taking part in research", text="Researchers may read your answers, pseudonymised."
    )


@pytest.fixture
def project(alice, sam, tomasz, consent_text):
    services.consent_give(patient=alice, document=consent_text)
    request = measures.questionnaire_send(patient=alice, instrument="feedback", actor=sam.user)
    measures.response_submit(
        request=request, actor=alice.user, text_answers={"calls_helped": ANSWER}
    )
    return services.project_create(
        lead=tomasz, title="Feedback study", instruments=["feedback"], starter="supporter-qualities"
    )


def select_words(page: Page, words: str) -> None:
    """Select ``words`` inside the document text as a mouse drag would, then release."""
    page.evaluate(
        """(words) => {
            const box = document.getElementById("document-text");
            const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const at = node.data.indexOf(words);
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + words.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    box.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
                    return;
                }
            }
            throw new Error("words not found: " + words);
        }""",
        words,
    )


class TestResearchWorkspace:
    def test_a_researcher_codes_a_selection_with_the_keyboard_shortcut(
        self, page: Page, check_page, live_server, project, tomasz
    ):
        sign_in(page, check_page, tomasz.user.email)
        pass_mfa(page, check_page, live_server, tomasz.user.totpdevice_set.get().bin_key)
        document = project.documents.get()
        page.goto(f"/research/projects/{project.pk}/documents/{document.pk}/code/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"Response of P-[0-9A-F]{6}")
        )
        check_page("coding")

        select_words(page, "always so kind")
        expected_start = document.text.index("always so kind")
        expect(page.get_by_label("Start")).to_have_value(str(expected_start))
        expect(page.get_by_label("End")).to_have_value(str(expected_start + 14))
        expect(page.locator("#selection-status")).to_contain_text("always so kind")

        page.locator("body").press("1")
        expect(page.get_by_role("checkbox", name=re.compile("Warmth"))).to_be_checked()
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("mark.coded")).to_have_text("always so kind")
        check_page("coded")

        coding = Coding.objects.get()
        assert coding.code.name == "Warmth"
        assert document.text[coding.start : coding.end] == "always so kind"

    def test_the_other_research_pages_are_accessible(
        self, page: Page, check_page, live_server, project, tomasz
    ):
        sign_in(page, check_page, tomasz.user.email)
        pass_mfa(page, check_page, live_server, tomasz.user.totpdevice_set.get().bin_key)
        for path, label in [
            ("", "overview"),
            ("codebook/", "codebook"),
            ("agreement/", "agreement"),
            ("themes/", "themes"),
            ("report/", "report"),
            ("suggestions/", "suggestions"),
        ]:
            page.goto(f"/research/projects/{project.pk}/{path}")
            expect(page.get_by_role("navigation", name="Project")).to_be_visible()
            check_page(label)
        page.goto("/research/projects/new/")
        check_page("new-project")

    def test_a_patient_agrees_to_research(
        self, page: Page, check_page, live_server, alice, consent_text
    ):
        sign_in(page, check_page, alice.user.email)
        page.goto("/research/consent/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your answers and research")
        check_page("consent")
        page.get_by_role("button", name="Agree to take part").click()
        expect(page.get_by_role("alert")).to_contain_text("Tick the box to agree")
        check_page("consent-error")
        page.get_by_label(re.compile("I have read this and I agree")).check()
        page.get_by_role("button", name="Agree to take part").click()
        expect(page.get_by_role("status").first).to_contain_text("recorded")
        check_page("consented")
