"""API operations of the notify app: the patient's reminder settings, everyone's
notifications, web push subscriptions, and a patient's delivery log for the care team."""

from django.http import Http404
from ninja import Router, Status
from ninja.errors import HttpError

from alliance.accounts import policy
from alliance.accounts.models import Patient
from alliance.notify import rules, selectors, services
from alliance.notify.schemas import (
    DeliveryOut,
    NotificationListOut,
    NotificationOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    ReminderSettingsIn,
    ReminderSettingsOut,
)

router = Router(tags=["notify"])


def own_patient(request) -> Patient:
    patient = request.auth.patient_or_none
    if patient is None:
        raise HttpError(403, "This is for patients.")
    return patient


def settings_out(patient: Patient) -> dict:
    data = selectors.settings_data_for(patient)
    upcoming = selectors.next_reminders(patient)
    return {
        "reminders": {
            kind: {"on": choice.on, "days": list(choice.days), "time": choice.at}
            for kind, choice in data.reminders.items()
        },
        "channels": list(data.channels),
        "quiet_start": data.quiet_start,
        "quiet_end": data.quiet_end,
        "max_per_day": data.max_per_day,
        "max_per_week": data.max_per_week,
        "paused_until": data.paused_until,
        "all_off": data.all_off,
        "time_zone": patient.user.time_zone,
        "next_reminder_at": upcoming[0].next_due_at if upcoming else None,
    }


@router.get("/me/reminders", response=ReminderSettingsOut, url_name="get_reminder_settings")
def get_reminder_settings(request):
    """Your reminder settings; times are in your own time zone."""
    return settings_out(own_patient(request))


@router.put("/me/reminders", response=ReminderSettingsOut, url_name="update_reminder_settings")
def update_reminder_settings(request, payload: ReminderSettingsIn):
    """Change your reminder settings. Fields left out stay as they are; a kind of reminder
    given without `days` or `time` keeps its own. Invalid settings change nothing."""
    patient = own_patient(request)
    current = selectors.settings_data_for(patient)
    given = payload.dict(exclude_unset=True)
    reminders = dict(current.reminders)
    for kind, choice in (payload.reminders or {}).items():
        was = reminders.get(kind, rules.KindChoice(on=False))
        reminders[kind] = rules.KindChoice(
            on=choice.on,
            days=tuple(choice.days) if choice.days is not None else was.days,
            at=choice.time if "time" in given["reminders"][kind] else was.at,
        )
    changes = {
        name: given[name]
        for name in (
            "quiet_start",
            "quiet_end",
            "max_per_day",
            "max_per_week",
            "paused_until",
            "all_off",
        )
        if name in given
    }
    if "channels" in given:
        changes["channels"] = tuple(payload.channels or ())
    for name in ("max_per_day", "max_per_week", "all_off"):
        if name in changes and changes[name] is None:
            changes.pop(name)
    data = current.with_changes(reminders=reminders, **changes)
    services.reminder_settings_update(patient=patient, data=data)
    return settings_out(patient)


@router.get("/me/notifications", response=NotificationListOut, url_name="list_notifications")
def list_notifications(request, limit: int = selectors.NOTIFICATION_PAGE):
    """Your latest notifications, newest first, and how many are unread."""
    limit = max(1, min(limit, 200))
    return {
        "unread": selectors.unread_count(request.auth),
        "notifications": selectors.notifications_of(request.auth, limit=limit),
    }


@router.post(
    "/me/notifications/{notification_id}/read",
    response=NotificationOut,
    url_name="mark_notification_read",
)
def mark_notification_read(request, notification_id: int):
    notification = selectors.own_notification(request.auth, notification_id)
    if notification is None:
        raise Http404("Not found.")
    services.notification_mark_read(notification=notification)
    return notification


@router.post(
    "/me/push-subscriptions",
    response={200: PushSubscriptionOut, 201: PushSubscriptionOut},
    url_name="subscribe_push",
)
def subscribe_push(request, payload: PushSubscriptionIn):
    """Keep this device's Web Push subscription (from `PushManager.subscribe()` with the
    VAPID public key of `alliance notify vapid`). Sending the same endpoint again is safe."""
    subscription, created = services.push_subscription_save(
        user=request.auth,
        endpoint=payload.endpoint,
        p256dh=payload.keys.p256dh,
        auth=payload.keys.auth,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Status(201 if created else 200, subscription)


@router.get(
    "/patients/{patient_id}/deliveries", response=list[DeliveryOut], url_name="list_deliveries"
)
def list_deliveries(request, patient_id: int):
    """A patient's latest reminders and every delivery attempt (care team; audited)."""
    if policy.staff_role(request.auth) is None:
        raise Http404("Not found.")
    patient = policy.access_patient(
        request.auth, patient_id, what="reminder delivery log", request=request
    )
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "slot_start": r.slot_start,
            "status": r.status,
            "reason": r.reason,
            "attempts": list(r.attempts.all()),
        }
        for r in selectors.delivery_log(patient)
    ]
