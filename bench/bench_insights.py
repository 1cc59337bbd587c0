"""The insights analytics at scale: the service report over 100,000 episodes and one million
stored questionnaire responses, and recomputing the daily engagement record of 10,000
patients. Meant for PostgreSQL (``DATABASE_URL``); on SQLite set smaller sizes.

Sizes: ``BENCH_EPISODES`` (100,000), ``BENCH_RESPONSES`` (1,000,000, spread evenly over the
episodes), ``BENCH_ENGAGEMENT_PATIENTS`` (10,000). Rows are written with COPY on PostgreSQL
(a million rows in seconds) and with batched INSERTs elsewhere.
"""

import os
import random
import statistics
import time
import uuid
from datetime import date, datetime, timedelta

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import JSONField, Max, UUIDField
from django.utils import timezone

from bench.__main__ import Figure

EPISODES = int(os.environ.get("BENCH_EPISODES", 100_000))
RESPONSES = int(os.environ.get("BENCH_RESPONSES", 1_000_000))
ENGAGEMENT_PATIENTS = int(os.environ.get("BENCH_ENGAGEMENT_PATIENTS", 10_000))
EPISODES_PER_PATIENT = 5
ENGAGEMENT_DAYS = 28


# --- Fast inserts --------------------------------------------------------------------------


class Table:
    """Rows for one model, given as tuples of ``attnames``; every other column gets its
    field's default (prepared once), so the benchmark keeps working when models grow."""

    def __init__(self, model, attnames: list[str]):
        self.model = model
        fields = [f for f in model._meta.concrete_fields]
        by_attname = {f.attname: f for f in fields}
        self.given = [by_attname[name] for name in attnames]
        now = timezone.now()
        self.filled = []
        for field in fields:
            if field.attname in attnames or (field.primary_key and field.attname not in attnames):
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()  # "" for text fields that have no default
            self.filled.append((field, field.get_db_prep_save(value, connection)))
        self.columns = [f.column for f in self.given] + [f.column for f, _v in self.filled]
        self.extra = tuple(value for _f, value in self.filled)
        # Values the driver cannot take as they are (JSON, and UUIDs on SQLite) are prepared
        # by their field; the benchmark passes the same few objects again and again.
        self.prepare = [
            isinstance(f, JSONField)
            or (isinstance(f, UUIDField) and connection.vendor != "postgresql")
            for f in self.given
        ]
        self.prepared: dict[tuple[int, int], object] = {}

    def row(self, values: tuple) -> tuple:
        if not any(self.prepare):
            return values + self.extra
        out = []
        for index, (field, value) in enumerate(zip(self.given, values, strict=True)):
            if self.prepare[index] and value is not None:
                key = (index, id(value))
                if key not in self.prepared or isinstance(value, uuid.UUID):
                    self.prepared[key] = field.get_db_prep_save(value, connection)
                value = self.prepared[key]
            out.append(value)
        return tuple(out) + self.extra

    def write(self, rows) -> None:
        table = self.model._meta.db_table
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(self.row(row))
                return
            marks = ", ".join(["%s"] * len(self.columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - names only
            batch = []
            for row in rows:
                batch.append(self.row(row))
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


def next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def reset_sequences(*models) -> None:
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def patients(service, team, count: int, prefix: str, now: datetime) -> list[int]:
    """``count`` patients (and their users) of ``team``; their ids."""
    from alliance.accounts.models import Patient, User

    first_user, first_patient = next_id(User), next_id(Patient)
    users = Table(User, ["id", "email", "full_name", "password", "date_joined"])
    users.write(
        (first_user + i, f"{prefix}{i}@bench.example", f"Bench {i}", "!", now) for i in range(count)
    )
    rows = Table(Patient, ["id", "user_id", "service_id", "team_id", "pseudonym", "created_at"])
    rows.write(
        (first_patient + i, first_user + i, service.pk, team.pk, uuid.uuid4(), now)
        for i in range(count)
    )
    reset_sequences(User, Patient)
    return list(range(first_patient, first_patient + count))


# --- The service report ---------------------------------------------------------------------


def build_report_data(now: datetime):
    from alliance.accounts.models import Patient, Service, Team
    from alliance.care.models import Contact, Episode
    from alliance.conftest import make_programme
    from alliance.insights.models import EngagementClass
    from alliance.measures.models import QuestionnaireRequest, Response

    service = Service.objects.create(name="Report bench", slug="report-bench")
    team = Team.objects.create(service=service, name="Bench team")
    programme = make_programme(key="report-bench")
    rng = random.Random(7)  # noqa: S311
    patient_ids = patients(service, team, max(1, EPISODES // EPISODES_PER_PATIENT), "report", now)
    first_episode = next_id(Episode)
    episodes, starts = [], []
    for i in range(EPISODES):
        started = now - timedelta(days=rng.randint(30, 360), hours=rng.randint(0, 23))
        ended = started + timedelta(days=rng.randint(20, 100))
        is_active = ended > now
        episodes.append(
            (
                first_episode + i,
                patient_ids[i % len(patient_ids)],
                programme.pk,
                rng.choice(["blended", "guided_self_help", "messaging"]),
                "ended" if not is_active else "active",
                started,
                None if is_active else ended,
                "" if is_active else rng.choice(["completed", "completed", "dropped_out"]),
            )
        )
        starts.append(started)
    # Keep one active episode per patient (the database allows no more).
    seen_active = set()
    for index, row in enumerate(episodes):
        if row[4] == "active":
            if row[1] in seen_active:
                ended = row[5] + timedelta(days=10)
                episodes[index] = (*row[:4], "ended", row[5], ended, "completed")
            seen_active.add(row[1])
    with transaction.atomic():
        Table(
            Episode,
            [
                "id",
                "patient_id",
                "programme_id",
                "care_model",
                "status",
                "started_at",
                "ended_at",
                "end_reason",
            ],
        ).write(iter(episodes))
        reset_sequences(Episode)
        Table(Contact, ["episode_id", "kind", "scheduled_at", "status", "minutes_spent"]).write(
            (
                first_episode + i,
                "phone",
                starts[i] + timedelta(days=7 * c + rng.randint(1, 6)),
                "attended" if rng.random() < 0.85 else "dna",
                rng.randint(20, 50),
            )
            for i in range(EPISODES)
            for c in range(3)
        )
        per_episode = max(2, RESPONSES // max(EPISODES, 1))
        first_request = next_id(QuestionnaireRequest)
        requests, responses = [], []
        answers, subscales = [], {}
        number = 0
        for i in range(EPISODES):
            episode_id, patient_id = first_episode + i, episodes[i][1]
            base = rng.uniform(8, 20)
            course = rng.uniform(-1.5, 0.5)
            for k in range(per_episode):
                code = "phq9" if k % 2 == 0 else "gad7"
                week = k // 2
                at = starts[i] + timedelta(days=7 * week, minutes=k)
                scale = 1.0 if code == "phq9" else 0.75
                total = max(
                    0, min(27 if code == "phq9" else 21, round((base + course * week) * scale))
                )
                requests.append(
                    (
                        first_request + number,
                        patient_id,
                        episode_id,
                        code,
                        f"b:{number}",
                        at,
                        at,
                        "completed",
                    )
                )
                responses.append(
                    (
                        first_request + number,
                        patient_id,
                        episode_id,
                        code,
                        at,
                        total,
                        total >= (10 if code == "phq9" else 8),
                        False,
                        answers,
                        answers,
                        subscales,
                    )
                )
                number += 1
        Table(
            QuestionnaireRequest,
            [
                "id",
                "patient_id",
                "episode_id",
                "instrument",
                "occasion",
                "available_from",
                "due_at",
                "status",
            ],
        ).write(iter(requests))
        reset_sequences(QuestionnaireRequest)
        submitter = Table(
            Response,
            [
                "request_id",
                "patient_id",
                "episode_id",
                "instrument",
                "submitted_at",
                "total",
                "caseness",
                "risk",
                "answers",
                "item_scores",
                "subscales",
                "submitted_by_id",
            ],
        )
        users = dict(Patient.objects.filter(pk__in=patient_ids).values_list("pk", "user_id"))
        submitter.write(row + (users[row[1]],) for row in responses)
        reset_sequences(Response)
        labels = [
            "sustained",
            "early_drop_off",
            "late_disengagement",
            "lapsed_and_resumed",
            "low_throughout",
        ]
        curve = [3] * 12
        Table(EngagementClass, ["episode_id", "label", "curve", "computed_at"]).write(
            (first_episode + i, labels[i % len(labels)], curve, now) for i in range(EPISODES)
        )
    analyze()
    return service, number


def time_report(service, now: datetime) -> float:
    from alliance.insights.report import ReportFilter, service_report

    wanted = ReportFilter(service, (now - timedelta(days=400)).date(), now.date())
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        found = service_report(wanted)
        timings.append(time.perf_counter() - began)
    assert found.active_episodes == EPISODES, found.active_episodes
    return statistics.median(timings)


# --- The engagement record -----------------------------------------------------------------


def build_engagement_data(now: datetime) -> tuple[date, date]:
    from alliance.accounts.models import Patient, Service, Team
    from alliance.care.models import Contact, Episode
    from alliance.checkins.models import DailyCheckIn
    from alliance.conftest import make_programme
    from alliance.insights.models import ActivitySession, EngagementEvent
    from alliance.messaging.models import Message, Thread

    service = Service.objects.create(name="Engagement bench", slug="engagement-bench")
    team = Team.objects.create(service=service, name="Bench team")
    programme = make_programme(key="engagement-bench")
    ids = patients(service, team, ENGAGEMENT_PATIENTS, "engaged", now)
    rng = random.Random(11)  # noqa: S311
    start = now - timedelta(days=ENGAGEMENT_DAYS)
    users = dict(Patient.objects.filter(pk__in=ids).values_list("pk", "user_id"))
    with transaction.atomic():
        first_episode, first_thread = next_id(Episode), next_id(Thread)
        Table(
            Episode, ["id", "patient_id", "programme_id", "care_model", "status", "started_at"]
        ).write(
            (first_episode + n, pid, programme.pk, "blended", "active", start)
            for n, pid in enumerate(ids)
        )
        reset_sequences(Episode)
        days = {pid: sorted(rng.sample(range(ENGAGEMENT_DAYS), rng.randint(4, 20))) for pid in ids}

        def moment(day: int) -> datetime:
            return start + timedelta(days=day, hours=rng.randint(7, 21), minutes=rng.randint(0, 59))

        sessions = []
        for pid in ids:
            for day in days[pid]:
                began = moment(day)
                sessions.append((pid, began, began + timedelta(minutes=rng.randint(1, 40))))
        Table(ActivitySession, ["patient_id", "started_at", "last_seen_at"]).write(iter(sessions))
        Table(EngagementEvent, ["patient_id", "at", "kind", "key"]).write(
            (pid, moment(day), "page_completed", f"b:{pid}:{day}:{k}")
            for pid in ids
            for day in days[pid]
            for k in range(2)
        )
        Table(Contact, ["episode_id", "kind", "scheduled_at", "status"]).write(
            (
                first_episode + n,
                "phone",
                start + timedelta(days=7 * w + 1),
                "attended" if rng.random() < 0.8 else "dna",
            )
            for n, _pid in enumerate(ids)
            for w in range(4)
        )
        Table(DailyCheckIn, ["patient_id", "local_date", "mood"]).write(
            (pid, (start + timedelta(days=day)).date(), rng.randint(0, 10))
            for pid in ids
            for day in days[pid][::2]
        )
        Table(Thread, ["id", "patient_id", "last_message_at"]).write(
            (first_thread + n, pid, now) for n, pid in enumerate(ids)
        )
        reset_sequences(Thread)
        Table(Message, ["thread_id", "author_id", "sent_at", "is_from_patient"]).write(
            (first_thread + n, users[pid], moment(day), k == 0)
            for n, pid in enumerate(ids)
            for day in days[pid][::3]
            for k in range(2)
        )
    analyze()
    return start.date(), now.date()


def time_engagement(start: date, end: date) -> tuple[float, int]:
    from alliance.insights.services import engagement_recompute

    began = time.perf_counter()
    written = engagement_recompute(start=start, end=end)
    return time.perf_counter() - began, written


def run() -> list[Figure]:
    now = timezone.now()
    service, responses = build_report_data(now)
    report_seconds = time_report(service, now)
    start, end = build_engagement_data(now)
    engagement_seconds, days = time_engagement(start, end)
    return [
        Figure(
            "service_report",
            report_seconds,
            "s",
            f"< 2 s over {EPISODES:,} episodes and {responses:,} responses",
        ),
        Figure(
            "engagement_recompute",
            engagement_seconds,
            "s",
            f"< 60 s for {ENGAGEMENT_PATIENTS:,} patients × {ENGAGEMENT_DAYS} days "
            f"({days:,} days written)",
        ),
    ]
