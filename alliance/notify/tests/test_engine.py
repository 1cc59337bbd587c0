"""The delivery engine: what is due, in each patient's own time zone and across
daylight-saving changes; caps, quiet hours, pause and all-off; exactly once; retries with
back-off; one failing channel never holding up another."""

from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from alliance.care import services as care_services
from alliance.care.models import Contact, Homework
from alliance.conftest import assignment, make_patient
from alliance.measures import services as measures_services
from alliance.measures.models import QuestionnaireRequest
from alliance.notify import rules, services
from alliance.notify.models import (
    AttemptStatus,
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderSchedule,
    ReminderStatus,
)
from alliance.notify.tests.conftest import START, choose, only, run, utc

pytestmark = pytest.mark.django_db


def reminders_of(patient, **filters):
    return list(Reminder.objects.filter(patient=patient, **filters).order_by("slot_start"))


def check_in(patient, day: date):
    from alliance.checkins.models import DailyCheckIn

    return DailyCheckIn.objects.create(patient=patient, local_date=day, mood=6)


class TestDefaults:
    def test_it_gives_a_new_patient_the_gentle_defaults(self, alice, episode):
        run(START)
        schedule = ReminderSchedule.objects.get(patient=alice, kind=rules.CHECKIN)
        assert schedule.enabled and schedule.time_of_day == time(19)
        assert schedule.next_due_at == utc(2026, 3, 20, 19)
        assert alice.reminder_settings.channels == ["email", "inapp"]
        assert (alice.reminder_settings.max_per_day, alice.reminder_settings.max_per_week) == (1, 5)


class TestCheckInReminder:
    def test_it_reminds_at_seven_in_the_evening_by_email_and_in_the_app(self, alice_in_care):
        assert run(utc(2026, 3, 20, 18, 59))["created"] == 0
        summary = run(utc(2026, 3, 20, 19))
        assert summary["created"] == 1 and summary["sent"] == 1
        [reminder] = reminders_of(alice_in_care)
        assert reminder.status == ReminderStatus.SENT and reminder.local_date == date(2026, 3, 20)
        [message] = mail.outbox
        assert message.to == ["alice@patients.example"]
        assert message.subject == "How are you today?"
        assert "/notifications/settings/" in message.body
        [note] = Notification.objects.filter(user=alice_in_care.user)
        assert note.title == "How are you today?" and note.read_at is None
        assert note.url == "/exercises/checkin/"
        assert sorted(
            DeliveryAttempt.objects.filter(reminder=reminder).values_list("channel", "status")
        ) == [("email", "sent"), ("inapp", "sent")]

    def test_it_does_not_remind_someone_who_already_checked_in_that_day(self, alice_in_care):
        check_in(alice_in_care, date(2026, 3, 20))
        summary = run(utc(2026, 3, 20, 19))
        assert summary["not_needed"] == 1 and summary["created"] == 0
        assert not reminders_of(alice_in_care) and mail.outbox == []
        # ...and asks again the next evening.
        assert run(utc(2026, 3, 21, 19))["sent"] == 1

    def test_it_keeps_seven_pm_local_across_the_spring_clock_change(self, alice_in_care):
        choose(alice_in_care, now=utc(2026, 3, 27, 12), max_per_week=10)
        for moment in [
            utc(2026, 3, 27, 19),
            utc(2026, 3, 28, 19),
            utc(2026, 3, 29, 18),
            utc(2026, 3, 29, 19),
            utc(2026, 3, 30, 18),
        ]:
            run(moment)
        assert [r.slot_start for r in reminders_of(alice_in_care)] == [
            utc(2026, 3, 27, 19),
            utc(2026, 3, 28, 19),
            utc(2026, 3, 29, 18),
            utc(2026, 3, 30, 18),
        ]
        assert len(mail.outbox) == 4

    def test_it_keeps_seven_pm_local_across_the_autumn_clock_change(self, alice_in_care):
        choose(alice_in_care, now=utc(2026, 10, 24, 12), max_per_week=10)
        for moment in [
            utc(2026, 10, 24, 18),
            utc(2026, 10, 25, 18),
            utc(2026, 10, 25, 19),
            utc(2026, 10, 26, 19),
        ]:
            run(moment)
        assert [(r.slot_start, r.local_date) for r in reminders_of(alice_in_care)] == [
            (utc(2026, 10, 24, 18), date(2026, 10, 24)),
            (utc(2026, 10, 25, 19), date(2026, 10, 25)),
            (utc(2026, 10, 26, 19), date(2026, 10, 26)),
        ]

    def test_it_sends_once_at_a_local_time_that_happens_twice(self, alice_in_care):
        choose(alice_in_care, now=utc(2026, 10, 24, 12), reminders=only(rules.CHECKIN, time(1, 30)))
        for minute in range(0, 150, 15):  # 00:00 to 02:30 UTC; 01:30 local happens twice
            run(utc(2026, 10, 25) + timedelta(minutes=minute))
        [reminder] = reminders_of(alice_in_care)
        assert reminder.slot_start == utc(2026, 10, 25, 0, 30)

    def test_it_sends_a_reminder_at_a_time_skipped_by_the_spring_change(self, alice_in_care):
        choose(alice_in_care, now=utc(2026, 3, 28, 12), reminders=only(rules.CHECKIN, time(1, 30)))
        run(utc(2026, 3, 29, 1, 30))  # 02:30 BST: the clocks jumped over 01:30
        [reminder] = reminders_of(alice_in_care)
        assert reminder.local_date == date(2026, 3, 29)

    def test_it_reminds_in_a_far_time_zone(self, alice_in_care):
        user = alice_in_care.user
        user.time_zone = "Pacific/Kiritimati"  # UTC+14
        user.save(update_fields=["time_zone"])
        services.reminder_schedules_refresh(patient=alice_in_care, now=START)
        # 19:00 on Saturday 21 March in Kiritimati is 05:00 UTC on the 21st.
        assert run(utc(2026, 3, 21, 4, 59))["created"] == 0
        run(utc(2026, 3, 21, 5))
        [reminder] = reminders_of(alice_in_care)
        assert reminder.local_date == date(2026, 3, 21)

    def test_it_does_not_remind_a_patient_without_an_active_episode(self, alice):
        services.reminder_settings_ensure(patient=alice, now=START)
        summary = run(utc(2026, 3, 20, 19))
        assert summary["not_needed"] == 1 and not reminders_of(alice)

    def test_it_skips_a_reminder_found_hours_late(self, alice_in_care):
        # The workers were down all evening: no reminder at midnight; the schedule moves on.
        summary = run(utc(2026, 3, 20, 23, 30))
        assert summary["not_needed"] == 1 and not reminders_of(alice_in_care)
        schedule = ReminderSchedule.objects.get(patient=alice_in_care, kind=rules.CHECKIN)
        assert schedule.next_due_at == utc(2026, 3, 21, 19)


class TestPatientChoices:
    def test_it_sends_nothing_while_paused_and_resumes_after(self, alice_in_care):
        choose(alice_in_care, paused_until=date(2026, 3, 21))
        run(utc(2026, 3, 20, 19))
        run(utc(2026, 3, 21, 19))
        assert not reminders_of(alice_in_care)
        run(utc(2026, 3, 22, 19))
        assert [r.local_date for r in reminders_of(alice_in_care)] == [date(2026, 3, 22)]

    def test_it_sends_nothing_when_all_are_off(self, alice_in_care):
        choose(alice_in_care, all_off=True)
        run(utc(2026, 3, 20, 19))
        assert not reminders_of(alice_in_care) and mail.outbox == []

    def test_it_uses_only_the_chosen_channels(self, alice_in_care):
        choose(alice_in_care, channels=("inapp",))
        run(utc(2026, 3, 20, 19))
        assert mail.outbox == []
        assert Notification.objects.filter(user=alice_in_care.user).count() == 1

    def test_it_only_reminds_on_chosen_days(self, alice_in_care):
        choose(alice_in_care, reminders=only(rules.CHECKIN, time(19), days=("mon",)))
        for day in range(20, 24):  # Friday 20 to Monday 23 March
            run(utc(2026, 3, day, 19))
        assert [r.local_date for r in reminders_of(alice_in_care)] == [date(2026, 3, 23)]

    def test_it_holds_a_reminder_in_quiet_hours_until_they_end(self, alice_in_care):
        reminders = only(rules.CHECKIN, time(7, 30))
        reminders[rules.HOMEWORK] = rules.KindChoice(on=True, days=rules.DAYS, at=time(12))
        choose(alice_in_care, reminders=reminders, quiet_start=time(21), quiet_end=time(8))
        run(utc(2026, 3, 21, 7, 30))
        [reminder] = reminders_of(alice_in_care)
        assert reminder.status == ReminderStatus.PENDING
        assert reminder.next_attempt_at == utc(2026, 3, 21, 8)
        assert mail.outbox == []
        run(utc(2026, 3, 21, 7, 59))
        assert mail.outbox == []
        run(utc(2026, 3, 21, 8))
        reminder.refresh_from_db()
        assert reminder.status == ReminderStatus.SENT and len(mail.outbox) == 1


class TestCaps:
    def test_it_sends_at_most_one_a_day_across_kinds_the_most_urgent_first(
        self, alice_in_care, episode
    ):
        reminders = only(rules.CHECKIN, time(19))
        reminders[rules.HOMEWORK] = rules.KindChoice(on=True, days=rules.DAYS, at=time(19))
        choose(alice_in_care, reminders=reminders)
        Homework.objects.create(episode=episode, text="Walk", source="supporter")
        summary = run(utc(2026, 3, 20, 19))
        assert summary["created"] == 1 and summary["capped"] == 1
        sent, capped = sorted(reminders_of(alice_in_care), key=lambda r: r.status != "sent")
        assert (sent.kind, sent.status) == (rules.HOMEWORK, ReminderStatus.SENT)
        assert (capped.kind, capped.status) == (rules.CHECKIN, ReminderStatus.CAPPED)
        assert capped.reason == "daily limit reached"
        assert len(mail.outbox) == 1

    def test_it_sends_at_most_the_weekly_cap_in_any_seven_days(self, alice_in_care):
        choose(alice_in_care, max_per_week=3)
        for day in range(20, 27):
            run(utc(2026, 3, day, 19))
        statuses = [r.status for r in reminders_of(alice_in_care)]
        assert statuses == ["sent"] * 3 + ["capped"] * 4
        run(utc(2026, 3, 27, 19))  # the 20th has left the window
        assert reminders_of(alice_in_care)[-1].status == ReminderStatus.SENT


class TestOtherKinds:
    def test_it_reminds_about_open_homework_only(self, alice_in_care, episode):
        choose(alice_in_care, reminders=only(rules.HOMEWORK, time(18)))
        run(utc(2026, 3, 20, 18))
        assert not reminders_of(alice_in_care)
        Homework.objects.create(episode=episode, text="Walk", source="supporter")
        run(utc(2026, 3, 21, 18))
        assert [r.kind for r in reminders_of(alice_in_care)] == [rules.HOMEWORK]
        Homework.objects.update(done_at=timezone.now())
        run(utc(2026, 3, 22, 18))
        assert len(reminders_of(alice_in_care)) == 1

    def test_it_reminds_about_an_open_module_until_the_plan_is_done(self, alice_in_care, episode):
        choose(alice_in_care, reminders=only(rules.MODULE, time(10)))
        run(utc(2026, 3, 21, 10))
        assert [r.kind for r in reminders_of(alice_in_care)] == [rules.MODULE]
        for key in ("start", "active", "thoughts", "extra"):
            row = assignment(episode, key)
            row.completed_at = timezone.now()
            row.save(update_fields=["completed_at"])
        run(utc(2026, 3, 22, 10))
        assert len(reminders_of(alice_in_care)) == 1

    def test_it_reminds_about_a_questionnaire_waiting(self, alice_in_care, sam):
        choose(alice_in_care, reminders=only(rules.QUESTIONNAIRE, time(10)))
        run(utc(2026, 3, 21, 10))
        assert not reminders_of(alice_in_care)
        measures_services.questionnaire_send(
            patient=alice_in_care, instrument="phq9", actor=sam.user
        )
        QuestionnaireRequest.objects.update(available_from=utc(2026, 3, 21, 12))
        run(utc(2026, 3, 22, 10))
        assert [r.kind for r in reminders_of(alice_in_care)] == [rules.QUESTIONNAIRE]

    def test_it_reminds_about_an_appointment_in_the_next_24_hours(self, alice_in_care, episode):
        choose(alice_in_care, reminders=only(rules.APPOINTMENT, time(9)))
        Contact.objects.create(episode=episode, kind="phone", scheduled_at=utc(2026, 3, 22, 14))
        run(utc(2026, 3, 21, 9))  # 29 hours before
        assert not reminders_of(alice_in_care)
        run(utc(2026, 3, 22, 9))  # 5 hours before
        assert [r.kind for r in reminders_of(alice_in_care)] == [rules.APPOINTMENT]


class TestExactlyOnce:
    def test_it_makes_one_reminder_when_the_finder_runs_twice(self, alice_in_care):
        services.reminders_find(now=utc(2026, 3, 20, 19))
        ReminderSchedule.objects.filter(patient=alice_in_care, kind=rules.CHECKIN).update(
            next_due_at=utc(2026, 3, 20, 19), next_local_date=date(2026, 3, 20)
        )  # as if a second worker had read the schedule before the first moved it on
        services.reminders_find(now=utc(2026, 3, 20, 19))
        assert len(reminders_of(alice_in_care)) == 1

    def test_it_sends_once_when_a_batch_is_delivered_twice(self, alice_in_care):
        now = utc(2026, 3, 20, 19)
        services.reminders_find(now=now)
        [batch] = services.reminders_dispatch(now=now)
        first = services.reminders_deliver(reminder_ids=batch, now=now)
        again = services.reminders_deliver(reminder_ids=batch, now=now)
        assert (first.sent, again.claimed) == (1, 0)
        assert len(mail.outbox) == 1
        assert Notification.objects.count() == 1

    def test_it_leaves_a_claimed_batch_to_the_worker_holding_it(self, alice_in_care):
        now = utc(2026, 3, 20, 19)
        services.reminders_find(now=now)
        [batch] = services.reminders_dispatch(now=now)
        services.Batch(batch, now)  # another worker claimed it and is still working
        assert services.reminders_deliver(reminder_ids=batch, now=now).claimed == 0
        assert mail.outbox == []

    def test_it_takes_over_after_a_lease_runs_out_without_resending(self, alice_in_care, settings):
        settings.NOTIFY_LEASE_SECONDS = 60
        now = utc(2026, 3, 20, 19)
        services.reminders_find(now=now)
        [batch] = services.reminders_dispatch(now=now)
        claim = services.Batch(batch, now)
        # The first worker e-mailed the patient, recorded it, and was killed.
        [reminder] = claim.held()
        DeliveryAttempt.objects.create(
            reminder=reminder, channel="email", status=AttemptStatus.SENT, at=now
        )
        assert services.reminders_dispatch(now=now + timedelta(seconds=59)) == []
        later = now + timedelta(seconds=61)
        [retaken] = services.reminders_dispatch(now=later)
        report = services.reminders_deliver(reminder_ids=retaken, now=later)
        assert report.sent == 1
        assert mail.outbox == []  # not e-mailed twice
        assert Notification.objects.count() == 1
        assert DeliveryAttempt.objects.filter(status="sent").count() == 2

    def test_it_refuses_a_second_sent_record_in_the_database(self, alice_in_care):
        run(utc(2026, 3, 20, 19))
        reminder = Reminder.objects.get()
        with pytest.raises(IntegrityError):
            DeliveryAttempt.objects.create(
                reminder=reminder, channel="email", status="sent", at=timezone.now()
            )

    def test_it_finds_due_reminders_in_a_fixed_number_of_queries(
        self, riverside, north, sam, programme, django_assert_num_queries
    ):
        def patients(count, start, made_at):
            made = []
            for n in range(start, start + count):
                patient = make_patient(riverside, north, f"P{n} Many", supporter=sam)
                care_services.episode_start(
                    patient=patient,
                    programme=programme,
                    care_model="blended",
                    supporter=sam,
                    actor=sam.user,
                )
                services.reminder_settings_ensure(patient=patient, now=made_at)
                made.append(patient)
            return made

        patients(2, 0, START)
        with django_assert_num_queries(6) as few:
            services.reminders_find(now=utc(2026, 3, 20, 19))
        patients(12, 10, utc(2026, 3, 21, 12))
        with django_assert_num_queries(len(few.captured_queries)):
            report = services.reminders_find(now=utc(2026, 3, 21, 19))
        assert report.created == 14


class FailingBackend:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


class TestFailures:
    def test_it_delivers_in_the_app_when_email_fails_and_retries_email_with_back_off(
        self, alice_in_care, settings
    ):
        settings.EMAIL_BACKEND = "alliance.notify.tests.test_engine.FailingBackend"
        now = utc(2026, 3, 20, 19)
        run(now)
        [reminder] = reminders_of(alice_in_care)
        assert Notification.objects.count() == 1  # in-app did not wait for e-mail
        assert reminder.status == ReminderStatus.PENDING and reminder.failures == 1
        assert reminder.next_attempt_at == now + timedelta(minutes=1)
        failed = DeliveryAttempt.objects.get(channel="email")
        assert failed.status == "failed" and "mail server down" in failed.detail

        delays = []
        moment = now
        while reminder.status == ReminderStatus.PENDING:
            moment = reminder.next_attempt_at
            run(moment)
            reminder.refresh_from_db()
            delays.append(reminder.next_attempt_at - moment)
        assert reminder.status == ReminderStatus.FAILED
        assert DeliveryAttempt.objects.filter(channel="email", status="failed").count() == 5
        assert [d.total_seconds() // 60 for d in delays[:3]] == [2, 4, 8]
        assert Notification.objects.count() == 1  # never delivered twice in the app

    def test_it_sends_the_email_on_a_retry_when_the_server_is_back(self, alice_in_care, settings):
        settings.EMAIL_BACKEND = "alliance.notify.tests.test_engine.FailingBackend"
        now = utc(2026, 3, 20, 19)
        run(now)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        run(now + timedelta(minutes=1))
        [reminder] = reminders_of(alice_in_care)
        assert reminder.status == ReminderStatus.SENT and len(mail.outbox) == 1
        assert [a.status for a in reminder.attempts.filter(channel="email")] == ["failed", "sent"]

    def test_it_skips_a_reminder_the_patient_turned_off_before_it_went(self, alice_in_care):
        now = utc(2026, 3, 20, 19)
        services.reminders_find(now=now)
        choose(alice_in_care, now=now, all_off=True)
        [batch] = services.reminders_dispatch(now=now)
        services.reminders_deliver(reminder_ids=batch, now=now)
        [reminder] = reminders_of(alice_in_care)
        assert reminder.status == ReminderStatus.SKIPPED and reminder.reason == "all reminders off"
        assert mail.outbox == []
