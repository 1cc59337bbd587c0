"""Demo data of the notify app: every demo patient gets the gentle default reminder
settings, and a few patients in care have the last two evenings' check-in reminders in
their notification centre and their delivery log (some opened, some read).

Called by ``alliance demo`` after the accounts, care and measures demo data. Running it
again adds nothing: a reminder is unique per patient, kind and slot. Seeded randomness.
"""

import random
from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from alliance.accounts.models import Patient
from alliance.care.models import EpisodeStatus
from alliance.notify import rules, services
from alliance.notify.models import (
    AttemptStatus,
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderStatus,
)
from alliance.notify.selectors import zone_of

DEMO_DOMAIN = "@demo.example"
WITH_HISTORY = 8
DAYS_BACK = (2, 1)


def populate(*, now=None) -> int:
    """Default settings for the demo patients and a short reminder history. Returns how
    many reminders were added."""
    now = now or timezone.now()
    rng = random.Random(20260329)  # noqa: S311  (demo data, not security)
    patients = list(
        Patient.objects.filter(user__email__endswith=DEMO_DOMAIN)
        .select_related("user")
        .order_by("user__email")
    )
    for patient in patients:
        services.reminder_settings_ensure(patient=patient, now=now)
    in_care = set(
        Patient.objects.filter(
            pk__in=[p.pk for p in patients], episodes__status=EpisodeStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    added = 0
    for patient in [p for p in patients if p.pk in in_care][:WITH_HISTORY]:
        for days_back in DAYS_BACK:
            added += past_reminder(patient, days_back, rng, now)
    return added


@transaction.atomic
def past_reminder(patient: Patient, days_back: int, rng: random.Random, now) -> int:
    zone = zone_of(patient)
    day = now.astimezone(zone).date() - timedelta(days=days_back)
    slot = rules.local_moment(day, time(19), zone)
    reminder, created = Reminder.objects.get_or_create(
        patient=patient,
        kind=rules.CHECKIN,
        slot_key=services.slot_key(slot),
        defaults={
            "slot_start": slot,
            "local_date": day,
            "channels": [rules.EMAIL, rules.INAPP],
            "status": ReminderStatus.SENT,
            "next_attempt_at": slot,
            "finished_at": slot,
        },
    )
    if not created:
        return 0
    content = services.content_of(reminder, patient.user.language)
    opened = slot + timedelta(minutes=rng.randint(5, 150)) if rng.random() < 0.5 else None
    read = slot + timedelta(minutes=rng.randint(10, 600)) if rng.random() < 0.6 else None
    DeliveryAttempt.objects.bulk_create(
        [
            DeliveryAttempt(
                reminder=reminder,
                channel=rules.EMAIL,
                status=AttemptStatus.OPENED if opened else AttemptStatus.SENT,
                detail=f"sent to {patient.user.email}",
                at=slot,
                opened_at=opened,
            ),
            DeliveryAttempt(
                reminder=reminder,
                channel=rules.INAPP,
                status=AttemptStatus.OPENED if read else AttemptStatus.SENT,
                at=slot,
                opened_at=read,
            ),
        ]
    )
    Notification.objects.create(
        user=patient.user,
        reminder=reminder,
        kind=reminder.kind,
        title=content.title,
        body=content.body,
        url=content.url,
        created_at=slot,
        read_at=read,
    )
    return 1
