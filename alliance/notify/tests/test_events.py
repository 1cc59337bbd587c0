"""notify_event: what other apps call when something happens (a new message), within the
patient's settings: channels, quiet hours, caps, pause, all-off; never twice for one key."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.db import transaction

from alliance.notify import rules, services
from alliance.notify.models import Notification, Reminder, ReminderStatus
from alliance.notify.tests.conftest import choose, run, utc

pytestmark = pytest.mark.django_db

NOON = utc(2026, 3, 20, 12)


def message_event(patient, key="message:1", now=NOON):
    return services.notify_event(
        patient=patient,
        kind=rules.MESSAGE,
        title="New message",
        body="You have a new message from your care team",
        url="/messages/",
        dedupe_key=key,
        now=now,
    )


class TestNotifyEvent:
    def test_it_notifies_at_once_by_email_and_in_the_app(
        self, alice, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            reminder = message_event(alice)
        reminder.refresh_from_db()
        assert reminder.status == ReminderStatus.SENT
        [message] = mail.outbox
        assert message.subject == "New message"
        assert "You have a new message from your care team" in message.body
        [note] = Notification.objects.filter(user=alice.user)
        assert (note.title, note.url) == ("New message", "/messages/")

    def test_it_notifies_once_for_one_key(self, alice, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            first = message_event(alice)
            again = message_event(alice)
        assert first.pk == again.pk
        assert Reminder.objects.count() == 1 and len(mail.outbox) == 1

    def test_it_is_not_sent_when_the_callers_transaction_rolls_back(self, alice):
        with pytest.raises(RuntimeError), transaction.atomic():
            message_event(alice)
            raise RuntimeError("the message was not saved after all")
        assert not Reminder.objects.exists() and mail.outbox == []

    def test_it_waits_for_the_end_of_quiet_hours(self, alice, django_capture_on_commit_callbacks):
        choose(alice, quiet_start=time(21), quiet_end=time(8))
        late = utc(2026, 3, 20, 22, 30)
        with django_capture_on_commit_callbacks(execute=True):
            reminder = message_event(alice, now=late)
        assert reminder.status == ReminderStatus.PENDING
        assert reminder.next_attempt_at == utc(2026, 3, 21, 8)
        assert mail.outbox == []
        run(utc(2026, 3, 21, 8))
        reminder.refresh_from_db()
        assert reminder.status == ReminderStatus.SENT and len(mail.outbox) == 1

    def test_it_is_held_back_by_the_daily_cap(self, alice, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            message_event(alice, key="message:1")
            second = message_event(alice, key="message:2", now=NOON + timedelta(hours=1))
        assert second.status == ReminderStatus.CAPPED
        assert second.reason == "daily limit reached"
        assert len(mail.outbox) == 1

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"all_off": True}, "all reminders off"),
            ({"paused_until": NOON.date()}, "paused"),
            (
                {"reminders": {rules.MESSAGE: rules.KindChoice(on=False)}},
                "turned off for this kind",
            ),
        ],
    )
    def test_it_records_why_it_was_not_sent(self, alice, changes, reason):
        choose(alice, **changes)
        reminder = message_event(alice)
        assert (reminder.status, reminder.reason) == (ReminderStatus.SKIPPED, reason)
        assert mail.outbox == [] and not Notification.objects.exists()

    def test_it_refuses_an_unknown_kind(self, alice):
        with pytest.raises(ValueError, match="horoscope"):
            services.notify_event(
                patient=alice, kind="horoscope", title="T", dedupe_key="k", now=NOON
            )
