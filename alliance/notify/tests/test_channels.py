"""The channels that leave the machine, for real as far as this machine goes: Web Push
with pywebpush to a push service run here on 127.0.0.1 (encrypted as RFC 8291 says, signed
with our VAPID key, decrypted by the test as a browser would), and e-mail with its open
tracking served by our own site."""

import base64
import json
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from py_vapid import Vapid

from alliance.notify import channels, conf, rules
from alliance.notify.models import AttemptStatus, DeliveryAttempt, PushSubscription, Reminder
from alliance.notify.tests.conftest import choose, run, utc

pytestmark = pytest.mark.django_db

DUE = utc(2026, 3, 20, 19)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushService(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server API)
        length = int(self.headers.get("Content-Length", 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.received.append((self.path, headers, self.rfile.read(length)))
        status = self.server.answers.pop(0) if self.server.answers else 201
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def push_service():
    """A push service on 127.0.0.1 that records each push and answers 201 (or the
    statuses queued in ``answers``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class Browser:
    """The keys a browser makes when it subscribes to push."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscribe(self, user, endpoint):
        return PushSubscription.objects.create(
            user=user, endpoint=endpoint, p256dh=self.p256dh, auth=b64(self.auth)
        )

    def read(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


@pytest.fixture
def pushing_alice(alice_in_care, push_service):
    choose(alice_in_care, channels=("webpush",))
    browser = Browser()
    endpoint = f"http://127.0.0.1:{push_service.server_port}/push/alice-phone"
    subscription = browser.subscribe(alice_in_care.user, endpoint)
    return alice_in_care, browser, subscription


class TestWebPush:
    def test_it_pushes_an_encrypted_signed_reminder(self, pushing_alice, push_service):
        alice, browser, _subscription = pushing_alice
        run(DUE)
        [(path, headers, body)] = push_service.received
        assert path == "/push/alice-phone"
        assert headers["content-encoding"] == "aes128gcm"
        assert headers["ttl"] == str(channels.PUSH_TTL_SECONDS)
        reminder = Reminder.objects.get()
        assert headers["topic"] == f"reminder-{reminder.pk}"
        # The VAPID signature checks out with the public key browsers subscribe with.
        scheme, token = headers["authorization"].split(" ", 1)
        fields = dict(part.split("=", 1) for part in token.split(","))
        assert scheme == "vapid" and fields["k"] == conf.vapid_keys()[1]
        assert Vapid.verify(headers["authorization"])
        # The browser, and only the browser, can read it.
        assert browser.read(body) == {
            "title": "How are you today?",
            "body": "Your check-in takes a few seconds, whenever suits you.",
            "url": "/exercises/checkin/",
            "tag": f"reminder-{reminder.pk}",
        }
        attempt = DeliveryAttempt.objects.get(channel="webpush")
        assert attempt.status == AttemptStatus.SENT
        assert reminder.status == "sent"

    def test_it_forgets_a_device_whose_subscription_has_gone(self, pushing_alice, push_service):
        _alice, _browser, subscription = pushing_alice
        push_service.answers.append(410)
        run(DUE)
        assert not PushSubscription.objects.filter(pk=subscription.pk).exists()
        attempt = DeliveryAttempt.objects.get(channel="webpush")
        assert attempt.status == AttemptStatus.SKIPPED
        assert Reminder.objects.get().status == "sent"  # nothing left to retry

    def test_it_retries_when_the_push_service_fails(self, pushing_alice, push_service):
        push_service.answers.append(503)
        run(DUE)
        reminder = Reminder.objects.get()
        assert reminder.status == "pending" and reminder.failures == 1
        assert DeliveryAttempt.objects.get(channel="webpush").detail.startswith("503")
        run(DUE + timedelta(minutes=1))
        reminder.refresh_from_db()
        assert reminder.status == "sent" and len(push_service.received) == 2

    def test_it_records_that_no_device_is_subscribed(self, alice_in_care):
        choose(alice_in_care, channels=("webpush", "inapp"))
        run(DUE)
        attempt = DeliveryAttempt.objects.get(channel="webpush")
        assert attempt.status == AttemptStatus.SKIPPED
        assert attempt.detail == "No device has notifications turned on."
        assert Reminder.objects.get().status == "sent"

    def test_it_keeps_delivering_in_the_app_when_push_is_unreachable(self, alice_in_care):
        choose(alice_in_care, channels=("webpush", "inapp"))
        Browser().subscribe(alice_in_care.user, "http://127.0.0.1:9/nobody-listens")
        run(DUE)
        assert DeliveryAttempt.objects.get(channel="webpush").status == AttemptStatus.FAILED
        assert DeliveryAttempt.objects.get(channel="inapp").status == AttemptStatus.SENT


class TestVapidKeys:
    def test_it_makes_a_key_pair_once_into_the_data_folder(self, settings, tmp_path):
        settings.DATA_DIR = tmp_path
        conf.vapid_keys.cache_clear()
        try:
            private, public = conf.vapid_keys()
            conf.vapid_keys.cache_clear()
            assert conf.vapid_keys() == (private, public)
            assert (tmp_path / "vapid_private_key").read_text() == private
            assert len(base64.urlsafe_b64decode(public + "==")) == 65
        finally:
            conf.vapid_keys.cache_clear()

    def test_it_takes_the_keys_from_the_environment(self, settings):
        private, public = conf.new_vapid_keys()
        settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = private, public
        conf.vapid_keys.cache_clear()
        try:
            assert conf.vapid_keys() == (private, public)
            settings.VAPID_PUBLIC_KEY = conf.new_vapid_keys()[1]
            conf.vapid_keys.cache_clear()
            with pytest.raises(Exception, match="does not belong"):
                conf.vapid_keys()
        finally:
            conf.vapid_keys.cache_clear()


class TestEmailOpens:
    def test_it_counts_an_email_opened_when_its_pixel_loads(self, alice_in_care, client):
        run(DUE)
        [message] = mail.outbox
        html = message.alternatives[0][0] if hasattr(message, "alternatives") else ""
        reminder = Reminder.objects.get()
        token = channels.open_token(reminder.pk)
        assert f"/notifications/open/{token}/" in html
        assert message.extra_headers["Message-ID"].startswith(f"<reminder-{reminder.pk}@")

        response = client.get(f"/notifications/open/{token}/")

        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
        attempt = DeliveryAttempt.objects.get(channel="email")
        assert attempt.status == AttemptStatus.OPENED and attempt.opened_at is not None

    def test_it_counts_a_followed_link_and_goes_to_the_reminders_page(self, alice_in_care, client):
        run(DUE)
        token = channels.open_token(Reminder.objects.get().pk)
        response = client.get(f"/notifications/go/{token}/")
        assert response.status_code == 302 and response["Location"] == "/exercises/checkin/"
        assert DeliveryAttempt.objects.get(channel="email").status == AttemptStatus.OPENED

    def test_it_ignores_a_forged_token(self, alice_in_care, client):
        run(DUE)
        reminder = Reminder.objects.get()
        response = client.get(f"/notifications/open/{reminder.pk}:forged/")
        assert response.status_code == 200
        assert DeliveryAttempt.objects.get(channel="email").status == AttemptStatus.SENT
        assert client.get(f"/notifications/go/{reminder.pk}:forged/")["Location"] == "/"


class TestChannelNames:
    def test_every_patient_channel_has_a_label(self):
        assert set(rules.CHANNEL_LABELS) == set(rules.CHANNELS)
