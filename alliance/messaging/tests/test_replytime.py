"""Reply due times: the end of the Nth working day after the day of the message."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from alliance.messaging.replytime import due_day, is_overdue, reply_due

LONDON = ZoneInfo("Europe/London")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


class TestDueDay:
    @pytest.mark.parametrize(
        "sent, target, expected",
        [
            (local(2025, 3, 10, 9, 0), 2, date(2025, 3, 12)),  # Monday -> Wednesday
            (local(2025, 3, 10, 23, 59), 2, date(2025, 3, 12)),
            (local(2025, 3, 13, 12, 0), 2, date(2025, 3, 17)),  # Thursday -> Monday
            (local(2025, 3, 14, 17, 0), 2, date(2025, 3, 18)),  # Friday -> Tuesday
            (local(2025, 3, 15, 10, 0), 2, date(2025, 3, 18)),  # Saturday -> Tuesday
            (local(2025, 3, 16, 22, 0), 2, date(2025, 3, 18)),  # Sunday -> Tuesday
            (local(2025, 3, 14, 9, 0), 1, date(2025, 3, 17)),  # Friday -> Monday
            (local(2025, 3, 10, 9, 0), 5, date(2025, 3, 17)),  # a working week
            (local(2025, 3, 10, 9, 0), 10, date(2025, 3, 24)),
        ],
    )
    def test_it_counts_working_days_only(self, sent, target, expected):
        assert due_day(sent, working_days=target, tz=LONDON) == expected

    def test_it_counts_in_the_services_zone_not_utc(self):
        # 23:30 UTC on Sunday is already Monday in Auckland.
        sent = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
        assert due_day(sent, working_days=2, tz=ZoneInfo("Pacific/Auckland")) == date(2025, 3, 12)
        assert due_day(sent, working_days=2, tz=LONDON) == date(2025, 3, 11)


class TestReplyDue:
    def test_it_is_midnight_after_the_due_day_in_utc(self):
        due = reply_due(local(2025, 3, 10, 9, 0), working_days=2, tz=LONDON)
        assert due == datetime(2025, 3, 13, 0, 0, tzinfo=UTC)

    def test_it_follows_summer_time(self):
        due = reply_due(local(2025, 7, 7, 9, 0), working_days=2, tz=LONDON)
        assert due == datetime(2025, 7, 9, 23, 0, tzinfo=UTC)

    def test_it_crosses_the_clocks_going_forward(self):
        # Friday 28 March 2025 -> due by the end of Tuesday 1 April (BST).
        due = reply_due(local(2025, 3, 28, 12, 0), working_days=2, tz=LONDON)
        assert due == datetime(2025, 4, 1, 23, 0, tzinfo=UTC)


class TestIsOverdue:
    def test_it_is_overdue_from_the_due_moment(self):
        due = datetime(2025, 3, 13, tzinfo=UTC)
        assert not is_overdue(due, datetime(2025, 3, 12, 23, 59, tzinfo=UTC))
        assert is_overdue(due, due)
        assert not is_overdue(None, due)
