"""API schemas of the notify app. Times of day are the patient's local "HH:MM"."""

import datetime as dt
from datetime import date, datetime

from ninja import Schema


class KindSettingsIn(Schema):
    on: bool
    days: list[str] | None = None
    time: dt.time | None = None


class KindSettingsOut(Schema):
    on: bool
    days: list[str]
    time: dt.time | None


class ReminderSettingsIn(Schema):
    """Every field is optional: what is left out stays as it is."""

    reminders: dict[str, KindSettingsIn] | None = None
    channels: list[str] | None = None
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None
    max_per_day: int | None = None
    max_per_week: int | None = None
    paused_until: date | None = None
    all_off: bool | None = None


class ReminderSettingsOut(Schema):
    reminders: dict[str, KindSettingsOut]
    channels: list[str]
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    max_per_day: int
    max_per_week: int
    paused_until: date | None
    all_off: bool
    time_zone: str
    next_reminder_at: datetime | None


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(Schema):
    unread: int
    notifications: list[NotificationOut]


class PushKeysIn(Schema):
    p256dh: str
    auth: str


class PushSubscriptionIn(Schema):
    endpoint: str
    keys: PushKeysIn


class PushSubscriptionOut(Schema):
    id: int
    endpoint: str
    created_at: datetime


class DeliveryAttemptOut(Schema):
    channel: str
    status: str
    detail: str
    at: datetime
    opened_at: datetime | None


class DeliveryOut(Schema):
    id: int
    kind: str
    slot_start: datetime
    status: str
    reason: str
    attempts: list[DeliveryAttemptOut]
