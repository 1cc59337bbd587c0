"""Walkthroughs of the sign-in journeys in a real Chromium, as patients and staff see them.

After every page ``check_page`` saves a screenshot and asserts no request left the live
server, no browser error, and no serious or critical axe-core violation.
"""

import base64
import re

import pytest
from playwright.sync_api import Page, expect

from alliance.conftest import PASSWORD
from browser_tests.conftest import totp_code

pytestmark = pytest.mark.browser


def sign_in(page: Page, check_page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page("sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def pass_mfa(page: Page, check_page, live_server, key: bytes) -> None:
    expect(page).to_have_url(f"{live_server.url}/mfa/verify/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    check_page("mfa-verify")
    page.get_by_label("Code").fill(totp_code(key))
    page.get_by_role("button", name="Continue").click()


def nav(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


class TestPatient:
    def test_it_signs_in_sees_home_and_security_and_signs_out(
        self, page: Page, check_page, live_server, alice
    ):
        sign_in(page, check_page, alice.user.email)

        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice Patient")
        expect(page.get_by_role("main")).to_contain_text(
            re.compile(r"Your supporter.*Sam Supporter")
        )
        check_page("patient-home")

        nav(page, "Security").click()
        expect(page).to_have_url(f"{live_server.url}/security/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Security")
        expect(page.get_by_role("heading", name="Recovery codes")).to_have_count(0)
        check_page("security")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{live_server.url}/sign-in/")
        expect(page.get_by_role("status")).to_contain_text("You have signed out.")
        check_page("signed-out")
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))


class TestSupporter:
    def test_it_passes_mfa_and_opens_the_patient_list_and_record(
        self, page: Page, check_page, live_server, sam, alice
    ):
        sign_in(page, check_page, sam.user.email)
        pass_mfa(page, check_page, live_server, sam.user.totpdevice_set.get().bin_key)

        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Sam Supporter")
        check_page("staff-home")

        nav(page, "Patients").click()
        expect(page).to_have_url(f"{live_server.url}/patients/")
        table = page.get_by_role("table", name="Patients you can see")
        expect(table.get_by_role("row")).to_have_count(2)
        check_page("patient-list")

        table.get_by_role("link", name="Alice Patient").click()
        expect(page).to_have_url(f"{live_server.url}/patients/{alice.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Alice Patient")
        record = page.get_by_role("region", name="Record")
        expect(record).to_contain_text(alice.user.email)
        expect(record).to_contain_text("Sam Supporter")
        check_page("patient-record")


class TestNewStaff:
    def test_it_sets_up_an_authenticator_and_sees_recovery_codes(
        self, page: Page, check_page, live_server, nell
    ):
        sign_in(page, check_page, nell.user.email)

        expect(page).to_have_url(f"{live_server.url}/mfa/set-up/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
        expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
        check_page("mfa-set-up")

        secret = page.locator("code.secret").inner_text().strip()
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        page.get_by_label("Code").fill(totp_code(key))
        page.get_by_role("button", name="Turn on two-factor sign-in").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
        expect(page.locator("ul.codes li")).not_to_have_count(0)
        check_page("recovery-codes")
        assert nell.user.totpdevice_set.get().confirmed

        page.get_by_role("link", name="I have saved them — continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nell Newcomer")
        check_page("staff-home")


class TestAdministrator:
    def test_it_opens_the_staff_accounts_page(
        self, page: Page, check_page, live_server, ada, sam, nell
    ):
        sign_in(page, check_page, ada.user.email)
        pass_mfa(page, check_page, live_server, ada.user.totpdevice_set.get().bin_key)

        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Admin")
        check_page("admin-home")

        nav(page, "Staff accounts").click()
        expect(page).to_have_url(f"{live_server.url}/staff/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Staff accounts")
        table = page.get_by_role("table", name="Staff of your service")
        for name in ("Ada Admin", "Nell Newcomer", "Sam Supporter"):
            expect(table).to_contain_text(name)
        expect(table.get_by_role("button", name="Deactivate Sam Supporter")).to_be_visible()
        expect(table.get_by_role("button", name="Deactivate Ada Admin")).to_have_count(0)
        expect(page.get_by_role("button", name="Add member of staff")).to_be_visible()
        check_page("staff-accounts")


class TestSignInErrors:
    def test_it_shows_the_error_summary_for_a_wrong_password(
        self, page: Page, check_page, live_server, alice
    ):
        sign_in(page, check_page, alice.user.email, password="not-the-password")

        summary = page.get_by_role("alert")
        expect(summary).to_be_visible()
        expect(summary.get_by_role("heading")).to_have_text("There is a problem")
        expect(summary).to_contain_text("do not match an account")
        expect(page).to_have_url(f"{live_server.url}/sign-in/")
        expect(page.get_by_label("E-mail address")).to_have_value(alice.user.email)
        check_page("sign-in-error")
