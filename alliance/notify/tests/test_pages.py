"""The pages: the patient's reminder settings, the notification centre and the header bell,
and the care team's delivery log of a patient (audited)."""

import re
from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.notify import rules, services
from alliance.notify.models import Notification, ReminderSchedule, ReminderSettings
from alliance.notify.selectors import local_today
from alliance.notify.tests.conftest import run, utc

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/notifications/settings/"
CENTRE_URL = "/notifications/"


def form_data(**changes) -> dict:
    """The settings form as the defaults fill it in, with changes."""
    data = {
        "checkin_on": "on",
        "checkin_days": list(rules.DAYS),
        "checkin_time": "19:00",
        "message_on": "on",
        "channels": ["email", "inapp"],
        "quiet_start": "",
        "quiet_end": "",
        "max_per_day": "1",
        "max_per_week": "5",
        "pause": "0",
    }
    for kind in ("module", "homework", "questionnaire", "appointment"):
        data[f"{kind}_days"] = list(rules.DAYS)
        data[f"{kind}_time"] = "10:00"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def saved(patient) -> tuple:
    row = ReminderSettings.objects.filter(patient=patient).first()
    schedules = sorted(
        ReminderSchedule.objects.filter(patient=patient).values_list(
            "kind", "enabled", "days", "time_of_day"
        )
    )
    if row is None:
        return (None, schedules)
    return (
        row.channels,
        row.quiet_start,
        row.quiet_end,
        row.max_per_day,
        row.max_per_week,
        row.paused_until,
        row.all_off,
        schedules,
    )


def notify(patient, n, now=None):
    for i in range(n):
        Notification.objects.create(
            user=patient.user,
            kind="message",
            title=f"Note {i}",
            body="Body",
            url="/messages/",
            created_at=now or timezone.now(),
        )


class TestReminderSettingsPage:
    def test_it_shows_the_gentle_defaults(self, login, alice):
        response = login(alice).get(SETTINGS_URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert re.search(r'name="checkin_on"[^>]*checked', html)
        assert 'name="checkin_time" value="19:00"' in html
        assert not re.search(r'name="homework_on"[^>]*checked', html)
        assert "Europe/London" in html

    def test_it_has_no_inline_script_or_style(self, login, alice):
        html = login(alice).get(SETTINGS_URL).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert " style=" not in html and "<style" not in html
        assert '<script src="/static/notify/push.js" defer>' in html

    def test_it_saves_the_patients_choices(self, login, alice):
        response = login(alice).post(
            SETTINGS_URL,
            form_data(
                checkin_time="08:15",
                checkin_days=["mon", "wed"],
                homework_on="on",
                homework_time="18:30",
                channels=["inapp", "webpush"],
                quiet_start="22:00",
                quiet_end="07:00",
                max_per_day="2",
                max_per_week="6",
            ),
        )
        assert response.status_code == 302 and response["Location"] == SETTINGS_URL
        row = alice.reminder_settings
        row.refresh_from_db()
        assert row.channels == ["inapp", "webpush"]
        assert (row.quiet_start, row.quiet_end) == (time(22), time(7))
        assert (row.max_per_day, row.max_per_week) == (2, 6)
        checkin = ReminderSchedule.objects.get(patient=alice, kind="checkin")
        assert (checkin.days, checkin.time_of_day) == (["mon", "wed"], time(8, 15))
        assert ReminderSchedule.objects.get(patient=alice, kind="homework").enabled

    def test_it_pauses_for_a_week(self, login, alice):
        login(alice).post(SETTINGS_URL, form_data(pause="7"))
        row = ReminderSettings.objects.get(patient=alice)
        assert row.paused_until == local_today(alice) + timedelta(days=6)
        html = login(alice).get(SETTINGS_URL).content.decode()
        assert "Reminders are paused until the end of" in html

    def test_it_turns_everything_off(self, login, alice):
        login(alice).post(SETTINGS_URL, form_data(all_off="on", channels=[]))
        assert ReminderSettings.objects.get(patient=alice).all_off is True

    def test_it_refuses_quiet_hours_covering_every_reminder_time_and_changes_nothing(
        self, login, alice
    ):
        client = login(alice)
        client.get(SETTINGS_URL)
        services.reminder_settings_ensure(patient=alice)
        before = saved(alice)
        response = client.post(SETTINGS_URL, form_data(quiet_start="18:00", quiet_end="20:00"))
        assert response.status_code == 400
        html = response.content.decode()
        assert "There is a problem" in html
        assert 'href="#id_quiet_start"' in html
        assert (
            "Quiet hours start: Quiet hours from 18:00 to 20:00 cover every reminder time" in html
        )
        assert saved(alice) == before

    def test_it_refuses_an_unknown_channel_and_changes_nothing(self, login, alice):
        services.reminder_settings_ensure(patient=alice)
        before = saved(alice)
        response = login(alice).post(SETTINGS_URL, form_data(channels=["email", "sms"]))
        assert response.status_code == 400
        assert "How to remind you: Select a valid choice. sms is not one of" in (
            response.content.decode()
        )
        assert saved(alice) == before

    def test_it_refuses_a_reminder_without_a_time_naming_it(self, login, alice):
        services.reminder_settings_ensure(patient=alice)
        before = saved(alice)
        response = login(alice).post(SETTINGS_URL, form_data(checkin_time=""))
        assert response.status_code == 400
        assert "Choose a time for “Daily check-in”, or turn it off." in response.content.decode()
        assert 'href="#id_checkin_time"' in response.content.decode()
        assert saved(alice) == before

    def test_it_refuses_no_channel_while_reminders_are_on(self, login, alice):
        response = login(alice).post(SETTINGS_URL, form_data(channels=[]))
        assert response.status_code == 400
        assert "How to remind you: Choose at least one way to be reminded" in (
            response.content.decode()
        )
        assert not ReminderSettings.objects.filter(patient=alice).exists()

    @pytest.mark.parametrize("who", ["sam", "morgan", "ada", "oscar"])
    def test_it_is_not_found_for_staff(self, login, alice, who, request):
        staff = request.getfixturevalue(who)
        assert login(staff).get(SETTINGS_URL).status_code == 404
        assert login(staff).post(SETTINGS_URL, form_data()).status_code == 404
        assert not ReminderSettings.objects.exists()

    def test_it_asks_a_stranger_to_sign_in(self, client):
        assert client.get(SETTINGS_URL)["Location"].startswith("/sign-in/")


class TestNotificationCentre:
    def test_it_lists_the_persons_notifications_newest_first(self, login, alice, bob):
        notify(alice, 2)
        notify(bob, 1)
        html = login(alice).get(CENTRE_URL).content.decode()
        assert html.index("Note 1") < html.index("Note 0")
        assert html.count('class="notify-item notify-unread"') == 2

    def test_the_bell_says_how_many_are_unread(self, login, alice):
        notify(alice, 2)
        html = login(alice).get("/my/").content.decode()
        bell = re.search(r'<li class="notify-bell">.*?</li>', html, re.S).group(0)
        assert '<a href="/notifications/">Notifications' in bell
        assert '<span class="notify-count" aria-hidden="true">2</span>' in bell
        assert '<span class="visually-hidden">, 2 unread</span>' in bell

    def test_the_bell_shows_no_count_when_all_are_read(self, login, sam):
        html = login(sam).get("/").content.decode()
        assert '<a href="/notifications/">Notifications</a>' in html

    def test_it_marks_one_read(self, login, alice):
        notify(alice, 1)
        note = Notification.objects.get()
        response = login(alice).post(f"/notifications/{note.pk}/read/")
        assert response["Location"] == CENTRE_URL
        note.refresh_from_db()
        assert note.read_at is not None

    def test_it_opens_a_notification_where_it_points(self, login, alice):
        notify(alice, 1)
        note = Notification.objects.get()
        response = login(alice).post(f"/notifications/{note.pk}/read/", {"open": "1"})
        assert response["Location"] == "/messages/"

    def test_it_marks_all_read(self, login, alice):
        notify(alice, 3)
        login(alice).post("/notifications/all-read/")
        assert not Notification.objects.filter(read_at__isnull=True).exists()

    def test_it_answers_not_found_for_someone_elses_notification(self, login, alice, bob):
        notify(bob, 1)
        note = Notification.objects.get()
        assert login(alice).post(f"/notifications/{note.pk}/read/").status_code == 404
        note.refresh_from_db()
        assert note.read_at is None

    def test_it_marks_the_in_app_delivery_opened_when_read(self, login, alice_in_care):
        run(utc(2026, 3, 20, 19))
        note = Notification.objects.get()
        login(alice_in_care).post(f"/notifications/{note.pk}/read/")
        attempt = note.reminder.attempts.get(channel="inapp")
        assert attempt.status == "opened" and attempt.opened_at is not None

    def test_it_runs_a_fixed_number_of_queries(self, login, alice, django_assert_num_queries):
        client = login(alice)
        notify(alice, 2)
        client.get(CENTRE_URL)
        with django_assert_num_queries(6) as few:
            client.get(CENTRE_URL)
        notify(alice, 30)
        with django_assert_num_queries(len(few.captured_queries)):
            client.get(CENTRE_URL)


class TestDeliveryLog:
    def url(self, patient):
        return f"/notifications/patients/{patient.pk}/log/"

    def test_it_shows_the_care_team_each_channels_delivery(self, login, alice_in_care, sam):
        run(utc(2026, 3, 20, 19))
        note = Notification.objects.get()
        services.notification_mark_read(notification=note, now=utc(2026, 3, 20, 19, 20))
        response = login(sam).get(self.url(alice_in_care))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Daily check-in" in html
        assert "sent by e-mail 19:00" in html
        assert "sent by in-app 19:00, read 19:20" in html

    def test_it_is_an_audited_read(self, login, alice_in_care, sam):
        login(sam).get(self.url(alice_in_care))
        entry = AuditEntry.objects.get(what="reminder delivery log")
        assert (entry.actor, entry.patient) == (sam.user, alice_in_care)

    @pytest.mark.parametrize("who", ["priya", "oscar", "tomasz", "hana", "alice"])
    def test_it_is_not_found_for_outsiders(self, login, alice, who, request):
        person = request.getfixturevalue(who)
        assert login(person).get(self.url(alice)).status_code == 404
        assert not AuditEntry.objects.filter(what="reminder delivery log").exists()

    def test_it_runs_a_fixed_number_of_queries(
        self, login, alice_in_care, sam, django_assert_num_queries
    ):
        client = login(sam)
        run(utc(2026, 3, 20, 19))
        client.get(self.url(alice_in_care))
        with django_assert_num_queries(16) as few:
            client.get(self.url(alice_in_care))
        for day in range(21, 28):
            run(utc(2026, 3, day, 19))
        with django_assert_num_queries(len(few.captured_queries)):
            client.get(self.url(alice_in_care))
        assert date(2026, 3, 27) in {r.local_date for r in alice_in_care.reminders.all()}
