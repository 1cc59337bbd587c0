"""The check-in pages: today's form, calendar, trend, welcome back, the week's card, and the
care team's view."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template

from alliance.audit.models import AuditEntry
from alliance.checkins.models import DailyCheckIn

NOW = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)
TODAY = date(2026, 5, 12)
UNKIND = ("broke", "missed", "lost your", "failed")


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def add(patient, days_ago: int, mood: int = 5, **fields) -> DailyCheckIn:
    return DailyCheckIn.objects.create(
        patient=patient, local_date=TODAY - timedelta(days=days_ago), mood=mood, **fields
    )


def page_text(response) -> str:
    return response.content.decode()


def form(**fields) -> dict:
    data = {"client_key": "form-key-0001", "mood": "6"}
    data.update(fields)
    return data


class TestCheckinPage:
    url = "/exercises/checkin/"

    def test_it_shows_eleven_mood_buttons_feelings_and_optional_details(self, login, alice):
        html = page_text(login(alice).get(self.url))
        assert len(re.findall(r'type="radio" name="mood"', html)) == 11
        assert 'id="mood-0"' in html and 'id="mood-10"' in html
        assert "very low" in html and "very good" in html
        assert len(re.findall(r'type="checkbox" name="feelings"', html)) == 10
        assert "<details" in html and "<summary>" in html
        assert re.search(r'name="client_key" value="[0-9a-f]{32}"', html)
        assert "<legend>Your mood today</legend>" in html

    def test_it_saves_todays_check_in_in_one_post(self, login, alice):
        response = login(alice).post(self.url, form(feelings=["calm", "tired"]))
        assert response.status_code == 302
        checkin = DailyCheckIn.objects.get()
        assert (checkin.local_date, checkin.mood, checkin.feelings) == (
            TODAY,
            6,
            ["calm", "tired"],
        )
        assert "Thank you" in page_text(login(alice).get(response.url))

    def test_it_goes_back_to_the_page_it_came_from(self, login, alice):
        response = login(alice).post(self.url, form(next="/my/"))
        assert response.url == "/my/"
        response = login(alice).post(self.url, form(next="https://evil.example/"))
        assert response.url == self.url

    def test_it_shows_todays_check_in_to_change_it(self, login, alice):
        add(alice, 0, mood=3, note="Rough day", sleep_hours="6.5")
        html = page_text(login(alice).get(self.url))
        assert re.search(r'id="mood-3" value="3" checked', html)
        assert "Rough day" in html and 'value="6.5"' in html
        assert '<details class="checkin-details" open>' in html
        assert "Save changes" in html

    def test_a_double_submit_saves_once(self, login, alice):
        client = login(alice)
        client.post(self.url, form(mood="4", client_key="double-key-1"))
        client.post(self.url, form(mood="4", client_key="double-key-1"))
        assert DailyCheckIn.objects.count() == 1

    @pytest.mark.parametrize(
        ("fields", "anchor", "message"),
        [
            ({"mood": "11"}, "mood-0", "Mood: 11 is out of range"),
            ({"mood": ""}, "mood-0", "Mood: choose a number from 0 to 10."),
            ({"feelings": ["sadd"]}, "feeling-calm", "Feelings: “sadd” is not one"),
            ({"sleep_hours": "25"}, "id_sleep_hours", "Sleep: 25 hours is out of range"),
            ({"note": "x" * 1001}, "id_note", "Note: keep this to 1000 characters"),
        ],
    )
    def test_it_refuses_bad_input_naming_the_field_and_changes_nothing(
        self, login, alice, fields, anchor, message
    ):
        add(alice, 0, mood=2, note="Kept")
        response = login(alice).post(self.url, form(**fields))
        assert response.status_code == 400
        html = page_text(response)
        assert 'class="error-summary"' in html
        assert f'href="#{anchor}"' in html
        assert message in html
        checkin = DailyCheckIn.objects.get()
        assert (checkin.mood, checkin.note) == (2, "Kept")

    def test_it_keeps_what_was_typed_when_refused(self, login, alice):
        response = login(alice).post(self.url, form(mood="11", activity="Swim", note="Hello"))
        html = page_text(response)
        assert 'value="Swim"' in html and ">Hello</textarea>" in html
        assert 'aria-invalid="true"' not in html.split("id_activity")[1][:300]

    def test_it_refuses_a_form_opened_by_another_patient(self, login, alice, bob):
        response = login(alice).post(self.url, form(patient_id=str(bob.pk)))
        assert response.status_code == 400
        assert "Patient: this form was opened by someone else" in page_text(response)
        assert not DailyCheckIn.objects.exists()

    def test_it_runs_a_fixed_number_of_queries_to_save(
        self, login, alice, django_assert_num_queries
    ):
        client = login(alice)
        client.post(self.url, form(client_key="warm-up-key1"))
        with django_assert_num_queries(12) as small:
            client.post(self.url, form(client_key="size-one-key"))
        for n in range(1, 80):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.post(self.url, form(client_key="size-two-key"))

    def test_it_runs_a_fixed_number_of_queries_to_show(
        self, login, alice, django_assert_num_queries
    ):
        client = login(alice)
        add(alice, 0)
        client.get(self.url)
        with django_assert_num_queries(7) as small:
            client.get(self.url)
        for n in range(1, 80):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(self.url)

    def test_it_welcomes_back_after_a_gap(self, login, alice):
        add(alice, 6)
        html = page_text(login(alice).get(self.url))
        assert "Welcome back" in html
        assert not any(word in html.lower() for word in UNKIND)

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get(self.url).status_code == 403
        assert login(sam).post(self.url, form()).status_code == 403
        assert not DailyCheckIn.objects.exists()

    def test_it_asks_to_sign_in(self, client):
        response = client.get(self.url)
        assert response.status_code == 302 and "/sign-in/" in response.url


class TestCalendarPage:
    url = "/exercises/checkin/calendar/"

    def test_it_shows_the_month_with_moods_as_an_accessible_table(self, login, alice):
        add(alice, 0, mood=7, feelings=["calm"], note="Quiet evening")
        add(alice, 3, mood=2)
        html = page_text(login(alice).get(self.url))
        assert "<caption>Mood by day, May 2026" in html
        assert html.count('<th scope="col">') == 7
        assert '<abbr title="Monday">Mon</abbr>' in html
        assert 'aria-current="date"' in html
        assert re.search(r'mood-7"><span class="visually-hidden">mood </span>7<', html)
        assert re.search(r'mood-2"><span class="visually-hidden">mood </span>2<', html)
        assert "Quiet evening" in html and "calm" in html

    def test_it_links_to_earlier_months_only_as_far_as_the_data(self, login, alice):
        add(alice, 0)
        html = page_text(login(alice).get(self.url))
        assert "?month=2026-04" not in html and "?month=2026-06" not in html
        add(alice, 45)  # 28 March
        html = page_text(login(alice).get(self.url))
        assert "?month=2026-04" in html and "?month=2026-06" not in html
        html = page_text(login(alice).get(self.url + "?month=2026-03"))
        assert "<caption>Mood by day, March 2026" in html
        assert "?month=2026-04" in html and "?month=2026-02" not in html

    @pytest.mark.parametrize("month", ["2026-13", "nonsense", "2027-01", "0000-01"])
    def test_it_shows_this_month_for_a_month_it_cannot_show(self, login, alice, month):
        html = page_text(login(alice).get(self.url + "?month=" + month))
        assert "<caption>Mood by day, May 2026" in html

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, django_assert_num_queries):
        client = login(alice)
        add(alice, 0)
        client.get(self.url)
        with django_assert_num_queries(7) as small:
            client.get(self.url)
        for n in range(1, 120):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(self.url)

    def test_it_shows_only_the_patients_own(self, login, alice, bob):
        add(bob, 0, mood=9, note="Bob's secret")
        html = page_text(login(alice).get(self.url))
        assert "Bob's secret" not in html and "mood-9" not in html

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get(self.url).status_code == 403


class TestTrendPage:
    url = "/exercises/checkin/trend/"

    def test_it_draws_the_mood_over_30_days_with_a_table(self, login, alice):
        for n, mood in enumerate([6, 5, 4, 5, 3]):
            add(alice, n, mood=mood, sleep_hours="7.0")
        add(alice, 40, mood=1)  # outside the 30 days
        html = page_text(login(alice).get(self.url))
        assert "<svg" in html and 'role="img"' in html
        assert "Mood over the last 30 days" in html
        assert "<caption>Mood by day, last 30 days</caption>" in html
        assert "5 check-ins in this period; average mood 4.6." in html
        assert "Hours of sleep over the last 30 days" in html
        assert "http://" not in html.split("<svg", 1)[1].split("</svg>")[0].replace(
            "http://www.w3.org/2000/svg", ""
        )

    def test_it_shows_90_days_on_request(self, login, alice):
        add(alice, 40, mood=1)
        html = page_text(login(alice).get(self.url + "?days=90"))
        assert "Mood over the last 90 days" in html
        assert "One check-in in this period, mood 1" in html
        assert 'href="?days=90" aria-current="page"' in html

    @pytest.mark.parametrize("days", ["7", "x", "-30"])
    def test_it_shows_30_days_for_a_period_it_does_not_offer(self, login, alice, days):
        assert "last 30 days" in page_text(login(alice).get(self.url + "?days=" + days))

    def test_it_says_so_when_there_is_nothing_yet(self, login, alice):
        html = page_text(login(alice).get(self.url))
        assert "No data yet" in html and "Sleep as a table" not in html

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, django_assert_num_queries):
        client = login(alice)
        add(alice, 0)
        client.get(self.url)
        with django_assert_num_queries(6) as small:
            client.get(self.url + "?days=90")
        for n in range(1, 120):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(self.url + "?days=90")

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get(self.url).status_code == 403


class TestWelcomeBackPage:
    url = "/exercises/checkin/welcome-back/"

    def test_it_restarts_gently_with_one_small_step_and_no_counting(self, login, alice):
        add(alice, 12)
        html = page_text(login(alice).get(self.url))
        assert "<h1>Welcome back</h1>" in html
        assert "One small step" in html
        assert 'href="/exercises/checkin/"' in html
        assert "Sam Supporter" in html
        body = html.split('class="narrow welcome-back"')[1].split("</main>")[0]
        assert not re.search(r"\d", re.sub(r"<[^>]+>", "", body))  # no counting of days
        assert not any(word in html.lower() for word in UNKIND)

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get(self.url).status_code == 403


class TestOfflinePages:
    def test_the_offline_form_holds_nothing_of_the_patients(self, login, alice):
        add(alice, 0, mood=3, note="Private note")
        html = page_text(login(alice).get("/exercises/checkin/offline/"))
        assert "Private note" not in html and "checked" not in html
        assert 'action="/exercises/checkin/"' in html
        assert "kept on this phone" in html

    def test_the_saved_offline_page_reassures(self, login, alice):
        html = page_text(login(alice).get("/exercises/checkin/saved-offline/"))
        assert "Your check-in is kept on this phone" in html

    def test_they_are_for_patients_only(self, login, sam):
        assert login(sam).get("/exercises/checkin/offline/").status_code == 403
        assert login(sam).get("/exercises/checkin/saved-offline/").status_code == 403


class TestWeekCard:
    def render(self, patient) -> str:
        template = Template("{% load checkins_week %}{% checkin_card patient %}")
        return template.render(Context({"patient": patient}))

    def test_it_asks_how_the_patient_is_today(self, alice):
        html = self.render(alice)
        assert "Daily check-in" in html
        assert 'href="/exercises/checkin/?next=/my/"' in html

    def test_it_says_done_today_with_a_gentle_streak(self, alice):
        for n in range(3):
            add(alice, n, mood=6)
        html = self.render(alice)
        assert "Done today" in html and "your mood: 6 out of 10" in html
        assert "3 days in a row — nice." in html
        assert 'href="/exercises/checkin/calendar/"' in html

    def test_it_welcomes_back_after_a_gap_without_guilt(self, alice):
        add(alice, 9)
        html = self.render(alice)
        assert "Welcome back" in html
        assert 'href="/exercises/checkin/welcome-back/"' in html
        assert not any(word in html.lower() for word in UNKIND)

    def test_it_runs_one_query(self, alice, django_assert_num_queries):
        for n in range(40):
            add(alice, n)
        alice.user  # noqa: B018  (the week page has the user already)
        with django_assert_num_queries(1):
            self.render(alice)

    def test_it_is_on_the_patients_week(self, login, alice):
        add(alice, 0, mood=8)
        html = page_text(login(alice).get("/my/"))
        assert 'id="checkin-card-title"' in html and "Done today" in html

    def test_it_includes_the_web_app_script(self, alice):
        html = self.render(alice)
        assert 'data-service-worker="/exercises/sw.js"' in html and " defer>" in html


class TestPatientCheckinsPage:
    """The care team's view: calendar and trend, an audited read."""

    def url(self, patient) -> str:
        return f"/exercises/patients/{patient.pk}/checkins/"

    def test_the_supporter_reads_calendar_and_trend_and_it_is_audited(self, login, alice, sam):
        add(alice, 0, mood=8, note="Shared with my team")
        response = login(sam).get(self.url(alice))
        assert response.status_code == 200
        html = page_text(response)
        assert "Check-ins of Alice Patient" in html
        assert "Mood over the last 30 days" in html and "Mood by day, May 2026" in html
        assert "Shared with my team" in html
        entry = AuditEntry.objects.filter(patient=alice, what="check-ins").get()
        assert entry.actor == sam.user

    def test_its_links_keep_the_other_choice(self, login, alice, sam):
        add(alice, 45)
        html = page_text(login(sam).get(self.url(alice) + "?days=90&month=2026-04"))
        assert 'href="?month=2026-03&amp;days=90"' in html
        assert 'href="?days=30&amp;month=2026-04"' in html

    @pytest.mark.parametrize("outsider", ["priya", "oscar", "tomasz"])
    def test_it_is_not_found_for_anyone_outside_the_care_team(
        self, request, login, alice, outsider
    ):
        add(alice, 0, note="Private")
        user = request.getfixturevalue(outsider)
        response = login(user).get(self.url(alice))
        assert response.status_code == 404
        assert "Private" not in page_text(response)
        assert not AuditEntry.objects.filter(what="check-ins").exists()

    def test_it_is_for_staff(self, login, alice):
        assert login(alice).get(self.url(alice)).status_code == 403

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, sam, django_assert_num_queries):
        client = login(sam)
        add(alice, 0)
        client.get(self.url(alice))
        with django_assert_num_queries(17) as small:
            client.get(self.url(alice))
        for n in range(1, 120):
            add(alice, n)
        with django_assert_num_queries(len(small.captured_queries)):
            client.get(self.url(alice))
