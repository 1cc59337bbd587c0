"""The notify demo data: default settings for every demo patient, a short reminder history
in the centre and the delivery log; running it twice adds nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.notify import demo
from alliance.notify.models import (
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderSchedule,
    ReminderSettings,
)
from alliance.notify.tests.conftest import run

pytestmark = pytest.mark.django_db


class TestDemo:
    def test_it_gives_settings_and_a_history_once(self):
        call_command("demo")  # `alliance demo` runs the notify demo too
        now = timezone.now()
        assert demo.populate(now=now) == 0  # and a second run adds nothing
        first = demo.WITH_HISTORY * len(demo.DAYS_BACK)
        demo_patients = Patient.objects.filter(user__email__endswith="@demo.example")
        assert ReminderSettings.objects.filter(patient__in=demo_patients).count() == (
            demo_patients.count()
        )
        assert demo_patients.count() >= 30
        assert Reminder.objects.count() == first
        assert Notification.objects.count() == first
        assert DeliveryAttempt.objects.count() == 2 * first
        assert Notification.objects.filter(read_at__isnull=True).exists()
        assert DeliveryAttempt.objects.filter(status="opened").exists()

    def test_a_demo_patient_in_care_is_reminded_by_the_engine(self):
        call_command("demo")
        now = timezone.now()
        demo.populate(now=now)
        due = ReminderSchedule.objects.filter(kind="checkin").order_by("next_due_at")[0]
        summary = run(due.next_due_at)
        # Everyone in care, but those who already checked in that day (the check-in demo).
        expected = (
            Patient.objects.filter(episodes__status="active")
            .exclude(daily_checkins__local_date=due.next_local_date)
            .count()
        )
        assert summary["sent"] == expected > 10
        sent = Reminder.objects.filter(slot_start=due.next_due_at, status="sent")
        assert sent.count() == expected
