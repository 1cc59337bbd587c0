"""The daily check-in's rules, with no database: what a valid check-in is, which day
"today" is for a patient, streaks, the welcome back after a gap, and a month's calendar.

A check-in belongs to a day in the patient's own time zone, so "today" is computed from an
aware moment and the patient's zone (correct across daylight-saving changes: zoneinfo does
the arithmetic). Every rule raises or returns messages that name the field, in the words
the pages show.
"""

import calendar
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

MOOD_MIN, MOOD_MAX = 0, 10
SLEEP_MAX = Decimal("24")
ACTIVITY_MAX = 200
NOTE_MAX = 1000
# A check-in made offline may reach the server days later; it still counts for the day
# it was made, up to this many days back. Older ones are refused rather than backfilled.
LATE_DAYS = 14
# Days between the last check-in and today after which the patient is welcomed back.
WELCOME_BACK_GAP_DAYS = 4
CLIENT_KEY = re.compile(r"[-a-zA-Z0-9_.:]{8,64}")

# The words a patient can tick, in the order the form shows them. Keys are stored;
# labels are translated when shown.
FEELINGS = {
    "calm": gettext_lazy("calm"),
    "content": gettext_lazy("content"),
    "hopeful": gettext_lazy("hopeful"),
    "grateful": gettext_lazy("grateful"),
    "tired": gettext_lazy("tired"),
    "anxious": gettext_lazy("anxious"),
    "low": gettext_lazy("low"),
    "irritable": gettext_lazy("irritable"),
    "lonely": gettext_lazy("lonely"),
    "overwhelmed": gettext_lazy("overwhelmed"),
}
FEELING_KEYS = tuple(FEELINGS)


@dataclass(frozen=True)
class Answers:
    """A check-in's answers after cleaning: the types the model stores."""

    mood: int
    feelings: list[str]
    sleep_hours: Decimal | None
    activity: str
    note: str


# Answers ------------------------------------------------------------------------------


def clean_answers(*, mood, feelings=(), sleep_hours=None, activity="", note="") -> Answers:
    """The answers as stored, or ``ValidationError`` naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, cleaner, value in (
        ("mood", clean_mood, mood),
        ("feelings", clean_feelings, feelings),
        ("sleep_hours", clean_sleep_hours, sleep_hours),
        ("activity", clean_activity, activity),
        ("note", clean_note, note),
    ):
        try:
            cleaned[name] = cleaner(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return Answers(**cleaned)


def clean_mood(value) -> int:
    message = _("Mood: choose a number from 0 to 10.")
    if isinstance(value, bool) or value is None:
        raise ValidationError(message)
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"-?\d{1,3}", value):
            raise ValidationError(message)
        value = int(value)
    if not isinstance(value, int):
        raise ValidationError(message)
    if not MOOD_MIN <= value <= MOOD_MAX:
        raise ValidationError(
            _("Mood: %(value)s is out of range; choose a number from 0 to 10.") % {"value": value}
        )
    return value


def clean_feelings(value) -> list[str]:
    """Known words only, each once, in the vocabulary's order."""
    if value is None or value == "":
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(_("Feelings: send a list of words."))
    chosen = set()
    for word in value:
        if not isinstance(word, str):
            raise ValidationError(_("Feelings: send a list of words."))
        key = word.strip().lower()
        if key not in FEELINGS:
            raise ValidationError(
                _("Feelings: “%(word)s” is not one of the words to choose from.")
                % {"word": word[:40]}
            )
        chosen.add(key)
    return [key for key in FEELING_KEYS if key in chosen]


def clean_sleep_hours(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    message = _("Sleep: give the hours you slept as a number from 0 to 24, e.g. 7.5.")
    if isinstance(value, bool):
        raise ValidationError(message)
    try:
        hours = Decimal(value.strip().replace(",", ".") if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError, TypeError) as error:
        raise ValidationError(message) from error
    if not hours.is_finite():
        raise ValidationError(message)
    if not Decimal(0) <= hours <= SLEEP_MAX:
        raise ValidationError(
            _("Sleep: %(value)s hours is out of range; a day has 0 to 24 hours.") % {"value": value}
        )
    if hours != hours.quantize(Decimal("0.1")):
        raise ValidationError(_("Sleep: give the hours to one decimal place at most, e.g. 7.5."))
    return hours.quantize(Decimal("0.1"))


def clean_activity(value) -> str:
    return _clean_text(
        value,
        ACTIVITY_MAX,
        _("Activity: enter text."),
        _("Activity: keep this to %(limit)d characters or fewer."),
    )


def clean_note(value) -> str:
    return _clean_text(
        value,
        NOTE_MAX,
        _("Note: enter text."),
        _("Note: keep this to %(limit)d characters or fewer."),
    )


def _clean_text(value, limit: int, not_text: str, too_long: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(not_text)
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(too_long % {"limit": limit})
    return value


def clean_client_key(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CLIENT_KEY.fullmatch(value):
        raise ValidationError(
            {"client_key": [_("Client key: use 8 to 64 letters, digits or the signs - _ . :")]}
        )
    return value


# Days ---------------------------------------------------------------------------------


def zone_of(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone by name; an unknown name falls back to the site's zone, never fails."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_date_at(moment: datetime, time_zone: str | None) -> date:
    """The calendar day ``moment`` (aware) falls on in ``time_zone``."""
    if moment.tzinfo is None:
        raise ValueError("local_date_at needs an aware datetime.")
    return moment.astimezone(zone_of(time_zone)).date()


def check_day(day: date, *, today: date, exists: bool) -> None:
    """May a check-in be saved for ``day``? Today always; a day in the future never; a past
    day only to add a check-in that was made then (sent late, e.g. from offline), never to
    change one."""
    if day > today:
        raise ValidationError(
            {"local_date": [_("Date: a check-in cannot be dated in the future.")]}
        )
    if day == today:
        return
    if exists:
        raise ValidationError(
            {"local_date": [_("Date: a check-in can only be changed on its own day.")]}
        )
    if (today - day).days > LATE_DAYS:
        raise ValidationError(
            {
                "local_date": [
                    _("Date: a check-in can be sent up to %(days)d days after its day.")
                    % {"days": LATE_DAYS}
                ]
            }
        )


def day_from_made_at(made_at: datetime, *, now: datetime, time_zone: str | None) -> date:
    """The day of a check-in made (on the patient's device) at ``made_at``. A clock a few
    minutes fast is forgiven; a moment further ahead is a check-in in the future."""
    if made_at.tzinfo is None:
        raise ValidationError({"made_at": [_("Made at: give the time with its UTC offset.")]})
    if made_at > now + timedelta(minutes=10):
        raise ValidationError({"made_at": [_("Made at: this time is in the future.")]})
    return local_date_at(min(made_at, now), time_zone)


# Streaks and welcome back -------------------------------------------------------------


def streak_from(days_newest_first: Iterable[date], today: date) -> int:
    """How many days in a row, ending today or yesterday, have a check-in. Reads only as
    far as the first gap, so a caller may pass a lazy query."""
    count = 0
    expected = None
    for day in days_newest_first:
        if day > today:
            continue
        if expected is None:
            if (today - day).days > 1:
                return 0
            expected = day
        if day == expected:
            count += 1
            expected = day - timedelta(days=1)
        elif day < expected:
            break
    return count


def welcome_back_due(last: date | None, today: date, gap_days: int = WELCOME_BACK_GAP_DAYS) -> bool:
    """True when someone who has checked in before comes back after ``gap_days`` or more
    days (and has not checked in yet today). Never for a first check-in."""
    if last is None or last >= today:
        return False
    return (today - last).days >= gap_days


def streak_message(*, streak: int, done_today: bool, welcome_back: bool) -> str:
    """A kind sentence about the run of check-ins: it counts what was done, never what was
    not (no "you broke your streak")."""
    if welcome_back:
        return _("Welcome back. It's good to see you.")
    if streak >= 2:
        return ngettext(
            "%(count)d day in a row — nice.", "%(count)d days in a row — nice.", streak
        ) % {"count": streak}
    if done_today:
        return _("Thank you for checking in today.")
    return ""


# Calendar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    is_future: bool
    checkin: object | None  # a DailyCheckIn, or anything with ``mood``


@dataclass(frozen=True)
class CalendarMonth:
    first: date
    weeks: list[list[CalendarDay]]
    weekday_names: list[tuple[str, str]]  # (abbreviation, full name), Monday first
    previous: date | None
    next: date | None


def month_start(value: date) -> date:
    return value.replace(day=1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None, *, today: date) -> date:
    """``2026-03`` as the first of that month; anything else, or a future month, is the
    current month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 < year < 3000 and 1 <= month <= 12:
            first = date(year, month, 1)
            if first <= month_start(today):
                return first
    return month_start(today)


def calendar_month(first: date, checkins_by_day: dict, *, today: date, earliest: date | None):
    """The weeks (Monday first) of the month starting ``first``, each day with its
    check-in; ``previous`` and ``next`` months to link to (none beyond the data or today).
    """
    from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR

    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        weeks.append(
            [
                CalendarDay(
                    day=day,
                    in_month=day.month == first.month,
                    is_today=day == today,
                    is_future=day > today,
                    checkin=checkins_by_day.get(day) if day.month == first.month else None,
                )
                for day in week
            ]
        )
    previous = add_months(first, -1)
    if earliest is None or previous < month_start(earliest):
        previous = None
    following = add_months(first, 1)
    if following > month_start(today):
        following = None
    names = [(str(WEEKDAYS_ABBR[i]), str(WEEKDAYS[i])) for i in range(7)]
    return CalendarMonth(
        first=first, weeks=weeks, weekday_names=names, previous=previous, next=following
    )
