"""The daily check-in in a real Chromium: three taps on a phone, the calendar and the trend,
and a check-in made offline that the service worker keeps and sends exactly once.

After every page ``check_page`` saves a screenshot and asserts no request left the live
server, no browser error, and no serious or critical axe-core violation.
"""

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from alliance.checkins.models import CheckInKey, DailyCheckIn
from alliance.checkins.selectors import patient_today
from browser_tests.test_walkthrough import pass_mfa, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def wait_for(condition, timeout: float = 10.0, step: float = 0.1):
    """Poll the database (the live server writes from another thread) until true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


def controlled_by_the_worker(page: Page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.wait_for_function("() => Boolean(navigator.serviceWorker.controller)")
    # The shell (the offline form and the "kept" page) is cached while installing.
    page.wait_for_function(
        """async () => {
            const names = await caches.keys();
            for (const name of names) {
                const cache = await caches.open(name);
                if (await cache.match('/exercises/checkin/saved-offline/', {ignoreVary: true})) {
                    return true;
                }
            }
            return false;
        }"""
    )


class TestCheckinOnAPhone:
    def test_it_takes_three_taps_and_shows_the_calendar_and_trend(
        self, page: Page, check_page, live_server, alice
    ):
        page.set_viewport_size(PHONE)
        sign_in(page, check_page, alice.user.email)
        page.goto("/exercises/checkin/")
        expect(page.get_by_role("heading", level=1)).to_have_text("How are you today?")
        check_page("checkin-form")

        mood = page.get_by_role("group", name="Your mood today")
        mood.get_by_role("radio", name="7").check()  # tap 1
        page.get_by_role("checkbox", name="hopeful").check()  # tap 2
        page.get_by_role("button", name="Save check-in").click()  # tap 3

        expect(page.get_by_role("status")).to_contain_text("Thank you")
        assert wait_for(lambda: DailyCheckIn.objects.filter(patient=alice, mood=7).exists())
        check_page("checkin-saved")

        page.get_by_role("link", name="Your calendar").click()
        expect(page.get_by_role("table")).to_contain_text("7")
        check_page("checkin-calendar")
        page.get_by_role("link", name="Your mood over time").click()
        expect(
            page.get_by_role("img", name=re.compile("^Mood over the last 30 days"))
        ).to_be_visible()
        check_page("checkin-trend")

    def test_it_names_the_missing_mood(self, page: Page, check_page, live_server, alice):
        page.set_viewport_size(PHONE)
        sign_in(page, check_page, alice.user.email)
        page.goto("/exercises/checkin/")
        page.get_by_role("button", name="Save check-in").click()
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Mood: choose a number from 0 to 10.")
        check_page("checkin-error")
        summary.get_by_role("link").click()
        expect(page.locator("#mood-0")).to_be_focused()
        assert not DailyCheckIn.objects.exists()


class TestWelcomeBack:
    def test_it_restarts_gently_after_a_gap(self, page: Page, check_page, live_server, alice):
        DailyCheckIn.objects.create(
            patient=alice, local_date=patient_today(alice) - timedelta(days=9), mood=4
        )
        page.set_viewport_size(PHONE)
        sign_in(page, check_page, alice.user.email)
        page.goto("/exercises/checkin/welcome-back/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back")
        check_page("welcome-back")
        page.get_by_role("link", name="Check in now").click()
        expect(page.get_by_role("main")).to_contain_text("Welcome back — it's good to see you.")
        check_page("welcome-back-checkin")


class TestCareTeamView:
    def test_the_supporter_sees_calendar_and_trend(
        self, page: Page, check_page, live_server, sam, alice
    ):
        today = patient_today(alice)
        for days_ago, mood in enumerate([6, 5, 6, 4, 3, 4, 2]):
            DailyCheckIn.objects.create(
                patient=alice,
                local_date=today - timedelta(days=days_ago * 2),
                mood=mood,
                sleep_hours=6 + days_ago % 3,
                note="Slept badly" if days_ago == 3 else "",
            )
        sign_in(page, check_page, sam.user.email)
        pass_mfa(page, check_page, live_server, sam.user.totpdevice_set.get().bin_key)
        page.goto(f"/exercises/patients/{alice.pk}/checkins/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Check-ins of Alice Patient")
        expect(page.get_by_role("main")).to_contain_text("Slept badly")
        check_page("care-team-checkins")
        page.get_by_role("link", name="Last 90 days").click()
        expect(
            page.get_by_role("img", name=re.compile("^Mood over the last 90 days"))
        ).to_be_visible()
        check_page("care-team-checkins-90")


class TestOfflineCheckin:
    def test_a_check_in_made_offline_is_sent_once_when_back_online(
        self, page: Page, check_page, live_server, alice
    ):
        page.set_viewport_size(PHONE)
        sign_in(page, check_page, alice.user.email)
        page.goto("/exercises/checkin/")
        controlled_by_the_worker(page)

        page.context.set_offline(True)
        page.get_by_role("group", name="Your mood today").get_by_role("radio", name="4").check()
        page.get_by_role("checkbox", name="tired").check()
        page.get_by_role("button", name="Save check-in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your check-in is kept on this phone"
        )
        time.sleep(0.5)
        assert not DailyCheckIn.objects.exists()  # nothing reached the server yet
        kept = page.evaluate(
            """() => new Promise((resolve, reject) => {
                const opening = indexedDB.open('alliance-offline', 1);
                opening.onsuccess = () => {
                    const request = opening.result.transaction('checkins')
                        .objectStore('checkins').getAll();
                    request.onsuccess = () => resolve(request.result);
                    request.onerror = () => reject(request.error);
                };
                opening.onerror = () => reject(opening.error);
            })"""
        )
        assert len(kept) == 1 and kept[0]["mood"] == "4" and kept[0]["feelings"] == ["tired"]

        page.context.set_offline(False)
        page.goto("/exercises/checkin/calendar/")  # a page load asks the worker to send
        checkin = wait_for(lambda: DailyCheckIn.objects.filter(patient=alice).first())
        assert checkin is not None and (checkin.mood, checkin.feelings) == (4, ["tired"])
        assert checkin.client_key == kept[0]["client_key"]

        # Every way of asking again (the online event, another page load) saves nothing more.
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.reload()
        time.sleep(1.0)
        assert DailyCheckIn.objects.count() == 1
        assert CheckInKey.objects.count() == 1
        check_page("checkin-after-replay")

    def test_the_server_honours_the_key_when_a_replay_repeats(
        self, page: Page, check_page, live_server, alice
    ):
        """The worker's record sent twice (e.g. the answer was lost): saved once."""
        page.set_viewport_size(PHONE)
        sign_in(page, check_page, alice.user.email)
        page.goto("/exercises/checkin/")
        send = """async (key) => {
            const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
            const response = await fetch('/api/v1/me/checkins', {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify({mood: 6, client_key: key,
                                      made_at: new Date().toISOString()}),
            });
            return response.status;
        }"""
        assert page.evaluate(send, "replayed-key-1") == 201
        assert page.evaluate(send, "replayed-key-1") == 200
        assert DailyCheckIn.objects.count() == 1
