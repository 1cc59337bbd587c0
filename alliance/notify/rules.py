"""The reminder rules, as pure functions with no database access.

- Kinds: five *scheduled* kinds (check-in, module, homework, questionnaire, appointment)
  come at a chosen local time on chosen days when there is something to remind about;
  *event* kinds (a new message) come when something happens.
- Times are the patient's own wall-clock times. A slot is the moment a local date and time
  is in the patient's zone, so 19:00 stays 19:00 across daylight-saving changes. A time
  that does not exist on a spring-forward day is moved forward by the gap (01:30 becomes
  02:30 in London); a time that happens twice on a fall-back day counts once, the first time.
- Quiet hours hold a reminder back until they end. They may wrap midnight (21:00–08:00).
- Caps count every reminder across all kinds: per local day, and over any 7 local days.
- Settings are validated here, once, for the page and the API: errors are keyed by the
  API's field names (``channels``, ``quiet_start``, ``reminders.checkin.time``...).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CHECKIN = "checkin"
MODULE = "module"
HOMEWORK = "homework"
QUESTIONNAIRE = "questionnaire"
APPOINTMENT = "appointment"
MESSAGE = "message"

SCHEDULED_KINDS = (CHECKIN, MODULE, HOMEWORK, QUESTIONNAIRE, APPOINTMENT)
EVENT_KINDS = (MESSAGE,)
KINDS = SCHEDULED_KINDS + EVENT_KINDS
KIND_LABELS = {
    CHECKIN: gettext_lazy("Daily check-in"),
    MODULE: gettext_lazy("A module to read"),
    HOMEWORK: gettext_lazy("Homework"),
    QUESTIONNAIRE: gettext_lazy("A questionnaire to fill in"),
    APPOINTMENT: gettext_lazy("An appointment in the next 24 hours"),
    MESSAGE: gettext_lazy("A new message"),
}
# When several reminders fall due together and a cap allows only some, the first win.
KIND_PRIORITY = {
    APPOINTMENT: 0,
    QUESTIONNAIRE: 1,
    MESSAGE: 2,
    HOMEWORK: 3,
    MODULE: 4,
    CHECKIN: 5,
}

EMAIL = "email"
WEBPUSH = "webpush"
INAPP = "inapp"
# Delivers nothing and records the attempt: for the benchmark and load tests only.
NULL = "null"
PATIENT_CHANNELS = (EMAIL, WEBPUSH, INAPP)
CHANNELS = PATIENT_CHANNELS + (NULL,)
CHANNEL_LABELS = {
    EMAIL: gettext_lazy("E-mail"),
    WEBPUSH: gettext_lazy("Notification on your phone or computer (web push)"),
    INAPP: gettext_lazy("In the app (the notification centre)"),
    NULL: gettext_lazy("Nowhere (test channel)"),
}

CHANNEL_SHORT_LABELS = {
    EMAIL: gettext_lazy("e-mail"),
    WEBPUSH: gettext_lazy("web push"),
    INAPP: gettext_lazy("in-app"),
    NULL: gettext_lazy("null channel"),
}

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
DAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}

MAX_PER_DAY_LIMIT = 10
MAX_PER_WEEK_LIMIT = 50
MAX_PAUSE_DAYS = 365
CAP_WINDOW_DAYS = 7


@dataclass(frozen=True)
class KindChoice:
    on: bool
    days: tuple[str, ...] = DAYS
    at: time | None = None


@dataclass(frozen=True)
class SettingsData:
    """What the patient chose. Every time is local to the patient."""

    reminders: Mapping[str, KindChoice]
    channels: tuple[str, ...]
    quiet_start: time | None = None
    quiet_end: time | None = None
    max_per_day: int = 1
    max_per_week: int = 5
    paused_until: date | None = None
    all_off: bool = False

    def with_changes(self, **changes) -> "SettingsData":
        return replace(self, **changes)


def default_settings() -> SettingsData:
    """Gentle defaults: a check-in reminder once a day at 19:00 and new messages, by
    e-mail and in the app, never more than one a day and five a week."""
    return SettingsData(
        reminders={
            CHECKIN: KindChoice(on=True, days=DAYS, at=time(19, 0)),
            MODULE: KindChoice(on=False, days=DAYS[:5], at=time(10, 0)),
            HOMEWORK: KindChoice(on=False, days=DAYS, at=time(18, 0)),
            QUESTIONNAIRE: KindChoice(on=False, days=DAYS, at=time(10, 0)),
            APPOINTMENT: KindChoice(on=False, days=DAYS, at=time(9, 0)),
            MESSAGE: KindChoice(on=True),
        },
        channels=(EMAIL, INAPP),
        max_per_day=1,
        max_per_week=5,
    )


def hhmm(value: time) -> str:
    return time_format(value, "H:i")


@dataclass
class Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


def validate_settings(data: SettingsData, *, today: date) -> dict[str, list[str]]:
    """Every problem with ``data``, keyed by field name; empty when it can be saved.
    ``today`` is the patient's local date (for the pause)."""
    errors = Errors()
    unknown_kinds = [k for k in data.reminders if k not in KINDS]
    if unknown_kinds:
        errors.add(
            "reminders",
            _("Unknown kind of reminder: %(kinds)s. Choose from %(known)s.")
            % {"kinds": ", ".join(unknown_kinds), "known": ", ".join(KINDS)},
        )
    for kind in SCHEDULED_KINDS:
        choice = data.reminders.get(kind)
        if choice is None:
            continue
        unknown_days = [d for d in choice.days if d not in DAYS]
        if unknown_days:
            errors.add(
                f"reminders.{kind}.days",
                _("Unknown day: %(days)s. Use %(known)s.")
                % {"days": ", ".join(unknown_days), "known": ", ".join(DAYS)},
            )
        elif choice.on and not choice.days:
            errors.add(
                f"reminders.{kind}.days",
                _("Choose at least one day for “%(kind)s”, or turn it off.")
                % {"kind": KIND_LABELS[kind]},
            )
        if choice.on and choice.at is None:
            errors.add(
                f"reminders.{kind}.time",
                _("Choose a time for “%(kind)s”, or turn it off.") % {"kind": KIND_LABELS[kind]},
            )
    unknown_channels = [c for c in data.channels if c not in PATIENT_CHANNELS]
    if unknown_channels:
        errors.add(
            "channels",
            _("Unknown channel: %(channels)s. Choose from %(known)s.")
            % {"channels": ", ".join(unknown_channels), "known": ", ".join(PATIENT_CHANNELS)},
        )
    elif not data.channels and not data.all_off and any_on(data):
        errors.add(
            "channels",
            _("Choose at least one way to be reminded, or turn all reminders off."),
        )
    validate_quiet_hours(data, errors)
    validate_caps(data, errors)
    if data.paused_until is not None:
        if data.paused_until < today:
            errors.add("paused_until", _("A pause must end today or later."))
        elif data.paused_until > today + timedelta(days=MAX_PAUSE_DAYS):
            errors.add(
                "paused_until",
                _("A pause can last at most %(n)d days.") % {"n": MAX_PAUSE_DAYS},
            )
    return errors.fields


def any_on(data: SettingsData) -> bool:
    return any(choice.on for kind, choice in data.reminders.items() if kind in KINDS)


def validate_quiet_hours(data: SettingsData, errors: Errors) -> None:
    start, end = data.quiet_start, data.quiet_end
    if (start is None) != (end is None):
        name = "quiet_end" if end is None else "quiet_start"
        errors.add(name, _("Give both the start and the end of quiet hours, or neither."))
        return
    if start is None:
        return
    if start == end:
        errors.add("quiet_end", _("Quiet hours must end at a different time from their start."))
        return
    if data.all_off:
        return
    times = sorted(
        {
            choice.at
            for kind, choice in data.reminders.items()
            if kind in SCHEDULED_KINDS and choice.on and choice.at is not None
        }
    )
    if times and all(in_quiet_hours(t, start, end) for t in times):
        errors.add(
            "quiet_start",
            _(
                "Quiet hours from %(start)s to %(end)s cover every reminder time you chose "
                "(%(times)s), so no reminder could ever come at its time. Make the quiet "
                "hours shorter or choose another time."
            )
            % {
                "start": hhmm(start),
                "end": hhmm(end),
                "times": ", ".join(hhmm(t) for t in times),
            },
        )


def validate_caps(data: SettingsData, errors: Errors) -> None:
    if not 1 <= data.max_per_day <= MAX_PER_DAY_LIMIT:
        errors.add(
            "max_per_day",
            _("Choose between 1 and %(n)d reminders a day.") % {"n": MAX_PER_DAY_LIMIT},
        )
    if not 1 <= data.max_per_week <= MAX_PER_WEEK_LIMIT:
        errors.add(
            "max_per_week",
            _("Choose between 1 and %(n)d reminders a week.") % {"n": MAX_PER_WEEK_LIMIT},
        )
    elif data.max_per_week < data.max_per_day:
        errors.add(
            "max_per_week",
            _("The weekly limit must be at least the daily limit (%(n)d).")
            % {"n": data.max_per_day},
        )


# --- Time ------------------------------------------------------------------------------


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    """Whether a local wall-clock time falls in quiet hours [start, end)."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # wraps midnight


def local_moment(local_day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date (see the module's DST note)."""
    return datetime.combine(local_day, at, tzinfo=zone).astimezone(UTC)


def next_slot(
    *, after: datetime, zone: ZoneInfo, days: Iterable[str], at: time
) -> tuple[datetime, date] | None:
    """The first slot strictly after ``after``: (UTC instant, local date), or None if no
    day is chosen."""
    weekdays = {DAYS.index(d) for d in days if d in DAYS}
    if not weekdays:
        return None
    start = after.astimezone(zone).date()
    for offset in range(8):
        day = start + timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        moment = local_moment(day, at, zone)
        if moment > after:
            return moment, day
    return None  # unreachable: a chosen weekday comes within 8 days


def quiet_hours_end(
    moment: datetime, zone: ZoneInfo, start: time | None, end: time | None
) -> datetime:
    """``moment`` itself if it is outside quiet hours, else the instant they end."""
    local = moment.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return moment
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)  # in the evening part of quiet hours that wrap midnight
    return local_moment(day, end, zone)


def is_paused(paused_until: date | None, local_day: date) -> bool:
    return paused_until is not None and local_day <= paused_until


# --- Caps ------------------------------------------------------------------------------


def cap_reached(
    counts: Mapping[date, int], local_day: date, *, max_per_day: int, max_per_week: int
) -> str | None:
    """ "day" or "week" if one more reminder on ``local_day`` would pass a cap, else None.
    ``counts``: reminders already counted per local date."""
    if counts.get(local_day, 0) >= max_per_day:
        return "day"
    window = sum(counts.get(local_day - timedelta(days=n), 0) for n in range(CAP_WINDOW_DAYS))
    if window >= max_per_week:
        return "week"
    return None


# --- Retries ---------------------------------------------------------------------------


def retry_delay(failures: int) -> timedelta:
    """Back-off after the n-th failure: 1, 2, 4, 8... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(failures - 1, 0), 60))
