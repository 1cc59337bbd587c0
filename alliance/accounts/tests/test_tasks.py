"""The send_email task through huey with real queues, not immediate mode: the configured
task on SQLite and Redis storage, a real `alliance run_huey` worker process, and retries
when the mail server fails.

Tests run huey in immediate mode (settings.TESTING); here the configured huey instance is
given a real storage for the length of one test, so the task is serialised, stored,
read back and executed exactly as a worker does.
"""

import datetime
import os
import socketserver
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.core import mail
from huey.exceptions import TaskException
from huey.storage import PriorityRedisStorage, SqliteStorage

from alliance.accounts import services
from alliance.accounts.tasks import send_email

# The task wrapper (djhuey's db_task) closes stale database connections around each run.
pytestmark = pytest.mark.django_db

HUEY = send_email.huey  # the configured djhuey instance the task is registered on
QUEUE_NAME = "alliance"
REDIS_URL = "redis://127.0.0.1:6379/15"  # this process's queue
WORKER_REDIS_URL = "redis://127.0.0.1:6379/14"  # the worker process's queue
WORKER_WAIT_SECONDS = 20
MESSAGE_END = "-" * 79  # the file e-mail backend ends each message with this line

MESSAGE = {
    "to": "alice@patients.example",
    "subject": "Your Alliance sign-in link",
    "body": "Open this link to sign in.",
}


def redis_or_skip(url):
    """A client for the Redis database at ``url``, emptied; skip the test without Redis."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis is not reachable at {url} ({error}); start redis-server to run this.")
    client.flushdb()
    return client


@pytest.fixture
def use_storage(monkeypatch):
    """Give the configured huey instance a real storage (and leave immediate mode)."""

    def use(storage):
        # Set the private flag: the `immediate` setter would replace the storage.
        monkeypatch.setattr(HUEY, "_immediate", False)
        monkeypatch.setattr(HUEY, "storage", storage)
        return HUEY

    return use


@pytest.fixture
def sqlite_queue(use_storage, tmp_path):
    return use_storage(SqliteStorage(QUEUE_NAME, filename=str(tmp_path / "huey.sqlite3")))


@pytest.fixture
def redis_queue(use_storage):
    client = redis_or_skip(REDIS_URL)
    yield use_storage(PriorityRedisStorage(QUEUE_NAME, url=REDIS_URL))
    client.flushdb()


@pytest.fixture(params=["sqlite_queue", "redis_queue"])
def queue(request):
    return request.getfixturevalue(request.param)


class RefusingSmtpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.attempts += 1
        self.request.sendall(b"421 4.3.2 Service not available, try again later\r\n")


@pytest.fixture
def failing_mail_server(settings):
    """A local SMTP server that answers every connection with 421 and counts them."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), RefusingSmtpHandler)
    server.daemon_threads = True
    server.attempts = 0
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


def utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class TestSendEmail:
    def test_it_waits_in_the_queue_until_a_worker_takes_it(self, queue):
        send_email(**MESSAGE)

        assert len(queue) == 1
        [pending] = queue.pending()
        assert pending.name == "send_email"
        assert pending.kwargs == MESSAGE
        assert mail.outbox == []

    def test_it_sends_the_message_when_a_worker_runs_it(self, queue, settings):
        send_email(**MESSAGE)

        task = queue.dequeue()
        assert queue.execute(task) == 1

        assert len(queue) == 0
        [message] = mail.outbox
        assert message.to == [MESSAGE["to"]]
        assert message.subject == MESSAGE["subject"]
        assert message.body == MESSAGE["body"]
        assert message.from_email == settings.DEFAULT_FROM_EMAIL

    def test_it_is_queued_only_when_the_transaction_commits(
        self, sqlite_queue, alice, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.sign_in_link_send(email=alice.user.email)
            assert len(sqlite_queue) == 0

        assert len(callbacks) == 1
        assert len(sqlite_queue) == 1
        sqlite_queue.execute(sqlite_queue.dequeue())
        [message] = mail.outbox
        assert message.to == ["alice@patients.example"]
        assert "/sign-in/link/" in message.body


class TestSendEmailRetries:
    def test_it_is_configured_to_retry_five_times_30_seconds_apart(self):
        assert (send_email.retries, send_email.retry_delay) == (5, 30)

    def test_it_is_retried_30_seconds_after_the_mail_server_fails(self, queue, failing_mail_server):
        send_email(**MESSAGE)

        before = utcnow()
        queue.execute(queue.dequeue())

        assert failing_mail_server.attempts == 1
        assert len(queue) == 0
        [retry] = queue.scheduled()
        assert retry.kwargs == MESSAGE
        assert retry.retries == 4
        assert before + datetime.timedelta(seconds=29) < retry.eta
        assert retry.eta < utcnow() + datetime.timedelta(seconds=31)

    def test_it_gives_up_after_the_fifth_retry(self, sqlite_queue, failing_mail_server):
        result = send_email(**MESSAGE)
        task = sqlite_queue.dequeue()
        retries_left = []

        while task is not None:
            sqlite_queue.execute(task, timestamp=task.eta or utcnow())
            # Read the retry as the worker's scheduler does once its time has come.
            due = sqlite_queue.read_schedule(utcnow() + datetime.timedelta(minutes=5))
            task = due[0] if due else None
            retries_left.append(task.retries if task else None)

        assert failing_mail_server.attempts == 6
        assert retries_left == [4, 3, 2, 1, 0, None]
        assert len(sqlite_queue) == 0
        assert sqlite_queue.scheduled_count() == 0
        with pytest.raises(TaskException, match="SMTPConnectError"):
            result.get()
        assert mail.outbox == []


def worker_environment(tmp_path, **env):
    """The environment of a worker that runs on its own data folder, outside test mode."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALLIANCE_", "HUEY_", "EMAIL_"))
        and k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        ALLIANCE_DATA_DIR=str(tmp_path / "data"),
        ALLIANCE_TESTING="0",
        ALLIANCE_TEST_EMAIL_DIR=str(tmp_path / "mail"),
        DJANGO_SETTINGS_MODULE="alliance.accounts.tests.worker_settings",
        **env,
    )
    return environment


def run_worker_until_mail(tmp_path, environment):
    """Start `alliance run_huey`, wait for one e-mail file, stop the worker; the e-mail."""
    (tmp_path / "mail").mkdir()
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "alliance", "run_huey", "--no-periodic", "--max-delay", "0.5"]
    with open(log_path, "w") as log:
        worker = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + WORKER_WAIT_SECONDS
            sent = None
            while sent is None and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.1)
                sent = next(
                    (
                        f.read_text()
                        for f in (tmp_path / "mail").iterdir()
                        if MESSAGE_END in f.read_text()
                    ),
                    None,
                )
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    assert sent, f"No e-mail within {WORKER_WAIT_SECONDS} s. Worker log:\n{log_path.read_text()}"
    return sent


class TestWorkerProcess:
    def test_it_sends_a_queued_message_from_the_sqlite_queue(self, use_storage, tmp_path):
        environment = worker_environment(tmp_path)
        (tmp_path / "data").mkdir()
        queue = use_storage(
            SqliteStorage(QUEUE_NAME, filename=str(tmp_path / "data" / "huey.sqlite3"))
        )
        send_email(**MESSAGE)
        assert len(queue) == 1

        sent = run_worker_until_mail(tmp_path, environment)

        assert f"To: {MESSAGE['to']}" in sent
        assert f"Subject: {MESSAGE['subject']}" in sent
        assert MESSAGE["body"] in sent
        assert len(queue) == 0

    def test_it_sends_a_queued_message_from_the_redis_queue(self, use_storage, tmp_path):
        client = redis_or_skip(WORKER_REDIS_URL)
        try:
            environment = worker_environment(
                tmp_path, REDIS_URL=WORKER_REDIS_URL, HUEY_NAME=QUEUE_NAME
            )
            queue = use_storage(PriorityRedisStorage(QUEUE_NAME, url=WORKER_REDIS_URL))
            send_email(**MESSAGE)
            assert len(queue) == 1

            sent = run_worker_until_mail(tmp_path, environment)

            assert f"To: {MESSAGE['to']}" in sent
            assert f"Subject: {MESSAGE['subject']}" in sent
            assert MESSAGE["body"] in sent
            assert len(queue) == 0
        finally:
            client.flushdb()
