"""Reads other apps rely on: unanswered, unread, due times, overdue threads, since a date."""

from datetime import UTC, datetime, timedelta

from alliance.accounts.models import Patient
from alliance.messaging import selectors, services
from alliance.messaging.models import MessagingSettings, Thread
from alliance.messaging.tests.conftest import MONDAY, send


class TestThreadFor:
    def test_it_is_unsaved_until_someone_writes(self, alice):
        thread = selectors.thread_for(alice)
        assert thread.pk is None and thread.patient is alice
        assert Thread.objects.count() == 0
        send(alice, alice)
        assert selectors.thread_for(alice).pk == Thread.objects.get().pk


class TestUnansweredMessages:
    def test_it_lists_patient_messages_since_the_last_reply(self, alice, sam, bob):
        send(alice, alice, "Old question", now=MONDAY)
        send(alice, sam, "Answer", now=MONDAY + timedelta(hours=1))
        send(alice, alice, "New one", now=MONDAY + timedelta(hours=2))
        send(alice, alice, "And another", now=MONDAY + timedelta(hours=3))
        send(bob, bob, "Bob's", now=MONDAY)
        bodies = [m.body for m in selectors.unanswered_messages(alice)]
        assert bodies == ["New one", "And another"]

    def test_it_is_empty_when_answered_or_without_a_thread(self, alice, sam):
        assert list(selectors.unanswered_messages(alice)) == []
        send(alice, alice, "Q", now=MONDAY)
        send(alice, sam, "A", now=MONDAY + timedelta(hours=1))
        assert list(selectors.unanswered_messages(alice)) == []


class TestUnreadForPatient:
    def test_it_counts_staff_messages_after_the_patients_read_mark(self, alice, sam):
        send(alice, sam, "One", now=MONDAY)
        send(alice, sam, "Two", now=MONDAY + timedelta(hours=1))
        assert [m.body for m in selectors.unread_for_patient(alice)] == ["One", "Two"]
        services.thread_mark_read(
            thread=selectors.thread_for(alice), user=alice.user, at=MONDAY + timedelta(minutes=30)
        )
        assert [m.body for m in selectors.unread_for_patient(alice)] == ["Two"]
        send(alice, alice, "Thanks", now=MONDAY + timedelta(hours=2))
        assert selectors.unread_for_patient(alice).count() == 0


class TestReplyDueAt:
    def test_it_uses_the_services_target_in_working_days(self, alice, riverside):
        friday = datetime(2025, 3, 14, 16, 0, tzinfo=UTC)
        message = send(alice, alice, "Q", now=friday)
        assert selectors.reply_due_at(message) == datetime(2025, 3, 19, tzinfo=UTC)
        MessagingSettings.objects.create(service=riverside, reply_target_working_days=1)
        assert selectors.reply_due_at(message) == datetime(2025, 3, 18, tzinfo=UTC)


class TestOverdueThreads:
    def test_it_lists_threads_past_their_due_time_most_overdue_first(self, alice, bob, carol, sam):
        send(alice, alice, "Waiting long", now=MONDAY)
        send(bob, bob, "Waiting longer", now=MONDAY - timedelta(days=7))
        send(carol, carol, "Other service", now=MONDAY)
        patients = Patient.objects.filter(pk__in=[alice.pk, bob.pk])
        now = datetime(2025, 3, 13, 9, 0, tzinfo=UTC)  # Thursday: Monday's is due
        overdue = selectors.overdue_threads(patients, now)
        assert [t.patient_id for t in overdue] == [bob.pk, alice.pk]
        assert overdue[1].reply_due_at == datetime(2025, 3, 13, tzinfo=UTC)
        assert selectors.overdue_threads(patients, datetime(2025, 3, 12, 23, tzinfo=UTC)) == [
            overdue[0]
        ]

    def test_a_reply_takes_a_thread_off_the_list(self, alice, sam):
        send(alice, alice, "Q", now=MONDAY)
        send(alice, sam, "A", now=MONDAY + timedelta(days=5))
        later = MONDAY + timedelta(days=10)
        assert selectors.overdue_threads(Patient.objects.all(), later) == []

    def test_it_runs_two_queries_whatever_the_number_of_threads(
        self, riverside, north, sam, django_assert_num_queries
    ):
        from alliance.conftest import make_patient

        for n in range(6):
            patient = make_patient(riverside, north, f"P{n} Person", supporter=sam)
            send(patient, patient, "Q", now=MONDAY)
        with django_assert_num_queries(2):
            overdue = selectors.overdue_threads(Patient.objects.all(), MONDAY + timedelta(days=9))
        assert len(overdue) == 6


class TestMessagesSince:
    def test_it_lists_the_threads_messages_from_a_moment_on(self, alice, sam):
        send(alice, alice, "Before", now=MONDAY)
        send(alice, sam, "After", now=MONDAY + timedelta(days=2))
        since = MONDAY + timedelta(days=1)
        assert [m.body for m in selectors.messages_since(alice, since)] == ["After"]
        assert len(selectors.messages_since(alice, None)) == 2


class TestWeekMessages:
    def test_it_says_unread_and_when_to_expect_a_reply_in_one_query(
        self, alice, sam, django_assert_num_queries
    ):
        send(alice, alice, "Q", now=MONDAY)
        send(alice, sam, "A", now=MONDAY + timedelta(hours=1))
        send(alice, alice, "Another", now=MONDAY + timedelta(hours=2))
        send(alice, sam, "Two", now=MONDAY + timedelta(hours=3))
        send(alice, sam, "Three", now=MONDAY + timedelta(hours=4))
        with django_assert_num_queries(1):
            summary = selectors.week_messages(alice, now=MONDAY + timedelta(hours=5))
        assert summary.unread == 2 and summary.has_thread
        assert summary.reply.awaiting_since is None and summary.reply.target_days == 2

    def test_it_gives_the_due_day_while_waiting(self, alice):
        send(alice, alice, "Q", now=MONDAY)
        summary = selectors.week_messages(alice, now=MONDAY)
        assert summary.reply.due_on.isoformat() == "2025-03-12"
        assert not summary.reply.overdue
        late = selectors.week_messages(alice, now=MONDAY + timedelta(days=4))
        assert late.reply.overdue

    def test_it_works_before_any_message(self, alice, riverside):
        MessagingSettings.objects.create(service=riverside, reply_target_working_days=3)
        summary = selectors.week_messages(alice)
        assert summary.unread == 0 and not summary.has_thread
        assert summary.reply.target_days == 3
