"""The reminder rules: validation, slots across daylight-saving changes, quiet hours, caps
and back-off. Pure functions, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alliance.notify import rules

LONDON = ZoneInfo("Europe/London")
AUCKLAND = ZoneInfo("Pacific/Auckland")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14, the far side of the date line
TODAY = date(2026, 3, 20)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def valid(**changes) -> rules.SettingsData:
    return rules.default_settings().with_changes(**changes)


def with_kind(data: rules.SettingsData, kind: str, **choice) -> rules.SettingsData:
    reminders = dict(data.reminders)
    reminders[kind] = rules.KindChoice(**{"on": True, "days": rules.DAYS, **choice})
    return data.with_changes(reminders=reminders)


class TestValidateSettings:
    def test_it_accepts_the_gentle_defaults(self):
        defaults = rules.default_settings()
        assert rules.validate_settings(defaults, today=TODAY) == {}
        assert defaults.max_per_day == 1 and defaults.max_per_week == 5
        assert defaults.reminders[rules.CHECKIN] == rules.KindChoice(True, rules.DAYS, time(19))
        assert defaults.channels == (rules.EMAIL, rules.INAPP)

    def test_it_refuses_an_unknown_channel_naming_it(self):
        errors = rules.validate_settings(valid(channels=("email", "sms")), today=TODAY)
        assert list(errors) == ["channels"]
        assert "sms" in errors["channels"][0]

    def test_it_refuses_the_null_channel_which_is_for_tests_only(self):
        errors = rules.validate_settings(valid(channels=("null",)), today=TODAY)
        assert list(errors) == ["channels"]

    def test_it_refuses_no_channel_while_reminders_are_on(self):
        errors = rules.validate_settings(valid(channels=()), today=TODAY)
        assert errors == {
            "channels": ["Choose at least one way to be reminded, or turn all reminders off."]
        }

    def test_it_allows_no_channel_when_everything_is_off(self):
        assert rules.validate_settings(valid(channels=(), all_off=True), today=TODAY) == {}

    def test_it_refuses_an_unknown_kind(self):
        data = valid(reminders={**valid().reminders, "horoscope": rules.KindChoice(True)})
        errors = rules.validate_settings(data, today=TODAY)
        assert list(errors) == ["reminders"] and "horoscope" in errors["reminders"][0]

    def test_it_refuses_an_unknown_day(self):
        data = with_kind(valid(), rules.MODULE, days=("mon", "funday"), at=time(9))
        errors = rules.validate_settings(data, today=TODAY)
        assert list(errors) == ["reminders.module.days"]
        assert "funday" in errors["reminders.module.days"][0]

    def test_it_refuses_a_reminder_on_no_day(self):
        data = with_kind(valid(), rules.HOMEWORK, days=(), at=time(9))
        assert list(rules.validate_settings(data, today=TODAY)) == ["reminders.homework.days"]

    def test_it_refuses_a_scheduled_reminder_without_a_time(self):
        data = with_kind(valid(), rules.MODULE, at=None)
        assert list(rules.validate_settings(data, today=TODAY)) == ["reminders.module.time"]

    def test_it_refuses_quiet_hours_that_cover_every_reminder_time(self):
        data = with_kind(valid(), rules.MODULE, at=time(7, 30)).with_changes(
            quiet_start=time(18), quiet_end=time(8)
        )
        errors = rules.validate_settings(data, today=TODAY)
        assert list(errors) == ["quiet_start"]
        message = errors["quiet_start"][0]
        assert "18:00 to 08:00" in message and "07:30, 19:00" in message

    def test_it_accepts_quiet_hours_that_leave_one_reminder_time_free(self):
        data = with_kind(valid(), rules.MODULE, at=time(12)).with_changes(
            quiet_start=time(18), quiet_end=time(8)
        )
        assert rules.validate_settings(data, today=TODAY) == {}

    def test_it_ignores_the_times_of_kinds_that_are_off(self):
        data = valid(quiet_start=time(21), quiet_end=time(8))
        assert rules.validate_settings(data, today=TODAY) == {}

    def test_it_wants_both_ends_of_quiet_hours(self):
        errors = rules.validate_settings(valid(quiet_start=time(21)), today=TODAY)
        assert list(errors) == ["quiet_end"]

    def test_it_refuses_quiet_hours_that_end_when_they_start(self):
        errors = rules.validate_settings(
            valid(quiet_start=time(21), quiet_end=time(21)), today=TODAY
        )
        assert list(errors) == ["quiet_end"]

    @pytest.mark.parametrize(
        ("per_day", "per_week", "field"),
        [
            (0, 5, "max_per_day"),
            (11, 50, "max_per_day"),
            (1, 0, "max_per_week"),
            (1, 51, "max_per_week"),
            (3, 2, "max_per_week"),
        ],
    )
    def test_it_keeps_caps_in_range(self, per_day, per_week, field):
        errors = rules.validate_settings(
            valid(max_per_day=per_day, max_per_week=per_week), today=TODAY
        )
        assert list(errors) == [field]

    def test_it_refuses_a_pause_that_ended_yesterday(self):
        errors = rules.validate_settings(valid(paused_until=TODAY - timedelta(days=1)), today=TODAY)
        assert list(errors) == ["paused_until"]

    def test_it_refuses_a_pause_longer_than_a_year(self):
        errors = rules.validate_settings(
            valid(paused_until=TODAY + timedelta(days=366)), today=TODAY
        )
        assert list(errors) == ["paused_until"]


class TestNextSlot:
    def test_it_keeps_19_00_local_across_the_spring_change_in_london(self):
        # 29 March 2026: clocks go from 01:00 GMT to 02:00 BST.
        first = rules.next_slot(
            after=utc(2026, 3, 28, 12), zone=LONDON, days=rules.DAYS, at=time(19)
        )
        second = rules.next_slot(after=first[0], zone=LONDON, days=rules.DAYS, at=time(19))
        assert first == (utc(2026, 3, 28, 19), date(2026, 3, 28))  # GMT
        assert second == (utc(2026, 3, 29, 18), date(2026, 3, 29))  # BST

    def test_it_keeps_19_00_local_across_the_autumn_change_in_london(self):
        # 25 October 2026: clocks go from 02:00 BST back to 01:00 GMT.
        first = rules.next_slot(
            after=utc(2026, 10, 24, 12), zone=LONDON, days=rules.DAYS, at=time(19)
        )
        second = rules.next_slot(after=first[0], zone=LONDON, days=rules.DAYS, at=time(19))
        assert first == (utc(2026, 10, 24, 18), date(2026, 10, 24))
        assert second == (utc(2026, 10, 25, 19), date(2026, 10, 25))

    def test_it_moves_a_time_that_does_not_exist_forward_by_the_gap(self):
        slot = rules.next_slot(
            after=utc(2026, 3, 28, 12), zone=LONDON, days=("sun",), at=time(1, 30)
        )
        assert slot == (utc(2026, 3, 29, 1, 30), date(2026, 3, 29))  # 02:30 BST
        assert slot[0].astimezone(LONDON).time() == time(2, 30)

    def test_it_reminds_once_at_a_time_that_happens_twice(self):
        first = rules.next_slot(
            after=utc(2026, 10, 24, 12), zone=LONDON, days=("sun",), at=time(1, 30)
        )
        following = rules.next_slot(after=first[0], zone=LONDON, days=("sun",), at=time(1, 30))
        assert first == (utc(2026, 10, 25, 0, 30), date(2026, 10, 25))  # the first 01:30, BST
        assert following[1] == date(2026, 11, 1)

    def test_it_gives_one_slot_a_day_through_a_changeover_week(self):
        after, slots = utc(2026, 3, 25), []
        for _ in range(7):
            moment, day = rules.next_slot(after=after, zone=LONDON, days=rules.DAYS, at=time(8))
            slots.append(day)
            after = moment
        assert slots == [date(2026, 3, 25) + timedelta(days=n) for n in range(7)]

    def test_it_uses_the_local_date_in_a_far_zone(self):
        # 10:00 UTC on Friday 20 March is already 00:00 Saturday in Kiritimati.
        slot = rules.next_slot(
            after=utc(2026, 3, 20, 10), zone=KIRITIMATI, days=("sat",), at=time(8)
        )
        assert slot == (utc(2026, 3, 20, 18), date(2026, 3, 21))

    def test_it_follows_new_zealand_summer_time_ending(self):
        # 5 April 2026: Auckland goes from NZDT (+13) to NZST (+12).
        before = rules.next_slot(
            after=utc(2026, 4, 3, 12), zone=AUCKLAND, days=rules.DAYS, at=time(19)
        )
        after = rules.next_slot(after=before[0], zone=AUCKLAND, days=rules.DAYS, at=time(19))
        assert before == (utc(2026, 4, 4, 6), date(2026, 4, 4))
        assert after == (utc(2026, 4, 5, 7), date(2026, 4, 5))

    def test_it_only_uses_chosen_days(self):
        # Friday 20 March 2026; next Monday is the 23rd.
        slot = rules.next_slot(after=utc(2026, 3, 20, 12), zone=LONDON, days=("mon",), at=time(9))
        assert slot == (utc(2026, 3, 23, 9), date(2026, 3, 23))

    def test_it_has_no_slot_without_days(self):
        assert rules.next_slot(after=utc(2026, 3, 20), zone=LONDON, days=(), at=time(9)) is None


class TestQuietHours:
    @pytest.mark.parametrize(
        ("moment", "quiet"),
        [
            (time(20, 59), False),
            (time(21), True),
            (time(23, 59), True),
            (time(0), True),
            (time(7, 59), True),
            (time(8), False),
            (time(12), False),
        ],
    )
    def test_it_wraps_midnight(self, moment, quiet):
        assert rules.in_quiet_hours(moment, time(21), time(8)) is quiet

    def test_it_handles_quiet_hours_within_a_day(self):
        assert rules.in_quiet_hours(time(13), time(12), time(14))
        assert not rules.in_quiet_hours(time(14), time(12), time(14))

    def test_it_holds_an_evening_reminder_until_the_next_morning(self):
        resume = rules.quiet_hours_end(utc(2026, 3, 28, 22), LONDON, time(21), time(8))
        # The clocks change overnight: 08:00 on the 29th is 07:00 UTC.
        assert resume == utc(2026, 3, 29, 7)

    def test_it_holds_an_early_reminder_until_the_end_the_same_morning(self):
        resume = rules.quiet_hours_end(utc(2026, 3, 20, 6), LONDON, time(21), time(8))
        assert resume == utc(2026, 3, 20, 8)

    def test_it_lets_a_reminder_outside_quiet_hours_through(self):
        moment = utc(2026, 3, 20, 12)
        assert rules.quiet_hours_end(moment, LONDON, time(21), time(8)) == moment
        assert rules.quiet_hours_end(moment, LONDON, None, None) == moment


class TestCaps:
    def test_it_allows_up_to_the_daily_cap(self):
        counts = {TODAY: 1}
        assert rules.cap_reached(counts, TODAY, max_per_day=2, max_per_week=5) is None
        assert rules.cap_reached({TODAY: 2}, TODAY, max_per_day=2, max_per_week=5) == "day"

    def test_it_counts_the_week_over_the_last_seven_local_days(self):
        counts = {TODAY - timedelta(days=n): 1 for n in range(1, 6)}  # 5 in the 6 days before
        assert rules.cap_reached(counts, TODAY, max_per_day=1, max_per_week=5) == "week"
        older = {TODAY - timedelta(days=n): 1 for n in range(2, 7)}  # one fell out of the window
        older[TODAY - timedelta(days=7)] = 1
        assert rules.cap_reached(older, TODAY, max_per_day=1, max_per_week=5) == "week"
        assert (
            rules.cap_reached(
                {TODAY - timedelta(days=n): 1 for n in range(3, 8)},
                TODAY,
                max_per_day=1,
                max_per_week=5,
            )
            is None
        )


class TestPauseAndRetry:
    def test_it_pauses_through_the_last_day(self):
        assert rules.is_paused(TODAY, TODAY)
        assert not rules.is_paused(TODAY, TODAY + timedelta(days=1))
        assert not rules.is_paused(None, TODAY)

    def test_it_backs_off_up_to_an_hour(self):
        delays = [rules.retry_delay(n).total_seconds() / 60 for n in range(1, 9)]
        assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
