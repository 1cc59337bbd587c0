"""Reading exercise entries and daily check-ins; entries always through the access policy.

Check-in reads take a patient already fetched through the policy, and each runs one query.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, QuerySet
from django.http import Http404

from alliance.accounts import policy
from alliance.accounts.models import Patient, User
from alliance.checkins import daily
from alliance.checkins.models import (
    DailyCheckIn,
    ExerciseComment,
    ExerciseEntry,
    ExerciseEntryVersion,
)


def entries_for_patient(
    patient: Patient, *, kind: str | None = None, since: datetime | None = None
) -> QuerySet[ExerciseEntry]:
    """A patient's entries, newest first, each with ``comment_count``. ``since`` keeps the
    entries written or changed since then (e.g. the last contact)."""
    entries = ExerciseEntry.objects.filter(patient=patient)
    if kind is not None:
        entries = entries.filter(kind=kind)
    if since is not None:
        entries = entries.filter(updated_at__gte=since)
    return entries.annotate(comment_count=Count("comments")).order_by("-created_at", "-pk")


def entry_for(user: User, entry_id: int, *, request=None) -> ExerciseEntry:
    """The entry if ``user`` may read it, else 404: a patient their own, staff their
    patients' (audited as a read of an "exercise entry")."""
    entry = ExerciseEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise Http404("Not found.")
    entry.patient = policy.access_patient(
        user, entry.patient_id, what="exercise entry", request=request
    )
    return entry


def entry_comments(entry: ExerciseEntry) -> QuerySet[ExerciseComment]:
    return entry.comments.select_related("author").order_by("created_at", "pk")


def entry_versions(entry: ExerciseEntry) -> QuerySet[ExerciseEntryVersion]:
    """Every saved version, newest first."""
    return entry.versions.select_related("saved_by").order_by("-version")


# Daily check-ins -------------------------------------------------------------------------


def patient_today(patient: Patient, now: datetime | None = None) -> date:
    """Today in the patient's own time zone."""
    from django.utils import timezone

    return daily.local_date_at(now or timezone.now(), patient.user.time_zone)


def checkins_between(patient: Patient, start: date, end: date) -> QuerySet[DailyCheckIn]:
    """The patient's check-ins from ``start`` to ``end`` (both included), oldest first."""
    return DailyCheckIn.objects.filter(
        patient=patient, local_date__gte=start, local_date__lte=end
    ).order_by("local_date")


def checkin_on(patient: Patient, day: date) -> DailyCheckIn | None:
    return DailyCheckIn.objects.filter(patient=patient, local_date=day).first()


def _days_newest_first(patient: Patient, today: date):
    # One query, read lazily: a streak stops at its first gap, so only that far is fetched.
    return (
        DailyCheckIn.objects.filter(patient=patient, local_date__lte=today)
        .order_by("-local_date")
        .values_list("local_date", flat=True)
        .iterator(chunk_size=64)
    )


def streak(patient: Patient, today: date) -> int:
    """Consecutive days with a check-in, ending today or yesterday (0 if neither)."""
    return daily.streak_from(_days_newest_first(patient, today), today)


def last_checkin_date(patient: Patient) -> date | None:
    return DailyCheckIn.objects.filter(patient=patient).aggregate(last=Max("local_date"))["last"]


def needs_welcome_back(
    patient: Patient, today: date, gap_days: int = daily.WELCOME_BACK_GAP_DAYS
) -> bool:
    """True after a gap of ``gap_days`` or more since the last check-in (not for a first)."""
    last = DailyCheckIn.objects.filter(patient=patient, local_date__lte=today).aggregate(
        last=Max("local_date")
    )["last"]
    return daily.welcome_back_due(last, today, gap_days)


def checkin_range(patient: Patient) -> tuple[date | None, date | None]:
    """The first and the last day with a check-in."""
    found = DailyCheckIn.objects.filter(patient=patient).aggregate(
        first=Min("local_date"), last=Max("local_date")
    )
    return found["first"], found["last"]


@dataclass(frozen=True)
class CheckInStatus:
    """Where a patient is with their check-ins today: for the week's card and the API."""

    today: date
    checkin: DailyCheckIn | None  # today's, if done
    streak: int
    last_date: date | None
    welcome_back: bool

    @property
    def done_today(self) -> bool:
        return self.checkin is not None

    @property
    def message(self) -> str:
        return daily.streak_message(
            streak=self.streak, done_today=self.done_today, welcome_back=self.welcome_back
        )


def checkin_status(patient: Patient, today: date) -> CheckInStatus:
    """Today's check-in, the streak, the last day and whether to welcome back: one query
    (the newest check-ins, read only as far as the streak's first gap)."""
    rows = (
        DailyCheckIn.objects.filter(patient=patient, local_date__lte=today)
        .defer("activity", "note")  # free text is decrypted only when read
        .order_by("-local_date")
        .iterator(chunk_size=32)
    )
    first = next(rows, None)
    todays = first if first is not None and first.local_date == today else None
    last = first.local_date if first is not None else None

    def days():
        if first is not None:
            yield first.local_date
            for row in rows:
                yield row.local_date

    count = daily.streak_from(days(), today)
    return CheckInStatus(
        today=today,
        checkin=todays,
        streak=count,
        last_date=last,
        welcome_back=daily.welcome_back_due(last, today),
    )


def recent_window(today: date, days: int) -> tuple[date, date]:
    """The ``days`` days ending today."""
    return today - timedelta(days=days - 1), today
