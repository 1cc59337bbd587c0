"""`alliance notify run-once` and `alliance notify vapid`."""

import json
from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from alliance.notify import conf, rules
from alliance.notify.models import Reminder
from alliance.notify.selectors import zone_of
from alliance.notify.tests.conftest import choose, only

pytestmark = pytest.mark.django_db


class TestRunOnce:
    def test_it_finds_and_delivers_what_is_due_now(self, alice_in_care, capsys):
        # A check-in reminder a minute ago, set up two minutes ago.
        now = timezone.now()
        minute_ago = (now - timedelta(minutes=1)).astimezone(zone_of(alice_in_care))
        at = time(minute_ago.hour, minute_ago.minute)
        choose(alice_in_care, now=now - timedelta(minutes=2), reminders=only(rules.CHECKIN, at))
        call_command("notify", "run-once", "--json")
        summary = json.loads(capsys.readouterr().out)
        assert summary | {"created": 1, "sent": 1} == summary
        assert Reminder.objects.get().status == "sent"
        assert len(mail.outbox) == 1

    def test_it_says_what_it_did(self, alice_in_care, capsys):
        call_command("notify", "run-once")
        assert "0 reminders made" in capsys.readouterr().out


class TestVapid:
    def test_it_prints_the_public_key(self, capsys):
        call_command("notify", "vapid")
        assert capsys.readouterr().out.strip() == conf.vapid_keys()[1]

    def test_it_prints_a_new_key_pair_for_production(self, capsys):
        call_command("notify", "vapid", "--new")
        lines = capsys.readouterr().out.strip().splitlines()
        assert [line.split("=")[0] for line in lines] == ["VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"]
