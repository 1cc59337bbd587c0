"""A worker killed in the middle of a batch: real `alliance run_huey` processes, a real
SIGKILL, and a second worker that finishes the batch with no reminder lost and none sent
twice.

The workers use a database of their own (a fresh SQLite file, or a fresh PostgreSQL
database when the suite runs on PostgreSQL) and a queue of their own (SQLite, or Redis
when REDIS_URL is set, as in CI's PostgreSQL run). Each e-mail takes a quarter of a second
and lands as a file, so the test sees the worker half-way and kills it then.
"""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from alliance.notify.tasks import run_reminders

PATIENTS = 12
LEASE_SECONDS = 3
WAIT_SECONDS = 90
WORKER_REDIS_URL = "redis://127.0.0.1:6379/13"


def base_environment(tmp_path) -> dict:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLIANCE_", "HUEY_", "EMAIL_", "NOTIFY_"))
        and k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "data"),
        ALLIANCE_TESTING="0",
        DJANGO_SETTINGS_MODULE="alliance.notify.tests.worker_settings",
        NOTIFY_TEST_MAIL_DIR=str(tmp_path / "mail"),
        NOTIFY_TEST_SEND_SECONDS="0.25",
        NOTIFY_LEASE_SECONDS=str(LEASE_SECONDS),
        NOTIFY_BATCH_SIZE="50",
        HUEY_WORKERS="1",
        LOG_LEVEL="WARNING",
    )
    return environment


@pytest.fixture
def worker_database(transactional_db, tmp_path):
    """(DATABASE_URL, DB-API connect) for the workers, on the engine the suite runs on:
    on PostgreSQL the test database itself (emptied after the test); on SQLite, whose test
    database lives in this process's memory, a file copy of it."""
    if connection.vendor == "sqlite":
        path = tmp_path / "workers.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path, timeout=20)
        return
    import psycopg

    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params.get("PASSWORD") else "")
    host = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    url = f"postgres://{auth}@{host}/{params['NAME']}"
    yield url, lambda: psycopg.connect(url, autocommit=True)


@pytest.fixture
def worker_queue(tmp_path, monkeypatch):
    """(environment, huey) for the workers' queue: Redis when the suite has REDIS_URL,
    else SQLite in their data folder. ``huey`` is this process's handle on the same queue,
    to put work in it as the periodic scheduler would."""
    from huey.storage import PriorityRedisStorage, SqliteStorage

    from alliance.notify.tasks import run_reminders

    (tmp_path / "data").mkdir(exist_ok=True)
    huey = run_reminders.huey
    # Set the private flag: the `immediate` setter would replace the storage.
    monkeypatch.setattr(huey, "_immediate", False)
    if not settings.REDIS_URL:
        storage = SqliteStorage("alliance", filename=str(tmp_path / "data" / "huey.sqlite3"))
        monkeypatch.setattr(huey, "storage", storage)
        yield {}, huey
        return
    import redis

    client = redis.Redis.from_url(WORKER_REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis is not reachable at {WORKER_REDIS_URL} ({error}).")
    name = f"notify-killed-worker-{uuid.uuid4().hex[:8]}"  # this run's keys only
    storage = PriorityRedisStorage(name, url=WORKER_REDIS_URL)
    monkeypatch.setattr(huey, "storage", storage)
    yield {"REDIS_URL": WORKER_REDIS_URL, "HUEY_NAME": name}, huey
    storage.flush_all()


STATUS_QUERIES = {
    "reminders": "SELECT status, COUNT(*) FROM notify_reminder GROUP BY status",
    "sent": "SELECT channel, COUNT(*) FROM notify_deliveryattempt "
    "WHERE status IN ('sent', 'opened') GROUP BY channel",
    "sent_twice": "SELECT COUNT(*) FROM (SELECT reminder_id, channel FROM "
    "notify_deliveryattempt WHERE status IN ('sent', 'opened') "
    "GROUP BY reminder_id, channel HAVING COUNT(*) > 1) AS twice",
    "notifications": "SELECT COUNT(*), COUNT(DISTINCT reminder_id) FROM notify_notification",
}


def read_status(connect) -> dict:
    """What the workers have recorded, read straight from their database."""
    with contextlib.closing(connect()) as db:
        cursor = db.cursor()
        answers = {}
        for name, sql in STATUS_QUERIES.items():
            cursor.execute(sql)
            answers[name] = cursor.fetchall()
    return {
        "reminders": dict(answers["reminders"]),
        "sent": dict(answers["sent"]),
        "sent_twice": answers["sent_twice"][0][0],
        "notifications": answers["notifications"][0][0],
        "notified_reminders": answers["notifications"][0][1],
    }


class Workers:
    def __init__(self, tmp_path, environment):
        self.tmp_path = tmp_path
        self.environment = environment
        self.mail = tmp_path / "mail"
        self.mail.mkdir(exist_ok=True)
        self.logs = []

    def command(self, *args) -> str:
        done = subprocess.run(
            [sys.executable, "-m", *args],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def scenario(self, *args) -> dict:
        output = self.command("alliance.notify.tests.worker_scenario", *args)
        return json.loads(output.strip().splitlines()[-1])

    def start(self, name: str) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        self.logs.append(log)
        command = [sys.executable, "-m", "alliance", "run_huey", "--no-periodic"]
        with open(log, "w") as out:
            return subprocess.Popen(
                [*command, "--max-delay", "0.5"],
                env=self.environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def emails(self) -> list[str]:
        return [f.read_text() for f in self.mail.glob("*.eml")]

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        logs = "\n".join(f"{log.name}:\n{log.read_text()}" for log in self.logs)
        raise AssertionError(f"Timed out waiting for {what}.\n{logs}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


class TestKilledWorker:
    def test_the_next_worker_finishes_the_batch_exactly_once(
        self, tmp_path, worker_database, worker_queue
    ):
        database_url, connect = worker_database
        queue_environment, huey = worker_queue
        workers = Workers(
            tmp_path,
            {**base_environment(tmp_path), "DATABASE_URL": database_url, **queue_environment},
        )
        seeded = workers.scenario("seed", str(PATIENTS))
        assert seeded == {"created": PATIENTS, "batches": [PATIENTS]}

        first = workers.start("first-worker")
        try:
            workers.wait_for(lambda: len(workers.emails()) >= 3, "the first e-mails")
            # Just after an e-mail was sent and recorded, while the next one is on its way.
            time.sleep(0.1)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            stop(first)

        half_way = read_status(connect)
        sent_before_kill = len(workers.emails())
        assert 3 <= sent_before_kill < PATIENTS
        # The dead worker's claim on the rest of the batch is still there...
        assert half_way["reminders"].get("sending", 0) == PATIENTS - half_way["reminders"].get(
            "sent", 0
        )
        assert half_way["reminders"].get("sending", 0) > 0

        # ...until its lease runs out; then the next round hands the rest to a new worker.
        time.sleep(LEASE_SECONDS + 0.5)
        run_reminders()  # into the workers' queue, as the periodic scheduler would
        assert len(huey) == 1
        second = workers.start("second-worker")
        try:
            workers.wait_for(lambda: len(workers.emails()) >= PATIENTS, "every e-mail")
            workers.wait_for(
                lambda: read_status(connect)["reminders"] == {"sent": PATIENTS},
                "every reminder recorded as sent",
            )
            time.sleep(1)  # anything sent twice would show by now
        finally:
            stop(second)

        final = read_status(connect)
        recipients = sorted(
            line.split(": ", 1)[1]
            for mail in workers.emails()
            for line in mail.splitlines()
            if line.startswith("To: ")
        )
        assert recipients == [f"patient{n:03d}@worker.example" for n in range(PATIENTS)]
        assert final == {
            "reminders": {"sent": PATIENTS},
            "sent": {"email": PATIENTS, "inapp": PATIENTS},
            "sent_twice": 0,
            "notifications": PATIENTS,
            "notified_reminders": PATIENTS,
        }
