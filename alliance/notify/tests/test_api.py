"""The notify API: reminder settings, notifications, push subscriptions, delivery log."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.notify import services
from alliance.notify.models import (
    Notification,
    PushSubscription,
    ReminderSchedule,
    ReminderSettings,
)
from alliance.notify.selectors import local_today
from alliance.notify.tests.conftest import run, utc

pytestmark = pytest.mark.django_db

JSON = "application/json"
SETTINGS = "/api/v1/me/reminders"
SUBSCRIPTION = {
    "endpoint": "https://push.example.net/send/abc123",
    "keys": {
        "p256dh": (
            "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
        ),
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}


def stored(patient):
    row = ReminderSettings.objects.filter(patient=patient).values().first()
    schedules = sorted(ReminderSchedule.objects.filter(patient=patient).values_list())
    return row, schedules


class TestReminderSettings:
    def test_it_answers_the_defaults_in_the_patients_own_time(self, login, alice):
        body = login(alice).get(SETTINGS).json()
        assert body["reminders"]["checkin"] == {
            "on": True,
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "time": "19:00:00",
        }
        assert body["channels"] == ["email", "inapp"]
        assert (body["max_per_day"], body["max_per_week"]) == (1, 5)
        assert body["time_zone"] == "Europe/London" and body["all_off"] is False

    def test_it_changes_only_what_is_sent(self, login, alice):
        client = login(alice)
        body = client.put(
            SETTINGS,
            {
                "reminders": {"checkin": {"on": True, "time": "08:30"}},
                "quiet_start": "22:00",
                "quiet_end": "07:00",
                "max_per_day": 2,
            },
            content_type=JSON,
        ).json()
        assert body["reminders"]["checkin"]["time"] == "08:30:00"
        assert len(body["reminders"]["checkin"]["days"]) == 7
        assert (body["quiet_start"], body["quiet_end"]) == ("22:00:00", "07:00:00")
        assert body["max_per_day"] == 2 and body["max_per_week"] == 5
        assert body["channels"] == ["email", "inapp"]
        checkin = ReminderSchedule.objects.get(patient=alice, kind="checkin")
        assert checkin.time_of_day == time(8, 30)
        assert body["next_reminder_at"] is not None

    def test_it_pauses_and_turns_everything_off(self, login, alice):
        until = (local_today(alice) + timedelta(days=3)).isoformat()
        body = (
            login(alice)
            .put(SETTINGS, {"paused_until": until, "all_off": True}, content_type=JSON)
            .json()
        )
        assert body["paused_until"] == until and body["all_off"] is True

    @pytest.mark.parametrize(
        ("payload", "field", "message"),
        [
            ({"channels": ["email", "sms"]}, "channels", "Unknown channel: sms"),
            (
                {"quiet_start": "18:00", "quiet_end": "20:00"},
                "quiet_start",
                "Quiet hours from 18:00 to 20:00 cover every reminder time",
            ),
            ({"reminders": {"tarot": {"on": True}}}, "reminders", "Unknown kind of reminder"),
            (
                {"reminders": {"module": {"on": True, "days": ["mon"], "time": None}}},
                "reminders.module.time",
                "Choose a time",
            ),
            ({"max_per_day": 0}, "max_per_day", "Choose between 1 and 10"),
            ({"paused_until": "2020-01-01"}, "paused_until", "A pause must end today"),
            ({"quiet_start": "25:00"}, "quiet_start", ""),
        ],
    )
    def test_it_refuses_bad_settings_naming_the_field_and_changes_nothing(
        self, login, alice, payload, field, message
    ):
        services.reminder_settings_ensure(patient=alice)
        before = stored(alice)
        response = login(alice).put(SETTINGS, payload, content_type=JSON)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert list(error["fields"]) == [field]
        assert message in error["fields"][field][0]
        assert stored(alice) == before

    def test_it_is_for_patients_only(self, login, sam):
        assert login(sam).get(SETTINGS).status_code == 403
        assert login(sam).put(SETTINGS, {"all_off": True}, content_type=JSON).status_code == 403

    def test_it_needs_a_signed_in_person(self, client):
        assert client.get(SETTINGS).status_code == 401


class TestNotifications:
    def test_it_lists_your_notifications_and_the_unread_count(self, login, alice, bob):
        for user, title in ((alice.user, "Yours"), (bob.user, "Not yours")):
            Notification.objects.create(
                user=user, kind="message", title=title, created_at=timezone.now()
            )
        body = login(alice).get("/api/v1/me/notifications").json()
        assert body["unread"] == 1
        assert [n["title"] for n in body["notifications"]] == ["Yours"]

    def test_it_marks_one_read(self, login, alice):
        note = Notification.objects.create(
            user=alice.user, kind="message", title="T", created_at=timezone.now()
        )
        response = login(alice).post(f"/api/v1/me/notifications/{note.pk}/read")
        assert response.status_code == 200 and response.json()["read_at"] is not None
        assert login(alice).get("/api/v1/me/notifications").json()["unread"] == 0

    def test_it_answers_not_found_for_someone_elses(self, login, alice, bob):
        note = Notification.objects.create(
            user=bob.user, kind="message", title="T", created_at=timezone.now()
        )
        assert login(alice).post(f"/api/v1/me/notifications/{note.pk}/read").status_code == 404
        note.refresh_from_db()
        assert note.read_at is None


class TestPushSubscriptions:
    def test_it_keeps_a_device_once(self, login, alice):
        client = login(alice)
        first = client.post("/api/v1/me/push-subscriptions", SUBSCRIPTION, content_type=JSON)
        again = client.post("/api/v1/me/push-subscriptions", SUBSCRIPTION, content_type=JSON)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert PushSubscription.objects.get().user == alice.user

    def test_it_refuses_an_endpoint_that_is_not_https(self, login, alice):
        payload = {**SUBSCRIPTION, "endpoint": "http://push.example.net/x"}
        response = login(alice).post("/api/v1/me/push-subscriptions", payload, content_type=JSON)
        assert response.status_code == 422
        assert list(response.json()["error"]["fields"]) == ["endpoint"]
        assert not PushSubscription.objects.exists()

    def test_it_refuses_missing_keys(self, login, alice):
        payload = {"endpoint": SUBSCRIPTION["endpoint"], "keys": {"p256dh": "x"}}
        response = login(alice).post("/api/v1/me/push-subscriptions", payload, content_type=JSON)
        assert response.status_code == 422
        assert "keys.auth" in response.json()["error"]["fields"]
        assert not PushSubscription.objects.exists()


class TestDeliveries:
    def url(self, patient):
        return f"/api/v1/patients/{patient.pk}/deliveries"

    def test_it_gives_the_care_team_the_delivery_log(self, login, alice_in_care, sam):
        run(utc(2026, 3, 20, 19))
        [delivery] = login(sam).get(self.url(alice_in_care)).json()
        assert delivery["kind"] == "checkin" and delivery["status"] == "sent"
        assert sorted(a["channel"] for a in delivery["attempts"]) == ["email", "inapp"]
        assert AuditEntry.objects.filter(what="reminder delivery log", actor=sam.user).exists()

    @pytest.mark.parametrize("who", ["priya", "oscar", "tomasz", "alice"])
    def test_it_is_not_found_for_outsiders(self, login, alice, who, request):
        person = request.getfixturevalue(who)
        assert login(person).get(self.url(alice)).status_code == 404
        assert not AuditEntry.objects.filter(what="reminder delivery log").exists()
