"""Reads of the notify app: a patient's reminder settings, a person's notifications and
unread count, and a patient's delivery log. Each runs a fixed number of queries."""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from alliance.accounts.models import Patient, User
from alliance.notify import rules
from alliance.notify.models import (
    DeliveryAttempt,
    Notification,
    Reminder,
    ReminderSchedule,
    ReminderSettings,
)

NOTIFICATION_PAGE = 50
LOG_LENGTH = 100


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def zone_of(patient: Patient) -> ZoneInfo:
    return zone_named(patient.user.time_zone)


def local_today(patient: Patient, now: datetime | None = None):
    return (now or timezone.now()).astimezone(zone_of(patient)).date()


def settings_data(
    row: ReminderSettings | None, schedules: list[ReminderSchedule]
) -> rules.SettingsData:
    """The patient's choices as the rules see them; defaults for anything not saved."""
    defaults = rules.default_settings()
    reminders = dict(defaults.reminders)
    for schedule in schedules:
        if schedule.kind in reminders:
            reminders[schedule.kind] = rules.KindChoice(
                on=schedule.enabled,
                days=tuple(schedule.days),
                at=schedule.time_of_day if schedule.kind in rules.SCHEDULED_KINDS else None,
            )
    if row is None:
        return defaults.with_changes(reminders=reminders)
    return rules.SettingsData(
        reminders=reminders,
        channels=tuple(row.channels),
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        max_per_day=row.max_per_day,
        max_per_week=row.max_per_week,
        paused_until=row.paused_until,
        all_off=row.all_off,
    )


def settings_data_for(patient: Patient) -> rules.SettingsData:
    """Two queries."""
    row = ReminderSettings.objects.filter(patient=patient).first()
    schedules = list(ReminderSchedule.objects.filter(patient=patient))
    return settings_data(row, schedules)


def next_reminders(patient: Patient) -> list[ReminderSchedule]:
    """The patient's scheduled kinds that are on, soonest first (one query)."""
    return list(
        ReminderSchedule.objects.filter(
            patient=patient, enabled=True, next_due_at__isnull=False
        ).order_by("next_due_at")
    )


def notifications_of(user: User, *, limit: int = NOTIFICATION_PAGE) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-pk")[:limit])


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def own_notification(user: User, notification_id: int) -> Notification | None:
    return Notification.objects.filter(user=user, pk=notification_id).first()


def delivery_log(patient: Patient, *, limit: int = LOG_LENGTH) -> QuerySet[Reminder]:
    """The patient's latest reminders with every attempt of every channel (two queries)."""
    return (
        Reminder.objects.filter(patient=patient)
        .order_by("-slot_start", "-pk")
        .prefetch_related(
            Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("at", "pk"))
        )[:limit]
    )
