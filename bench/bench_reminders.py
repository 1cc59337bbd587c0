"""Reminders: 100,000 patients with a check-in reminder due in the same minute (in four
time zones), found, queued and delivered to the null channel by two workers, exactly once.

The timed part is the engine's: the finder (bulk queries), the dispatch into the real
queue, and two workers taking batches from it and delivering them. On PostgreSQL with
REDIS_URL set the workers are a real `alliance run_huey` with two worker processes; on
the in-memory SQLite test database they are two threads of this process over huey's
SQLite queue. Set BENCH_REMINDER_PATIENTS for fewer patients.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.__main__ import Figure

PATIENTS = int(os.environ.get("BENCH_REMINDER_PATIENTS", 100_000))
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
CHUNK = 5_000
WORKERS = 2
BATCH = 2_000  # reminders per delivery task: a null channel sends nothing, so bigger


def due_minute() -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)


def build_patients(count: int, due: datetime) -> None:
    """Users, patients, episodes, settings and one due check-in schedule each, in bulk."""
    from django.db import transaction

    from alliance.accounts.models import Patient, Service, Team, User
    from alliance.care.models import Episode
    from alliance.conftest import make_programme
    from alliance.notify.models import ReminderSchedule, ReminderSettings

    service = Service.objects.create(name="Reminder bench", slug="reminder-bench")
    team = Team.objects.create(service=service, name="Team")
    programme = make_programme(key="reminder-bench")
    local = {zone: due.astimezone(ZoneInfo(zone)) for zone in ZONES}
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(
                    email=f"r{n}@bench.example",
                    full_name=f"Bench {n}",
                    password="!",  # noqa: S106 (unusable: these people never sign in)
                    time_zone=ZONES[n % len(ZONES)],
                )
                for n in numbers
            )
            patients = Patient.objects.bulk_create(
                Patient(user=user, service=service, team=team) for user in users
            )
            Episode.objects.bulk_create(
                Episode(patient=p, programme=programme, care_model="blended", started_at=due)
                for p in patients
            )
            ReminderSettings.objects.bulk_create(
                ReminderSettings(patient=p, channels=["null"]) for p in patients
            )
            ReminderSchedule.objects.bulk_create(
                ReminderSchedule(
                    patient=p,
                    kind="checkin",
                    enabled=True,
                    days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    time_of_day=local[u.time_zone].time(),
                    next_due_at=due,
                    next_local_date=local[u.time_zone].date(),
                )
                for p, u in zip(patients, users, strict=True)
            )


def real_queue(name: str):
    """The configured huey instance with a real storage instead of test mode's memory."""
    from huey.storage import PriorityRedisStorage, SqliteStorage

    from alliance.notify.tasks import deliver_reminders

    huey = deliver_reminders.huey
    huey._immediate = False  # the `immediate` setter would replace the storage
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        huey.storage = PriorityRedisStorage(name, url=redis_url)
    else:
        folder = tempfile.mkdtemp(prefix="reminder-bench-")
        huey.storage = SqliteStorage(name, filename=f"{folder}/huey.sqlite3")
    huey.storage.flush_all()
    return huey


def start_worker_processes(name: str) -> tuple[subprocess.Popen, Path]:
    """`alliance run_huey` with two worker processes, on the benchmark's PostgreSQL
    database and Redis queue; returns once it is up."""
    from django.db import connection

    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    host = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    environment = {
        **os.environ,
        "ALLIANCE_TESTING": "0",
        "DATABASE_URL": f"postgres://{auth}@{host}/{params['NAME']}",
        "HUEY_NAME": name,
        "LOG_LEVEL": "INFO",
        "NOTIFY_BATCH_SIZE": str(BATCH),
    }
    log = Path(tempfile.mkdtemp(prefix="reminder-bench-")) / "workers.log"
    command = [sys.executable, "-m", "alliance", "run_huey", "--no-periodic"]
    options = ["-w", str(WORKERS), "-k", "process", "-d", "0.05", "-m", "0.2"]
    with open(log, "w") as out:
        workers = subprocess.Popen(
            [*command, *options], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 120
    while "consumer started" not in log.read_text().lower():
        if workers.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"The workers did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return workers, log


def work(huey, errors: list, database: threading.Lock) -> None:
    """One worker thread: take batches from the queue and run them until it is empty.
    An in-memory SQLite database takes one writer at a time, and answers "table is
    locked" rather than waiting: the threads take turns at it."""
    from django.db import connection

    try:
        while (task := huey.dequeue()) is not None:
            with database:
                huey.execute(task)
    except Exception as error:  # report, and let the count show what was lost
        errors.append(error)
    finally:
        connection.close()


def deliver_everything() -> tuple[float, str]:
    """Find, queue and deliver; the seconds it took and who delivered."""
    import logging

    from django.db import connection

    from alliance.notify import tasks
    from alliance.notify.models import OPEN_STATUSES, Reminder

    logging.getLogger("huey").setLevel(logging.WARNING)  # not a line per batch
    os.environ["NOTIFY_BATCH_SIZE"] = str(BATCH)
    name = f"reminder-bench-{os.getpid()}"
    huey = real_queue(name)
    # On PostgreSQL and Redis: real worker processes. An in-memory SQLite test database
    # cannot be shared with other processes, so there the workers are threads.
    processes = connection.vendor == "postgresql" and os.environ.get("REDIS_URL")
    workers = start_worker_processes(name) if processes else None
    try:
        began = time.perf_counter()
        # What each worker's scheduler does every minute: find, dispatch, deliver. Two at
        # once share the finding (each skips the chunks the other holds).
        for _ in range(WORKERS if workers is not None else 1):
            tasks.run_reminders()
        errors: list = []
        if workers is not None:
            deadline = time.monotonic() + 600
            open_ones = Reminder.objects.filter(status__in=OPEN_STATUSES)
            while Reminder.objects.count() < PATIENTS or open_ones.exists():
                if workers[0].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The workers stopped:\n{workers[1].read_text()}")
                time.sleep(0.5)
        else:
            database = threading.Lock()
            threads = [
                threading.Thread(target=work, args=(huey, errors, database)) for _ in range(WORKERS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - began
    finally:
        if workers is not None:
            workers[0].send_signal(signal.SIGINT)  # graceful: finish the task in hand
            workers[0].wait(timeout=60)
        huey.storage.flush_all()
    assert not errors, errors
    who = f"{WORKERS} worker processes" if workers is not None else f"{WORKERS} worker threads"
    return elapsed, who


def check_exactly_once() -> None:
    from django.db.models import Count

    from alliance.notify.models import DeliveryAttempt, Reminder

    assert Reminder.objects.count() == PATIENTS
    assert Reminder.objects.filter(status="sent").count() == PATIENTS
    sent = DeliveryAttempt.objects.filter(channel="null", status="sent")
    assert sent.count() == PATIENTS
    twice = sent.values("reminder_id").annotate(n=Count("pk")).filter(n__gt=1)
    assert not twice.exists()
    keys = Reminder.objects.values("patient_id", "kind", "slot_key").annotate(n=Count("pk"))
    assert not keys.filter(n__gt=1).exists()


def run() -> list[Figure]:
    from django.db import connection

    due = due_minute()
    build_patients(PATIENTS, due)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seconds, who = deliver_everything()
    check_exactly_once()
    print(f"reminders: {PATIENTS:,} due in one minute, each delivered once, in {seconds:.1f} s")
    return [
        Figure(
            "reminders_due_same_minute",
            seconds,
            "s",
            f"< 30 s for 100,000 patients on PostgreSQL and Redis (here {PATIENTS:,}, "
            f"{who}, {connection.vendor})",
        ),
        Figure("reminders_delivered", PATIENTS / seconds, "reminders/s", "> 3,333 reminders/s"),
    ]
