"""When a reply is due: a service's reply target in working days, pure and with no database.

A patient's message is due an answer by the end of the Nth working day after the day it
was sent, counted in the service's own time zone; working days are Monday to Friday. With
the default target of two working days, a message sent on Monday (any time) is due by the
end of Wednesday, one sent on Friday or over the weekend by the end of Tuesday. Bank
holidays count as working days (a known limit: services set a longer target over holidays).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# date.weekday(): Monday is 0, Friday is 4.
WORKING_WEEKDAYS = frozenset({0, 1, 2, 3, 4})
DEFAULT_REPLY_TARGET = 2
MIN_REPLY_TARGET = 1
MAX_REPLY_TARGET = 10


def due_day(sent_at: datetime, *, working_days: int, tz: ZoneInfo) -> date:
    """The last day on which a reply is on time (in the service's zone)."""
    day = sent_at.astimezone(tz).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if day.weekday() in WORKING_WEEKDAYS:
            counted += 1
    return day


def reply_due(sent_at: datetime, *, working_days: int, tz: ZoneInfo) -> datetime:
    """The moment the reply becomes overdue: midnight after the due day, in UTC."""
    day = due_day(sent_at, working_days=working_days, tz=tz)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and now >= due_at
