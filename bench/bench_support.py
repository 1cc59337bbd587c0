"""The caseload and the pre-session brief of a supporter with 300 patients, each with a year
of daily check-ins, weekly scores, contacts and messages: server time per request.

Run it on PostgreSQL for the figures that count (``DATABASE_URL=postgres://... make bench``).
Targets: the caseload's p95 under 150 ms, the brief's under 50 ms. Set ``BENCH_PATIENTS``
for a smaller caseload while trying things out.
"""

import os
import statistics
import time
import uuid
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from bench.__main__ import Figure

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "300"))
DAYS = 365
CASELOAD_REQUESTS = 60
BRIEF_REQUESTS = 300
BATCH = 2000


def optional_model(module: str, name: str):
    from alliance.insights.caseload import optional

    return optional(module, name)


def build_caseload():
    """A supporter of one team with PATIENTS patients and a year of history each."""
    from alliance.accounts.models import Patient, Role, Service, Team, User
    from alliance.care.models import Contact, ContactStatus, Episode, Homework, ModuleAssignment
    from alliance.checkins.models import DailyCheckIn, ExerciseEntry
    from alliance.conftest import make_programme, make_staff
    from alliance.content.models import Module
    from alliance.insights.models import Alert, AlertKind
    from alliance.measures.models import QuestionnaireRequest, RequestStatus, Response

    now = timezone.now()
    start = now - timedelta(days=DAYS)
    service = Service.objects.create(name="Bench support", slug="bench-support")
    team = Team.objects.create(service=service, name="Bench team")
    supporter = make_staff(service, Role.SUPPORTER, "Bench Supporter", [team])
    programme = make_programme(key="bench-support")
    modules = list(Module.objects.filter(programme=programme).order_by("position"))

    users = User.objects.bulk_create(
        # "!" marks an unusable password: these patients never sign in.
        User(email=f"bench{n:04d}@patients.example", full_name=f"Bench {n:04d}", password="!")  # noqa: S106
        for n in range(PATIENTS)
    )
    patients = Patient.objects.bulk_create(
        Patient(user=user, service=service, team=team, supporter=supporter) for user in users
    )
    episodes = Episode.objects.bulk_create(
        Episode(
            patient=p,
            programme=programme,
            care_model="blended",
            supporter=supporter,
            started_at=start,
        )
        for p in patients
    )
    ModuleAssignment.objects.bulk_create(
        (
            ModuleAssignment(
                episode=e,
                module=m,
                position=m.position,
                started_at=start + timedelta(days=7 * m.position),
                completed_at=start + timedelta(days=7 * m.position + 3),
                pages_done=3,
            )
            for e in episodes
            for m in modules
        ),
        batch_size=BATCH,
    )
    DailyCheckIn.objects.bulk_create(
        (
            DailyCheckIn(
                patient=p, local_date=(start + timedelta(days=d)).date(), mood=(d + i) % 11
            )
            for i, p in enumerate(patients)
            for d in range(DAYS)
        ),
        batch_size=BATCH,
    )
    weeks = DAYS // 7
    Contact.objects.bulk_create(
        (
            Contact(
                episode=e,
                supporter=supporter,
                kind="phone",
                scheduled_at=start + timedelta(weeks=w, hours=10),
                status=ContactStatus.ATTENDED,
                minutes_spent=25,
            )
            for e in episodes
            for w in range(weeks)
        ),
        batch_size=BATCH,
    )
    Contact.objects.bulk_create(
        Contact(
            episode=e,
            supporter=supporter,
            kind="video",
            scheduled_at=now + timedelta(days=1 + i % 6),
        )
        for i, e in enumerate(episodes)
    )
    requests = QuestionnaireRequest.objects.bulk_create(
        (
            QuestionnaireRequest(
                patient=e.patient,
                episode=e,
                instrument=code,
                occasion=f"bench:{w}",
                available_from=start + timedelta(weeks=w),
                due_at=start + timedelta(weeks=w, days=2),
                status=RequestStatus.COMPLETED,
            )
            for e in episodes
            for w in range(weeks)
            for code in ("phq9", "gad7")
        ),
        batch_size=BATCH,
    )
    Response.objects.bulk_create(
        (
            Response(
                request=r,
                patient_id=r.patient_id,
                episode_id=r.episode_id,
                instrument=r.instrument,
                submitted_at=r.available_from + timedelta(days=1),
                submitted_by_id=r.patient.user_id,
                total=(7 + int(r.occasion.split(":")[1]) % 9)
                if r.instrument == "phq9"
                else (5 + int(r.occasion.split(":")[1]) % 7),
                severity="",
                risk=False,
            )
            for r in requests
        ),
        batch_size=BATCH,
    )
    ExerciseEntry.objects.bulk_create(
        (
            ExerciseEntry(
                patient=p,
                kind="thought_record",
                data={
                    "situation": f"Week {w} at work",
                    "automatic_thought": "I can't cope",
                    "balanced_thought": "I coped last week",
                },
            )
            for p in patients
            for w in range(0, weeks, 4)
        ),
        batch_size=BATCH,
    )
    Homework.objects.bulk_create(
        (
            Homework(
                episode=e,
                text=f"Task of week {w}",
                source="supporter",
                done_at=start + timedelta(weeks=w, days=3) if w % 3 else None,
            )
            for e in episodes
            for w in range(0, weeks, 2)
        ),
        batch_size=BATCH,
    )
    Alert.objects.bulk_create(
        Alert(
            patient=p,
            kind=AlertKind.RISK,
            cause=f"bench:{p.pk}",
            summary="Bench alert",
            raised_at=now - timedelta(days=1),
            owner=supporter,
        )
        for p in patients[::25]
    )
    add_messages(patients, supporter, start, now)
    settle_database()
    return supporter, patients


def settle_database() -> None:
    """What autovacuum does soon after a bulk load, done now rather than waited for: the
    planner's statistics and the visibility map of the new rows."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def add_messages(patients, supporter, start, now) -> None:
    """A message from the patient and a reply every week; every tenth patient waits."""
    thread_model = optional_model("alliance.messaging.models", "Thread")
    message_model = optional_model("alliance.messaging.models", "Message")
    if thread_model is None or message_model is None:
        return
    threads = thread_model.objects.bulk_create(
        thread_model(
            patient=p,
            last_message_at=now - timedelta(days=3),
            awaiting_reply_since=now - timedelta(days=3) if i % 10 == 0 else None,
        )
        for i, p in enumerate(patients)
    )
    weeks = DAYS // 7
    message_model.objects.bulk_create(
        (
            message_model(
                thread=t,
                author_id=t.patient.user_id if from_patient else supporter.user_id,
                body="How was the week?" if not from_patient else "It was a mixed week.",
                sent_at=start + timedelta(weeks=w, hours=9 if from_patient else 15),
                is_from_patient=from_patient,
                client_key=uuid.uuid4().hex,
            )
            for t in threads
            for w in range(weeks)
            for from_patient in (True, False)
        ),
        batch_size=BATCH,
    )


def timed(client: Client, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20)[18]


def support_paths(patient_id: int) -> tuple[str, str]:
    """The caseload's path and the brief's path for a patient."""
    from django.urls import reverse

    return reverse("support:caseload"), reverse("support:brief", args=[patient_id])


def run() -> list[Figure]:
    from alliance.conftest import verified_client
    from alliance.lib.startup import settle_after_startup

    supporter, patients = build_caseload()
    client = verified_client(Client(), supporter.user)
    caseload_path, _brief = support_paths(patients[0].pk)
    timed(client, caseload_path)  # warm up: the templates and the instruments
    settle_after_startup()  # as alliance/wsgi.py does in every server process
    caseload = [timed(client, caseload_path) for _ in range(CASELOAD_REQUESTS)]
    briefs = [
        timed(client, support_paths(patients[i % len(patients)].pk)[1])
        for i in range(BRIEF_REQUESTS)
    ]
    return [
        Figure("caseload_median", statistics.median(caseload), "ms per request", "-"),
        Figure("caseload_p95", p95(caseload), "ms per request", "< 150 ms"),
        Figure("brief_median", statistics.median(briefs), "ms per request", "-"),
        Figure("brief_p95", p95(briefs), "ms per request", "< 50 ms"),
    ]
