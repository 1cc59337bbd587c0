"""The engagement record: what each patient did on each day of their own calendar.

``PatientDay`` rows are daily aggregates, written by ``services.engagement_recompute`` from
these sources, grouped by patient and local day inside the database: one
INSERT … SELECT … ON CONFLICT per time zone of the patients (the day is the patient's own,
and grouping by day needs one zone), so no row passes through Python:

- ``sessions``, ``minutes``: ``ActivitySession`` (written by the patient middleware);
  each session counts one minute, plus the sessions' total length in whole minutes;
- ``pages_completed``: ``EngagementEvent`` of kind ``page_completed``;
- ``modules_completed``: ``ModuleAssignment.completed_at``;
- ``exercises``: exercise entries saved (``ExerciseEntryVersion``; distinct entries a day);
- ``checkins``: ``DailyCheckIn`` (by its own local date), when that table exists;
- ``messages_sent``, ``messages_received``: ``Message`` by and to the patient, when
  messaging exists;
- ``contacts_attended``, ``contacts_missed``: ``Contact`` attended / did not attend, on
  its scheduled day.

A day is **active** when the patient did anything themselves: a session, a page, a
module, an exercise, a check-in, a message sent or an attended contact. Messages received
and missed contacts alone do not make a day active.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient
from alliance.care.models import Contact, ContactStatus, ModuleAssignment
from alliance.checkins.models import ExerciseEntryVersion
from alliance.insights.models import (
    ActivitySession,
    EngagementEvent,
    EngagementEventKind,
    PatientDay,
)
from alliance.insights.selectors import optional_model
from alliance.lib import charts

# A visit more than this long after the last one starts a new session.
SESSION_GAP = timedelta(minutes=30)
# The middleware writes at most once a minute per patient.
TOUCH_EVERY_SECONDS = 60

COUNTERS = (
    "sessions",
    "minutes",
    "pages_completed",
    "modules_completed",
    "exercises",
    "checkins",
    "messages_sent",
    "messages_received",
    "contacts_attended",
    "contacts_missed",
)
# The counters that make a day active (things the patient did themselves).
ACTIVE_COUNTERS = (
    "sessions",
    "pages_completed",
    "modules_completed",
    "exercises",
    "checkins",
    "messages_sent",
    "contacts_attended",
)


def utc_window(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC window holding every local day from ``start`` to ``end`` in any time zone
    (zones run from UTC-12 to UTC+14): the queries narrow it to local days afterwards."""
    utc = ZoneInfo("UTC")
    return (
        datetime.combine(start - timedelta(days=1), time.min, tzinfo=utc),
        datetime.combine(end + timedelta(days=2), time.min, tzinfo=utc),
    )


@dataclass(frozen=True)
class Scope:
    """The patients of one time zone whose days are recomputed, and the local days."""

    zone: str
    patient_ids: list[int] | None  # None: every patient in this zone
    start: date
    end: date

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def patients(self, field: str) -> Q:
        """The filter on a source's patient column (``field``, e.g. ``episode__patient``)."""
        if self.patient_ids is None:
            return Q(**{f"{field}__user__time_zone": self.zone})
        return Q(**{f"{field}_id__in": self.patient_ids})


def scopes(patient_ids: list[int] | None, start: date, end: date) -> list[Scope]:
    """One scope per time zone of the patients (one query)."""
    patients = Patient.objects.all()
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
    if patient_ids is None:
        zones = patients.values_list("user__time_zone", flat=True).distinct().order_by()
        return [Scope(zone, None, start, end) for zone in sorted(set(zones))]
    by_zone: dict[str, list[int]] = defaultdict(list)
    for pk, zone in patients.values_list("pk", "user__time_zone").order_by():
        by_zone[zone].append(pk)
    return [Scope(zone, sorted(ids), start, end) for zone, ids in sorted(by_zone.items())]


@dataclass(frozen=True)
class Source:
    """One source as SQL: rows of (``p`` patient, ``d`` local day, counters...), grouped."""

    sql: str
    params: tuple
    counters: dict[str, str]  # counter -> SQL over the source's own columns


def _by_local_day(
    queryset: QuerySet, scope: Scope, *, at: str, patient: str, **aggregates
) -> Source:
    """GROUP BY patient and local day of ``at`` (wide UTC window; narrowed to the local
    days by the insert)."""
    low, high = utc_window(scope.start, scope.end)
    grouped = (
        queryset.filter(scope.patients(patient), **{f"{at}__gte": low, f"{at}__lt": high})
        .annotate(p=F(f"{patient}_id"), d=TruncDate(at, tzinfo=scope.tz))
        .values("p", "d")
        .annotate(**aggregates)
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    return Source(sql, params, {name: name for name in aggregates})


def sessions(scope: Scope) -> Source:
    length = ExpressionWrapper(F("last_seen_at") - F("started_at"), output_field=DurationField())
    source = _by_local_day(
        ActivitySession.objects.all(),
        scope,
        at="started_at",
        patient="patient",
        sessions=Count("pk"),
        length=Sum(length),
    )
    # Each session counts one minute, plus the sessions' total length in whole minutes.
    if connection.vendor == "postgresql":
        whole_minutes = "COALESCE(FLOOR(EXTRACT(EPOCH FROM length) / 60), 0)"
    else:  # SQLite keeps durations as microseconds
        whole_minutes = "COALESCE(length / 60000000, 0)"
    return Source(
        source.sql,
        source.params,
        {"sessions": "sessions", "minutes": f"sessions + {whole_minutes}"},
    )


def pages(scope: Scope) -> Source:
    return _by_local_day(
        EngagementEvent.objects.filter(kind=EngagementEventKind.PAGE_COMPLETED),
        scope,
        at="at",
        patient="patient",
        pages_completed=Count("pk"),
    )


def modules(scope: Scope) -> Source:
    return _by_local_day(
        ModuleAssignment.objects.all(),
        scope,
        at="completed_at",
        patient="episode__patient",
        modules_completed=Count("pk"),
    )


def exercises(scope: Scope) -> Source:
    return _by_local_day(
        ExerciseEntryVersion.objects.all(),
        scope,
        at="saved_at",
        patient="entry__patient",
        exercises=Count("entry", distinct=True),
    )


def checkins(scope: Scope) -> Source | None:
    model = optional_model("checkins", "DailyCheckIn")
    if model is None:
        return None
    grouped = (
        model.objects.filter(
            scope.patients("patient"), local_date__gte=scope.start, local_date__lte=scope.end
        )
        .annotate(p=F("patient_id"), d=F("local_date"))
        .values("p", "d")
        .annotate(checkins=Count("pk"))
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    return Source(sql, params, {"checkins": "checkins"})


def messages(scope: Scope) -> Source | None:
    model = optional_model("messaging", "Message")
    if model is None:
        return None
    return _by_local_day(
        model.objects.all(),
        scope,
        at="sent_at",
        patient="thread__patient",
        messages_sent=Count("pk", filter=Q(is_from_patient=True)),
        messages_received=Count("pk", filter=Q(is_from_patient=False)),
    )


def contacts(scope: Scope) -> Source:
    return _by_local_day(
        Contact.objects.filter(status__in=[ContactStatus.ATTENDED, ContactStatus.DID_NOT_ATTEND]),
        scope,
        at="scheduled_at",
        patient="episode__patient",
        contacts_attended=Count("pk", filter=Q(status=ContactStatus.ATTENDED)),
        contacts_missed=Count("pk", filter=Q(status=ContactStatus.DID_NOT_ATTEND)),
    )


SOURCES = (sessions, pages, modules, exercises, checkins, messages, contacts)


def upsert_sql(scope: Scope, computed_at: datetime) -> tuple[str, list]:
    """One INSERT … SELECT … ON CONFLICT DO UPDATE that writes every day of the scope
    that has something in it: the sources' GROUP BY queries, added up per patient and
    local day inside the database. Rows never pass through Python."""
    parts, params = [], []
    for index, source in enumerate(filter(None, (make(scope) for make in SOURCES))):
        columns = ", ".join(f"{source.counters.get(name, '0')} AS {name}" for name in COUNTERS)
        parts.append(f"SELECT p, d, {columns} FROM ({source.sql}) s{index}")  # noqa: S608
        params.extend(source.params)
    table = connection.ops.quote_name(PatientDay._meta.db_table)
    sums = ", ".join(f"SUM({name})" for name in COUNTERS)
    active = " + ".join(f"SUM({name})" for name in ACTIVE_COUNTERS)
    names = ", ".join(COUNTERS)
    updates = ", ".join(
        f"{name} = EXCLUDED.{name}" for name in (*COUNTERS, "active", "computed_at")
    )
    union = " UNION ALL ".join(parts)
    # Table and column names and the ORM's compiled sources; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (patient_id, date, {names}, active, computed_at) "  # noqa: S608
        f"SELECT p, d, {sums}, ({active}) > 0, %s FROM ({union}) u "
        "WHERE d >= %s AND d <= %s GROUP BY p, d "
        f"ON CONFLICT (patient_id, date) DO UPDATE SET {updates}"
    )
    # In the order of the placeholders: the time of the computation, the sources, the days.
    params = [
        connection.ops.adapt_datetimefield_value(computed_at),
        *params,
        connection.ops.adapt_datefield_value(scope.start),
        connection.ops.adapt_datefield_value(scope.end),
    ]
    return sql, params


# --- Reads for pages and the API ---------------------------------------------------------


def patient_days(patient: Patient, start: date, end: date) -> list[PatientDay]:
    """The patient's stored days from ``start`` to ``end``, one query; days with nothing
    in them have no row."""
    return list(PatientDay.objects.filter(patient=patient, date__gte=start, date__lte=end))


@dataclass(frozen=True)
class WeekTotal:
    start: date
    active_days: int
    minutes: int
    pages_completed: int
    exercises: int
    checkins: int
    messages_sent: int
    contacts_attended: int
    contacts_missed: int


def weekly_totals(days: list[PatientDay], start: date, weeks: int) -> list[WeekTotal]:
    """Sum stored days into weeks from ``start`` (pure)."""
    buckets: list[dict[str, int]] = [defaultdict(int) for _ in range(weeks)]
    for day in days:
        index = (day.date - start).days // 7
        if 0 <= index < weeks:
            bucket = buckets[index]
            bucket["active_days"] += int(day.active)
            for name in WeekTotal.__dataclass_fields__:
                if name not in ("start", "active_days"):
                    bucket[name] += getattr(day, name)
    return [
        WeekTotal(start=start + timedelta(days=7 * i), **{k: b.get(k, 0) for k in _WEEK_FIELDS})
        for i, b in enumerate(buckets)
    ]


_WEEK_FIELDS = [name for name in WeekTotal.__dataclass_fields__ if name != "start"]


def engagement_chart(weeks: list[WeekTotal], *, id_prefix: str = "engagement") -> SafeString:
    """Active days by week (0–7), with the week's start date as x."""
    return charts.line_chart(
        [
            charts.Series(
                _("Active days"), [charts.Point(week.start, week.active_days) for week in weeks]
            )
        ],
        title=_("Active days a week"),
        y_min=0,
        y_max=7,
        y_label=_("days"),
        id_prefix=id_prefix,
    )
