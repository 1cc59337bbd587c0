"""The other side of test_worker.py, run in its own processes against the workers'
database: ``seed N`` makes N patients whose check-in reminder is due now, finds them, and
queues their delivery as one batch in the workers' queue.

    python -m alliance.notify.tests.worker_scenario seed 12
"""

import json
import os
import sys
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    """Each e-mail takes NOTIFY_TEST_SEND_SECONDS, then lands as one file."""

    def send_messages(self, messages):
        folder = Path(os.environ["NOTIFY_TEST_MAIL_DIR"])
        for message in messages:
            time.sleep(float(os.environ.get("NOTIFY_TEST_SEND_SECONDS", "0.25")))
            name = folder / f"{uuid.uuid4().hex}.eml"
            partial = name.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes())
            partial.rename(name)  # appears whole, or not at all
        return len(messages)


def seed(count: int) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from alliance.accounts.models import Patient, Service, Team, User
    from alliance.care.models import Episode
    from alliance.conftest import make_programme
    from alliance.notify import rules, services, tasks
    from alliance.notify.selectors import settings_data_for, zone_named

    now = timezone.now().replace(second=0, microsecond=0)
    due = now - timedelta(minutes=1)
    at = due.astimezone(zone_named("Europe/London")).time()
    service = Service.objects.create(name="Worker test", slug="worker-test")
    team = Team.objects.create(service=service, name="Team")
    programme = make_programme()
    for n in range(count):
        user = User.objects.create(email=f"patient{n:03d}@worker.example", full_name=f"P {n}")
        patient = Patient.objects.create(user=user, service=service, team=team)
        Episode.objects.create(
            patient=patient, programme=programme, care_model="blended", started_at=due
        )
        current = settings_data_for(patient)
        reminders = dict(current.reminders)
        reminders[rules.CHECKIN] = rules.KindChoice(on=True, days=rules.DAYS, at=at)
        services.reminder_settings_update(
            patient=patient,
            data=current.with_changes(reminders=reminders, max_per_day=10, max_per_week=50),
            now=due - timedelta(hours=1),
        )
    found = services.reminders_find()
    batches = services.reminders_dispatch()
    for batch in batches:
        tasks.deliver_reminders(reminder_ids=batch)
    return {"created": found.created, "batches": [len(b) for b in batches]}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.notify.tests.worker_settings")
    import django

    django.setup()
    if sys.argv[1:2] != ["seed"]:
        sys.exit("usage: python -m alliance.notify.tests.worker_scenario seed N")
    print(json.dumps(seed(int(sys.argv[2])), sort_keys=True))


if __name__ == "__main__":
    main()
