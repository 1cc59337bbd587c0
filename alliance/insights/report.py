"""The service report: referrals, episodes, waiting, outcomes, supporter time and
engagement classes of one service, for a period, filtered by team, programme and care
model. Everything is computed in the database, in a fixed number of queries.

**Outcomes** follow ``alliance.measures.outcomes.episode_outcome`` (reference §5.2) exactly,
written once more in SQL so a report over 100,000 episodes never loads them: for each
episode that *ended in the period* the inner query takes the first and last PHQ-9 and GAD-7
totals (by submission time), how many of each there are and the attended contacts; the
outer query counts

- *finished treatment*: at least two attended contacts;
- the *outcome denominator*: finished, with at least two scores on both measures;
- *at caseness*: of those, a first PHQ-9 at or above its caseness threshold or a first
  GAD-7 at or above its own (10 and 8, from the instrument files);
- *recovered*: at caseness, and the last scores both below caseness;
- *reliable improvement* / *deterioration*: a first-to-last fall (rise) of at least the
  reliable-change threshold (6 and 4) on either measure and no reliable rise (fall) on
  the other; *reliable recovery*: recovered and reliably improved.

Rates use the NHS Talking Therapies denominators: recovery and reliable recovery over the
finished episodes at caseness; reliable improvement and deterioration over every finished
episode with paired scores. A test checks the SQL against ``episode_outcome`` for many
generated episodes.

**The other figures**:

- *referrals*: patients registered in the period (only the team filter applies: a
  referral has no programme yet);
- *active episodes*: episodes open at any time in the period;
- *waiting time*: the median days from an episode's start to its first attended contact,
  over episodes whose first attended contact fell in the period;
- *drop-out*: ended episodes that ended as "dropped out", or after exactly one attended
  contact; over the ended episodes that had begun treatment (an attended contact, or
  ended as dropped out);
- *supporter minutes*: minutes of attended contacts (the minutes recorded, else the
  booked length) and of completed reviews in the period; per patient with an active
  episode, and per patient who recovered in the period;
- *engagement classes*: the active episodes by engagement trajectory.

Dates are the service's own calendar days; the end date is included.
"""

import csv
import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, Service, Team
from alliance.care.models import Contact, ContactStatus, EndReason, Episode, Review
from alliance.insights.models import EngagementLabel
from alliance.lib import charts
from alliance.measures.instruments import get_instrument
from alliance.measures.models import Response

PHQ9, GAD7 = "phq9", "gad7"
MAX_PERIOD_DAYS = 5 * 366
# PostgreSQL 12+ and SQLite 3.35+ both take the hint.
MATERIALIZED = "MATERIALIZED"


# --- The filter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    service: Service
    start: date
    end: date  # included
    team: Team | None = None
    programme: str = ""  # a programme key
    care_model: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.time_zone)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period (midnight after the end date)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    def as_params(self) -> dict[str, str]:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.team is not None:
            params["team"] = str(self.team.pk)
        if self.programme:
            params["programme"] = self.programme
        if self.care_model:
            params["care_model"] = self.care_model
        return params


def default_period(today: date) -> tuple[date, date]:
    """The twelve months up to today."""
    return today.replace(year=today.year - 1) + timedelta(days=1), today


def filtered_episodes(wanted: ReportFilter) -> QuerySet[Episode]:
    """The service's episodes that match the team, programme and care model."""
    episodes = Episode.objects.filter(patient__service_id=wanted.service.pk)
    if wanted.team is not None:
        episodes = episodes.filter(patient__team_id=wanted.team.pk)
    if wanted.programme:
        episodes = episodes.filter(programme__key=wanted.programme)
    if wanted.care_model:
        episodes = episodes.filter(care_model=wanted.care_model)
    return episodes


def active_in_period(episodes: QuerySet[Episode], wanted: ReportFilter) -> QuerySet[Episode]:
    return episodes.filter(started_at__lt=wanted.end_at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=wanted.start_at)
    )


def ended_in_period(episodes: QuerySet[Episode], wanted: ReportFilter) -> QuerySet[Episode]:
    return episodes.filter(ended_at__gte=wanted.start_at, ended_at__lt=wanted.end_at)


# --- Outcomes in SQL ------------------------------------------------------------------------


def _cohort_sql(episodes: QuerySet[Episode], grp=None) -> tuple[str, list]:
    """The episodes as SQL with the columns ``eid``, ``reason`` and ``grp``. The SQL is
    run with parameters, so its own % signs are doubled already."""
    columns = {"eid": F("pk"), "reason": F("end_reason")}
    columns["grp"] = grp if grp is not None else Value("")
    return episodes.annotate(**columns).values(*columns).order_by().query.sql_with_params()


def _scores_ctes(cohort_sql: str) -> str:
    """CTEs from a cohort (``eid``): ``e`` holds each episode's first and last PHQ-9 and
    GAD-7 totals, how many it has of each, and its attended contacts.

    One pass over the responses: window functions number each measure's responses of an
    episode by submission time, then id (a later id breaks a tie of equal times, as
    ``measures.selectors.outcome_of`` reads them in order), and count them; the first is
    number 1 and the last number n."""
    response = connection.ops.quote_name(Response._meta.db_table)
    contact = connection.ops.quote_name(Contact._meta.db_table)
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    per_measure = ", ".join(
        f"MAX(CASE WHEN instrument = '{code}' AND rn = 1 THEN total END) AS {code}_first, "
        f"MAX(CASE WHEN instrument = '{code}' AND rn = n THEN total END) AS {code}_last, "
        f"MAX(CASE WHEN instrument = '{code}' THEN n END) AS {code}_n"
        for code in (PHQ9, GAD7)
    )
    # Table names, constants and the ORM's compiled cohort: no value is spliced in.
    return (
        f"WITH cohort AS {materialized}({cohort_sql}), "  # noqa: S608
        "ranked AS (SELECT r.episode_id, r.instrument, r.total,"
        " ROW_NUMBER() OVER (PARTITION BY r.episode_id, r.instrument"
        " ORDER BY r.submitted_at, r.id) AS rn,"
        " COUNT(*) OVER (PARTITION BY r.episode_id, r.instrument) AS n"
        f" FROM {response} r WHERE r.episode_id IN (SELECT eid FROM cohort)"
        f" AND r.instrument IN ('{PHQ9}', '{GAD7}') AND r.total IS NOT NULL), "
        f"scores AS (SELECT episode_id, {per_measure} FROM ranked"
        " WHERE rn = 1 OR rn = n GROUP BY episode_id), "
        "visits AS (SELECT ct.episode_id, COUNT(*) AS attended"
        f" FROM {contact} ct JOIN cohort c ON c.eid = ct.episode_id"
        f" WHERE ct.status = '{ContactStatus.ATTENDED.value}' GROUP BY ct.episode_id), "
        "e AS (SELECT c.eid, c.reason AS end_reason, c.grp,"
        " s.phq9_first, s.phq9_last, COALESCE(s.phq9_n, 0) AS phq9_n,"
        " s.gad7_first, s.gad7_last, COALESCE(s.gad7_n, 0) AS gad7_n,"
        " COALESCE(v.attended, 0) AS attended"
        " FROM cohort c LEFT JOIN scores s ON s.episode_id = c.eid"
        " LEFT JOIN visits v ON v.episode_id = c.eid) "
    )


def episode_scores(episodes: QuerySet[Episode]) -> dict[int, dict]:
    """Each episode's first and last PHQ-9 and GAD-7 totals, their counts and attended
    contacts, in one query (the alerts engine's deterioration rule reads them)."""
    try:
        cohort_sql, params = _cohort_sql(episodes)
    except EmptyResultSet:  # no episodes at all (e.g. filtered by an empty list)
        return {}
    columns = ["eid", "phq9_first", "phq9_last", "phq9_n", "gad7_first", "gad7_last"]
    columns += ["gad7_n", "attended"]
    sql = _scores_ctes(cohort_sql) + f"SELECT {', '.join(columns)} FROM e"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


@dataclass(frozen=True)
class Outcomes:
    """Counts of the ended episodes of one group (a month, a class, or all)."""

    ended: int = 0
    finished: int = 0
    paired: int = 0  # finished with two or more scores on both measures
    at_caseness: int = 0
    recovered: int = 0
    reliably_improved: int = 0
    reliably_deteriorated: int = 0
    reliably_recovered: int = 0
    dropped_out: int = 0
    began_treatment: int = 0

    def __add__(self, other: "Outcomes") -> "Outcomes":
        return Outcomes(
            **{name: getattr(self, name) + getattr(other, name) for name in OUTCOME_FIELDS}
        )

    @property
    def recovery_rate(self) -> float | None:
        return rate(self.recovered, self.at_caseness)

    @property
    def reliable_improvement_rate(self) -> float | None:
        return rate(self.reliably_improved, self.paired)

    @property
    def reliable_deterioration_rate(self) -> float | None:
        return rate(self.reliably_deteriorated, self.paired)

    @property
    def reliable_recovery_rate(self) -> float | None:
        return rate(self.reliably_recovered, self.at_caseness)

    @property
    def drop_out_rate(self) -> float | None:
        return rate(self.dropped_out, self.began_treatment)


OUTCOME_FIELDS = tuple(Outcomes.__dataclass_fields__)


def rate(numerator: int, denominator: int) -> float | None:
    """A percentage with one decimal; None when there is nothing to divide by."""
    return round(100 * numerator / denominator, 1) if denominator else None


def _outcome_sql() -> tuple[str, list]:
    """The outer query's counts, with the thresholds of the instrument files as parameters."""
    phq9, gad7 = get_instrument(PHQ9), get_instrument(GAD7)
    phq_case, gad_case = phq9.caseness.min_total, gad7.caseness.min_total
    phq_rc, gad_rc = phq9.reliable_change.threshold, gad7.reliable_change.threshold
    finished = "e.attended >= 2"
    paired = f"{finished} AND e.phq9_n >= 2 AND e.gad7_n >= 2"
    case = "(e.phq9_first >= %s OR e.gad7_first >= %s)"
    dec = "(e.phq9_last - e.phq9_first <= -%s OR e.gad7_last - e.gad7_first <= -%s)"
    inc = "(e.phq9_last - e.phq9_first >= %s OR e.gad7_last - e.gad7_first >= %s)"
    recovered = "(e.phq9_last < %s AND e.gad7_last < %s)"
    began = "(e.end_reason = %s OR e.attended >= 1)"
    dropped = "(e.end_reason = %s OR e.attended = 1)"
    parts: list[tuple[str, list]] = [
        ("COUNT(*)", []),
        (finished, []),
        (paired, []),
        (f"{paired} AND {case}", [phq_case, gad_case]),
        (f"{paired} AND {case} AND {recovered}", [phq_case, gad_case, phq_case, gad_case]),
        (f"{paired} AND {dec} AND NOT {inc}", [phq_rc, gad_rc, phq_rc, gad_rc]),
        (f"{paired} AND {inc} AND NOT {dec}", [phq_rc, gad_rc, phq_rc, gad_rc]),
        (
            f"{paired} AND {case} AND {recovered} AND {dec} AND NOT {inc}",
            [phq_case, gad_case, phq_case, gad_case, phq_rc, gad_rc, phq_rc, gad_rc],
        ),
        (dropped, [EndReason.DROPPED_OUT.value]),
        (began, [EndReason.DROPPED_OUT.value]),
    ]
    sql, params = [], []
    for index, (condition, values) in enumerate(parts):
        column = OUTCOME_FIELDS[index]
        if index == 0:
            sql.append(f"{condition} AS {column}")
        else:
            sql.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS {column}")
        params += values
    return ", ".join(sql), params


def outcome_groups(
    episodes: QuerySet[Episode], *, group: str | None = None, tz: ZoneInfo | None = None
) -> dict[str, Outcomes]:
    """Outcome counts of ``episodes`` (ended ones), in one query: all together (key ""),
    by month of the end (``group="month"``, key "YYYY-MM") or by engagement class
    (``group="label"``)."""
    grp = None
    if group == "month":
        grp = TruncMonth("ended_at", tzinfo=tz, output_field=DateField())
    elif group == "label":
        grp = F("engagement_class__label")
    try:
        cohort_sql, cohort_params = _cohort_sql(episodes, grp)
    except EmptyResultSet:  # no episodes at all (e.g. filtered by an empty list)
        return {}
    counts_sql, counts_params = _outcome_sql()
    # Built from constants and the ORM's compiled cohort; every value is a parameter.
    sql = _scores_ctes(cohort_sql) + f"SELECT {counts_sql}, e.grp FROM e GROUP BY e.grp"  # noqa: S608
    with _without_jit(), connection.cursor() as cursor:
        cursor.execute(sql, [*cohort_params, *counts_params])
        rows = cursor.fetchall()
    found: dict[str, Outcomes] = {}
    for row in rows:
        key = _group_key(row[len(OUTCOME_FIELDS)], group)
        found[key] = found.get(key, Outcomes()) + Outcomes(
            *(int(value or 0) for value in row[: len(OUTCOME_FIELDS)])
        )
    return found


def _group_key(value, group: str | None) -> str:
    if value is None or group is None:
        return ""
    return str(value)[:7] if group == "month" else str(value)


# --- Waiting time ---------------------------------------------------------------------------


def median_wait_days(episodes: QuerySet[Episode], wanted: ReportFilter) -> tuple[float | None, int]:
    """The median days from start to first attended contact, over the episodes whose first
    attended contact fell in the period; and how many such episodes there are."""
    firsts = (
        Contact.objects.filter(episode__in=episodes, status=ContactStatus.ATTENDED)
        .values("episode_id")
        # One start per episode: Min() only names it, so the outer query can use it.
        .annotate(first_at=Min("scheduled_at"), started_at=Min("episode__started_at"))
        .filter(first_at__gte=wanted.start_at, first_at__lt=wanted.end_at)
        .values("first_at", "started_at")
        .order_by()
    )
    inner_sql, params = firsts.query.sql_with_params()
    if connection.vendor == "postgresql":
        days = "EXTRACT(EPOCH FROM (w.first_at - w.started_at)) / 86400.0"
    else:
        days = "(julianday(w.first_at) - julianday(w.started_at))"
    # The middle one or two waits, averaged: a median that SQLite can compute too. Built
    # from constants and the ORM's compiled query; every value is a parameter.
    ranked = f"SELECT {days} AS d, ROW_NUMBER() OVER (ORDER BY {days}) AS rn, COUNT(*) OVER () AS c"
    middle = "WHERE rn IN ((c + 1) / 2, (c + 2) / 2)"
    sql = f"SELECT AVG(d), MAX(c) FROM ({ranked} FROM ({inner_sql}) w) t {middle}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        median, count = cursor.fetchone()
    if median is None:
        return None, 0
    return round(float(median), 1), int(count)


# --- The report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One figure of the report: the page's table and the CSV are both made of these."""

    key: str
    label: str
    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    unit: str = ""

    @property
    def shown(self) -> str:
        if self.value is None:
            return "–"
        if self.unit == "%":
            return f"{self.value:.1f}%"
        if isinstance(self.value, float):
            return f"{self.value:.1f}"
        return str(self.value)


@dataclass
class ServiceReport:
    filter: ReportFilter
    referrals: int
    active_episodes: int
    active_patients: int
    median_wait_days: float | None
    waited_episodes: int
    outcomes: Outcomes
    by_month: dict[str, Outcomes]
    contact_minutes: int
    review_minutes: int
    classes: dict[str, int] = field(default_factory=dict)

    @property
    def supporter_minutes(self) -> int:
        return self.contact_minutes + self.review_minutes

    @property
    def minutes_per_patient(self) -> float | None:
        if not self.active_patients:
            return None
        return round(self.supporter_minutes / self.active_patients, 1)

    @property
    def minutes_per_recovered(self) -> float | None:
        if not self.outcomes.recovered:
            return None
        return round(self.supporter_minutes / self.outcomes.recovered, 1)

    def rows(self) -> list[ReportRow]:
        o = self.outcomes
        rows = [
            ReportRow("referrals", _("Referrals (patients registered)"), self.referrals),
            ReportRow("active_episodes", _("Active episodes"), self.active_episodes),
            ReportRow(
                "active_patients", _("Patients with an active episode"), self.active_patients
            ),
            ReportRow(
                "median_wait_days",
                _("Median days from start to first attended contact"),
                self.median_wait_days,
                denominator=self.waited_episodes,
                unit=_("days"),
            ),
            ReportRow("ended", _("Episodes ended"), o.ended),
            ReportRow("finished", _("Finished treatment (2+ attended contacts)"), o.finished),
            ReportRow("paired", _("Finished with paired PHQ-9 and GAD-7 scores"), o.paired),
            ReportRow("at_caseness", _("Finished at caseness"), o.at_caseness),
            ReportRow("recovery", _("Recovery"), o.recovery_rate, o.recovered, o.at_caseness, "%"),
            ReportRow(
                "reliable_improvement",
                _("Reliable improvement"),
                o.reliable_improvement_rate,
                o.reliably_improved,
                o.paired,
                "%",
            ),
            ReportRow(
                "reliable_recovery",
                _("Reliable recovery"),
                o.reliable_recovery_rate,
                o.reliably_recovered,
                o.at_caseness,
                "%",
            ),
            ReportRow(
                "reliable_deterioration",
                _("Reliable deterioration"),
                o.reliable_deterioration_rate,
                o.reliably_deteriorated,
                o.paired,
                "%",
            ),
            ReportRow(
                "drop_out", _("Drop-out"), o.drop_out_rate, o.dropped_out, o.began_treatment, "%"
            ),
            ReportRow(
                "supporter_minutes",
                _("Supporter minutes (contacts and reviews)"),
                self.supporter_minutes,
                unit=_("minutes"),
            ),
            ReportRow(
                "minutes_per_patient",
                _("Supporter minutes per patient"),
                self.minutes_per_patient,
                self.supporter_minutes,
                self.active_patients,
                _("minutes"),
            ),
            ReportRow(
                "minutes_per_recovered",
                _("Supporter minutes per recovered patient"),
                self.minutes_per_recovered,
                self.supporter_minutes,
                o.recovered,
                _("minutes"),
            ),
        ]
        labels = dict(EngagementLabel.choices)
        for label, count in self.classes.items():
            name = labels.get(label, _("Not classified yet"))
            rows.append(
                ReportRow(
                    f"class_{label or 'none'}",
                    _("Engagement: %(name)s") % {"name": name},
                    count,
                    denominator=self.active_episodes,
                )
            )
        return rows


def engagement_class_counts(episodes: QuerySet[Episode]) -> dict[str, int]:
    """Active episodes by engagement class, in the classes' order; "" = not classified."""
    counts = dict(
        episodes.values_list("engagement_class__label")
        .annotate(n=Count("pk"))
        .values_list("engagement_class__label", "n")
        .order_by()
    )
    order = [*EngagementLabel.values, None]
    return {(label or ""): counts[label] for label in order if counts.get(label)}


@contextmanager
def _without_jit():
    """PostgreSQL's JIT compiler spends longer compiling the outcome query (its cost
    estimates for the grouped scores are pessimistic) than the query takes to run: off for
    that query's transaction only. Elsewhere nothing (an SQLite transaction would take the
    write lock for a read)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def service_report(wanted: ReportFilter) -> ServiceReport:
    """The report, in nine queries whatever the number of episodes."""
    episodes = filtered_episodes(wanted)
    active = active_in_period(episodes, wanted)
    ended = ended_in_period(episodes, wanted)
    referrals = Patient.objects.filter(
        service_id=wanted.service.pk, created_at__gte=wanted.start_at, created_at__lt=wanted.end_at
    )
    if wanted.team is not None:
        referrals = referrals.filter(team_id=wanted.team.pk)
    sizes = active.aggregate(episodes=Count("pk"), patients=Count("patient", distinct=True))
    by_month = outcome_groups(ended, group="month", tz=wanted.tz)
    total = sum(by_month.values(), Outcomes())
    median, waited = median_wait_days(episodes, wanted)
    contact_minutes = Contact.objects.filter(
        episode__in=episodes,
        status=ContactStatus.ATTENDED,
        scheduled_at__gte=wanted.start_at,
        scheduled_at__lt=wanted.end_at,
    ).aggregate(m=Sum(Coalesce("minutes_spent", "duration_minutes", output_field=IntegerField())))[
        "m"
    ]
    review_minutes = Review.objects.filter(
        episode__in=episodes,
        completed_at__gte=wanted.start_at,
        completed_at__lt=wanted.end_at,
    ).aggregate(m=Sum("minutes_spent"))["m"]
    return ServiceReport(
        filter=wanted,
        referrals=referrals.count(),
        active_episodes=sizes["episodes"],
        active_patients=sizes["patients"],
        median_wait_days=median,
        waited_episodes=waited,
        outcomes=total,
        by_month=dict(sorted(by_month.items())),
        contact_minutes=int(contact_minutes or 0),
        review_minutes=int(review_minutes or 0),
        classes=engagement_class_counts(active),
    )


# --- CSV ----------------------------------------------------------------------------------


def report_csv(report: ServiceReport) -> str:
    """The report as CSV: the filter first, then one line per figure, exactly the page's."""
    out = io.StringIO()
    writer = csv.writer(out)
    wanted = report.filter
    writer.writerow(["service", wanted.service.name])
    for name, value in wanted.as_params().items():
        shown = wanted.team.name if name == "team" and wanted.team else value
        writer.writerow([name, shown])
    writer.writerow([])
    writer.writerow(["figure", "label", "value", "numerator", "denominator", "unit"])
    for row in report.rows():
        writer.writerow(
            [
                row.key,
                row.label,
                "" if row.value is None else row.value,
                "" if row.numerator is None else row.numerator,
                "" if row.denominator is None else row.denominator,
                row.unit,
            ]
        )
    writer.writerow([])
    writer.writerow(["month", *OUTCOME_FIELDS])
    for month, outcomes in report.by_month.items():
        writer.writerow([month, *(getattr(outcomes, name) for name in OUTCOME_FIELDS)])
    return out.getvalue()


# --- Charts -------------------------------------------------------------------------------

BAR_COLOUR = "#1f5f63"
BAR_TRACK = "#e0e8ec"


def rate_bars(rows: list[ReportRow], *, title: str, id_prefix: str) -> SafeString:
    """Percentages as an accessible horizontal bar chart (SVG drawn on the server, no
    style attributes: the page's Content-Security-Policy allows none). Each label sits
    above its bar, so the chart stays legible on a phone. The title and a description
    listing every value are the chart's text alternative."""
    shown = [row for row in rows if row.unit == "%"]
    width, bar_width, row_height = 360, 280, 46
    height = row_height * max(len(shown), 1) + 4
    description = "; ".join(
        f"{row.label}: {row.shown}"
        + (f" ({row.numerator} / {row.denominator})" if row.denominator else "")
        for row in shown
    )
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
            'role="img" aria-labelledby="{}-title {}-desc" class="chart analytics-bars" '
            'font-family="system-ui, sans-serif" font-size="14">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            width,
            height,
            id_prefix,
            id_prefix,
            id_prefix,
            title,
            id_prefix,
            description or _("No data yet."),
        )
    ]
    for index, row in enumerate(shown):
        y = index * row_height
        filled = 0 if row.value is None else bar_width * min(row.value, 100) / 100
        parts.append(
            format_html(
                '<text x="0" y="{}" fill="#1b2a3a">{}</text>'
                '<rect x="0" y="{}" width="{}" height="16" fill="{}"/>'
                '<rect x="0" y="{}" width="{}" height="16" fill="{}"/>'
                '<text x="{}" y="{}" fill="#1b2a3a" font-weight="600">{}</text>',
                y + 15,
                row.label,
                y + 22,
                bar_width,
                BAR_TRACK,
                y + 22,
                f"{filled:.1f}",
                BAR_COLOUR,
                bar_width + 8,
                y + 35,
                row.shown,
            )
        )
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html-escaped


def monthly_chart(report: ServiceReport) -> SafeString:
    """Recovery, reliable improvement and reliable deterioration rates by month of the
    episodes' end (months without finished episodes are gaps)."""
    months = list(report.by_month.items())
    series = []
    for name, attribute in (
        (_("Recovery"), "recovery_rate"),
        (_("Reliable improvement"), "reliable_improvement_rate"),
        (_("Reliable deterioration"), "reliable_deterioration_rate"),
    ):
        points = [
            charts.Point(date.fromisoformat(f"{month}-01"), getattr(outcomes, attribute))
            for month, outcomes in months
        ]
        series.append(charts.Series(name, points))
    return charts.line_chart(
        series,
        title=_("Outcomes by month of the episode's end (%)"),
        y_min=0,
        y_max=100,
        y_label="%",
        id_prefix="report-months",
    )
