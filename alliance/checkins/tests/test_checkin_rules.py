"""The daily check-in's rules: the pure ones (daily.py) and the service that saves."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from alliance.checkins import daily, selectors, services
from alliance.checkins.models import CheckInKey, DailyCheckIn

NOON = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)  # 12:00 in London (BST)
TODAY = date(2026, 5, 12)


def save(patient, *, now=NOON, **fields):
    fields.setdefault("mood", 6)
    return services.checkin_save(patient=patient, actor=patient.user, now=now, **fields)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


class TestCleanAnswers:
    def test_it_keeps_valid_answers_in_the_stored_types(self):
        answers = daily.clean_answers(
            mood="7",
            feelings=["Tired", "calm", "tired"],
            sleep_hours="6,5",
            activity="  A walk  ",
            note="Fine.",
        )
        assert answers == daily.Answers(
            mood=7,
            feelings=["calm", "tired"],
            sleep_hours=Decimal("6.5"),
            activity="A walk",
            note="Fine.",
        )

    @pytest.mark.parametrize("mood", [11, -1, "11", "x", "", None, True, 7.5, "7.5"])
    def test_it_refuses_a_mood_outside_0_to_10(self, mood):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=mood)
        [message] = errors_of(excinfo)["mood"]
        assert message.startswith("Mood:")
        assert "0 to 10" in message

    @pytest.mark.parametrize("mood", [0, 10, "0", " 10 "])
    def test_it_accepts_both_ends_of_the_scale(self, mood):
        assert daily.clean_answers(mood=mood).mood == int(str(mood).strip())

    def test_it_refuses_an_unknown_feeling_by_name(self):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=5, feelings=["calm", "sadd"])
        assert errors_of(excinfo)["feelings"] == [
            "Feelings: “sadd” is not one of the words to choose from."
        ]

    @pytest.mark.parametrize("feelings", ["calm", [1], {"calm": 1}.values() and [None]])
    def test_it_refuses_feelings_that_are_not_a_list_of_words(self, feelings):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=5, feelings=feelings)
        assert errors_of(excinfo)["feelings"][0].startswith("Feelings:")

    @pytest.mark.parametrize("hours", ["25", "-1", "24.1", "lots", "nan", "inf", "7.25"])
    def test_it_refuses_sleep_outside_a_day_or_too_precise(self, hours):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=5, sleep_hours=hours)
        assert errors_of(excinfo)["sleep_hours"][0].startswith("Sleep:")

    @pytest.mark.parametrize("hours", ["0", "24", "7.5", 8, Decimal("6.0"), 6.5])
    def test_it_accepts_sleep_from_0_to_24_hours(self, hours):
        assert daily.clean_answers(mood=5, sleep_hours=hours).sleep_hours == Decimal(str(hours))

    def test_it_refuses_a_note_over_1000_characters_and_an_activity_over_200(self):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=5, note="x" * 1001, activity="y" * 201)
        errors = errors_of(excinfo)
        assert errors["note"] == ["Note: keep this to 1000 characters or fewer."]
        assert errors["activity"] == ["Activity: keep this to 200 characters or fewer."]

    def test_it_names_every_wrong_field_at_once(self):
        with pytest.raises(ValidationError) as excinfo:
            daily.clean_answers(mood=11, feelings=["nope"], sleep_hours="25", note="x" * 1001)
        assert set(errors_of(excinfo)) == {"mood", "feelings", "sleep_hours", "note"}


class TestLocalDate:
    """The day is the patient's own: the same moment is two different days around the world,
    and daylight-saving changes do not move it."""

    def test_it_is_the_next_day_in_auckland_and_the_same_day_in_london_at_2330_utc(self):
        moment = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
        assert daily.local_date_at(moment, "Pacific/Auckland") == date(2026, 1, 16)
        assert daily.local_date_at(moment, "Europe/London") == date(2026, 1, 15)

    @pytest.mark.parametrize(
        ("moment", "expected"),
        [
            # 29 March 2026: clocks go forward at 01:00 UTC (GMT -> BST).
            (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
            (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),
            (datetime(2026, 3, 29, 22, 59, tzinfo=UTC), date(2026, 3, 29)),  # 23:59 BST
            (datetime(2026, 3, 29, 23, 0, tzinfo=UTC), date(2026, 3, 30)),  # 00:00 BST
            # 25 October 2026: clocks go back at 01:00 UTC (BST -> GMT).
            (datetime(2026, 10, 24, 22, 59, tzinfo=UTC), date(2026, 10, 24)),  # 23:59 BST
            (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), date(2026, 10, 25)),  # 00:00 BST
            (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # 23:30 GMT
            (datetime(2026, 10, 26, 0, 0, tzinfo=UTC), date(2026, 10, 26)),
        ],
    )
    def test_it_is_right_across_the_daylight_saving_changes_in_london(self, moment, expected):
        assert daily.local_date_at(moment, "Europe/London") == expected

    def test_it_falls_back_to_the_site_zone_for_an_unknown_zone(self):
        moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
        assert daily.local_date_at(moment, "Mars/Olympus") == date(2026, 7, 2)  # BST

    def test_it_refuses_a_naive_moment(self):
        with pytest.raises(ValueError):
            daily.local_date_at(datetime(2026, 1, 1, 12, 0), "Europe/London")


class TestStreak:
    def days(self, *offsets):
        return [TODAY - timedelta(days=n) for n in offsets]

    @pytest.mark.parametrize(
        ("offsets", "expected"),
        [
            ((), 0),
            ((0,), 1),
            ((0, 1, 2), 3),
            ((1, 2, 3), 3),  # ending yesterday: today is still open
            ((2, 3, 4), 0),  # a gap: no run now
            ((0, 1, 3, 4, 5), 2),
            ((0, 2), 1),
        ],
    )
    def test_it_counts_days_in_a_row_ending_today_or_yesterday(self, offsets, expected):
        assert daily.streak_from(self.days(*offsets), TODAY) == expected

    def test_it_ignores_days_after_today(self):
        future = [TODAY + timedelta(days=1), *self.days(0, 1)]
        assert daily.streak_from(future, TODAY) == 2

    def test_it_reads_only_as_far_as_the_first_gap(self):
        read = []

        def days():
            for day in self.days(0, 1, 5, 6, 7, 8):
                read.append(day)
                yield day

        assert daily.streak_from(days(), TODAY) == 2
        assert len(read) == 3


class TestWelcomeBack:
    @pytest.mark.parametrize(
        ("last", "expected"),
        [(None, False), (0, False), (1, False), (3, False), (4, True), (30, True)],
    )
    def test_it_welcomes_back_after_four_days_without_a_check_in(self, last, expected):
        day = None if last is None else TODAY - timedelta(days=last)
        assert daily.welcome_back_due(day, TODAY) is expected

    def test_its_words_are_kind_and_never_count_what_was_missed(self):
        texts = [
            daily.streak_message(streak=s, done_today=d, welcome_back=w)
            for s in (0, 1, 2, 9)
            for d in (True, False)
            for w in (True, False)
        ]
        joined = " ".join(texts).lower()
        for unkind in ("broke", "missed", "lost", "failed", "streak"):
            assert unkind not in joined
        assert daily.streak_message(streak=3, done_today=True, welcome_back=False) == (
            "3 days in a row — nice."
        )
        assert "Welcome back" in daily.streak_message(streak=0, done_today=False, welcome_back=True)


class TestCheckinSave:
    def test_it_makes_todays_check_in_in_the_patients_zone(self, alice):
        checkin, created = save(
            alice, feelings=["calm"], sleep_hours="7.5", activity="Walk", note="Secret words"
        )
        assert created is True
        assert checkin.local_date == TODAY
        stored = DailyCheckIn.objects.get()
        assert (stored.mood, stored.feelings, stored.sleep_hours) == (6, ["calm"], Decimal("7.5"))
        assert (stored.activity, stored.note) == ("Walk", "Secret words")

    def test_it_keeps_the_note_and_activity_encrypted_at_rest(self, alice):
        save(alice, activity="Therapy walk", note="Secret words")
        with connection.cursor() as cursor:
            cursor.execute("SELECT activity, note FROM checkins_dailycheckin")
            raw = " ".join(cursor.fetchone())
        assert "Secret" not in raw and "Therapy" not in raw

    def test_it_keeps_one_check_in_per_day_and_changes_it_that_day(self, alice):
        first, _ = save(alice, mood=3, note="Morning")
        second, created = save(alice, mood=7, note="", now=NOON + timedelta(hours=8))
        assert created is False
        assert second.pk == first.pk
        stored = DailyCheckIn.objects.get()
        assert (stored.mood, stored.note) == (7, "")

    def test_it_starts_a_new_day_at_the_patients_midnight(self, alice):
        save(alice, mood=3, now=datetime(2026, 5, 12, 22, 59, tzinfo=UTC))  # 23:59 BST
        _, created = save(alice, mood=4, now=datetime(2026, 5, 12, 23, 0, tzinfo=UTC))
        assert created is True
        assert list(
            DailyCheckIn.objects.order_by("local_date").values_list("local_date", "mood")
        ) == [
            (date(2026, 5, 12), 3),
            (date(2026, 5, 13), 4),
        ]

    def test_it_uses_the_patients_own_zone_auckland(self, alice):
        alice.user.time_zone = "Pacific/Auckland"
        alice.user.save()
        checkin, _ = save(alice, now=datetime(2026, 1, 15, 23, 30, tzinfo=UTC))
        assert checkin.local_date == date(2026, 1, 16)

    def test_it_refuses_a_change_to_an_earlier_day_and_keeps_it(self, alice):
        save(alice, mood=3, now=NOON - timedelta(days=1))
        with pytest.raises(ValidationError) as excinfo:
            save(alice, mood=9, local_date=TODAY - timedelta(days=1))
        assert errors_of(excinfo) == {
            "local_date": ["Date: a check-in can only be changed on its own day."]
        }
        assert DailyCheckIn.objects.get().mood == 3

    def test_it_refuses_a_check_in_dated_in_the_future(self, alice):
        with pytest.raises(ValidationError) as excinfo:
            save(alice, local_date=TODAY + timedelta(days=1))
        assert errors_of(excinfo) == {
            "local_date": ["Date: a check-in cannot be dated in the future."]
        }
        assert not DailyCheckIn.objects.exists()

    def test_it_refuses_a_check_in_for_another_patient(self, alice, bob):
        with pytest.raises(ValidationError) as excinfo:
            services.checkin_save(patient=bob, actor=alice.user, mood=5, now=NOON)
        assert errors_of(excinfo) == {"patient": ["Patient: you can only check in for yourself."]}
        assert not DailyCheckIn.objects.exists()

    def test_it_refuses_staff_checking_in_for_a_patient(self, alice, sam):
        with pytest.raises(ValidationError) as excinfo:
            services.checkin_save(patient=alice, actor=sam.user, mood=5, now=NOON)
        assert "patient" in errors_of(excinfo)
        assert not DailyCheckIn.objects.exists()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"mood": 11}, "mood"),
            ({"feelings": ["sadd"]}, "feelings"),
            ({"note": "x" * 1001}, "note"),
            ({"sleep_hours": "25"}, "sleep_hours"),
            ({"client_key": "short"}, "client_key"),
        ],
    )
    def test_it_changes_nothing_on_bad_input(self, alice, fields, field):
        save(alice, mood=4, note="Kept")
        with pytest.raises(ValidationError) as excinfo:
            save(alice, now=NOON + timedelta(hours=1), **fields)
        assert field in errors_of(excinfo)
        stored = DailyCheckIn.objects.get()
        assert (stored.mood, stored.note) == (4, "Kept")

    def test_it_adds_a_missing_past_day_sent_late_up_to_14_days(self, alice):
        checkin, created = save(alice, local_date=TODAY - timedelta(days=14))
        assert created and checkin.local_date == TODAY - timedelta(days=14)
        with pytest.raises(ValidationError) as excinfo:
            save(alice, local_date=TODAY - timedelta(days=15))
        assert errors_of(excinfo)["local_date"][0].startswith("Date:")
        assert DailyCheckIn.objects.count() == 1

    def test_it_dates_a_check_in_made_offline_by_when_it_was_made(self, alice):
        made = datetime(2026, 5, 11, 22, 30, tzinfo=UTC)  # 23:30 BST on the 11th
        checkin, created = save(alice, made_at=made)
        assert created and checkin.local_date == date(2026, 5, 11)

    def test_it_refuses_a_check_in_made_in_the_future(self, alice):
        with pytest.raises(ValidationError) as excinfo:
            save(alice, made_at=NOON + timedelta(hours=1))
        assert errors_of(excinfo) == {"made_at": ["Made at: this time is in the future."]}
        assert not DailyCheckIn.objects.exists()

    def test_it_forgives_a_device_clock_a_few_minutes_fast(self, alice):
        checkin, _ = save(alice, made_at=NOON + timedelta(minutes=5))
        assert checkin.local_date == TODAY

    def test_it_uses_the_real_clock_by_default(self, alice):
        # 23:30 UTC on 28 March 2026 is still the 28th in London (GMT), the 29th in Auckland.
        with time_machine.travel(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), tick=False):
            checkin, _ = services.checkin_save(patient=alice, actor=alice.user, mood=5)
            assert checkin.local_date == date(2026, 3, 28)
        with time_machine.travel(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), tick=False):
            checkin, _ = services.checkin_save(patient=alice, actor=alice.user, mood=5)
            assert checkin.local_date == date(2026, 10, 25)


class TestIdempotentReplay:
    def test_it_returns_the_stored_check_in_unchanged_for_a_used_key(self, alice):
        first, created = save(alice, mood=4, client_key="key-0000001")
        replay, replay_created = save(alice, mood=9, client_key="key-0000001")
        assert created is True and replay_created is False
        assert replay.pk == first.pk and replay.mood == 4
        assert DailyCheckIn.objects.get().mood == 4

    def test_it_recognises_the_key_of_an_earlier_change_however_late(self, alice):
        save(alice, mood=4, client_key="key-first-1")
        save(alice, mood=5, client_key="key-change-2", now=NOON + timedelta(hours=1))
        save(alice, mood=8, client_key="key-change-3", now=NOON + timedelta(hours=2))
        # The retry of the second save arrives last: it must not undo the third.
        replay, created = save(
            alice, mood=5, client_key="key-change-2", now=NOON + timedelta(hours=3)
        )
        assert created is False and replay.mood == 8
        assert DailyCheckIn.objects.get().mood == 8
        assert CheckInKey.objects.count() == 3

    def test_it_replays_a_key_on_a_later_day_without_refusing(self, alice):
        save(alice, mood=4, client_key="key-offline-1")
        replay, created = save(
            alice, mood=4, client_key="key-offline-1", now=NOON + timedelta(days=3)
        )
        assert created is False and replay.local_date == TODAY

    def test_it_keeps_keys_per_patient(self, alice, bob):
        save(alice, client_key="shared-key-1")
        _, created = services.checkin_save(
            patient=bob, actor=bob.user, mood=2, client_key="shared-key-1", now=NOON
        )
        assert created is True
        assert DailyCheckIn.objects.count() == 2

    def test_it_runs_a_fixed_number_of_queries(self, alice, django_assert_num_queries):
        """Savepoints (the atomic block and the race guard), the key, the day's row locked,
        the write, the key recorded: 8, however long the history."""
        patient = type(alice).objects.select_related("user").get(pk=alice.pk)
        with django_assert_num_queries(8):
            save(patient, client_key="first-key-01")
        for n in range(1, 60):
            DailyCheckIn.objects.create(patient=alice, local_date=TODAY - timedelta(days=n), mood=5)
        with django_assert_num_queries(8):
            save(patient, client_key="second-key-1", now=NOON + timedelta(hours=1))
        # A replay only reads and answers (inside the test's transaction: a savepoint).
        with django_assert_num_queries(3):
            save(patient, client_key="second-key-1")


@pytest.mark.django_db(transaction=True)
class TestConcurrentSaves:
    def test_it_saves_once_when_the_same_key_arrives_twice_at_once(self, alice):
        """Two requests with one key, racing: one check-in, and both answer with it."""
        if connection.vendor == "sqlite":
            pytest.skip("SQLite serialises writers; the race needs PostgreSQL (DATABASE_URL).")
        barrier = threading.Barrier(2)
        results = []

        def worker():
            from django.db import connections

            try:
                barrier.wait()
                results.append(save(alice, mood=5, client_key="racing-key-1"))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert DailyCheckIn.objects.count() == 1
        assert sorted(created for _, created in results) == [False, True]
        assert len({c.pk for c, _ in results}) == 1


class TestSelectors:
    def test_they_read_the_streak_last_day_and_welcome_back_in_one_query_each(
        self, alice, django_assert_num_queries
    ):
        for n in (0, 1, 2, 6, 7):
            DailyCheckIn.objects.create(patient=alice, local_date=TODAY - timedelta(days=n), mood=5)
        with django_assert_num_queries(1):
            assert selectors.streak(alice, TODAY) == 3
        with django_assert_num_queries(1):
            assert selectors.last_checkin_date(alice) == TODAY
        with django_assert_num_queries(1):
            assert selectors.needs_welcome_back(alice, TODAY + timedelta(days=4)) is True
        with django_assert_num_queries(1):
            assert selectors.needs_welcome_back(alice, TODAY + timedelta(days=3)) is False
        with django_assert_num_queries(1):
            days = [
                c.local_date
                for c in selectors.checkins_between(alice, TODAY - timedelta(days=6), TODAY)
            ]
        assert days == [TODAY - timedelta(days=n) for n in (6, 2, 1, 0)]

    def test_the_status_tells_today_streak_and_welcome_back_in_one_query(
        self, alice, django_assert_num_queries
    ):
        for n in range(1, 30):
            DailyCheckIn.objects.create(
                patient=alice, local_date=TODAY - timedelta(days=n), mood=n % 11
            )
        with django_assert_num_queries(1):
            status = selectors.checkin_status(alice, TODAY)
        assert (status.done_today, status.streak, status.welcome_back) == (False, 29, False)
        with django_assert_num_queries(1):
            later = selectors.checkin_status(alice, TODAY + timedelta(days=5))
        assert (later.done_today, later.streak, later.welcome_back) == (False, 0, True)
        assert later.message.startswith("Welcome back")

    def test_a_first_check_in_is_never_a_welcome_back(self, alice):
        status = selectors.checkin_status(alice, TODAY)
        assert (status.streak, status.last_date, status.welcome_back) == (0, None, False)
