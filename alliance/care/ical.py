"""The patient's contacts as an iCalendar file (RFC 5545) for their own calendar app.

Each contact is one event with a stable UID (``contact-<id>@<site host>``), so importing the
file again updates the event instead of adding a second one. Times are written in UTC; the
calendar names the patient's time zone (``X-WR-TIMEZONE``) for the apps that use it. A
cancelled contact stays in the file as ``STATUS:CANCELLED`` with a higher ``SEQUENCE``, so
importing it again takes it off the calendar.

Calendars are often shared or seen on a lock screen, so the text says who and how, never
why: no service name and no clinical words.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils.translation import gettext as _

from alliance.care.models import Contact, ContactKind, ContactStatus

PRODUCT_ID = "-//Alliance//Contacts//EN"


def site_host() -> str:
    return urlsplit(settings.ALLIANCE_SITE_URL).hostname or "alliance.invalid"


def contact_uid(contact: Contact) -> str:
    return f"contact-{contact.pk}@{site_host()}"


def event_summary(contact: Contact) -> str:
    name = contact.supporter.user.display_name if contact.supporter else _("your supporter")
    if contact.kind == ContactKind.PHONE:
        return _("Phone call with %(name)s") % {"name": name}
    if contact.kind == ContactKind.VIDEO:
        return _("Video call with %(name)s") % {"name": name}
    return _("Appointment with %(name)s") % {"name": name}


def event_description(contact: Contact) -> str:
    if contact.kind == ContactKind.PHONE:
        how = _("Your supporter will phone you.")
    elif contact.kind == ContactKind.VIDEO:
        how = _("Your supporter will tell you how to join the video call.")
    else:
        how = _("A face-to-face appointment.")
    return how + " " + _("If you cannot make it, let your supporter know.")


def contact_event(contact: Contact, *, stamp: datetime) -> icalendar.Event:
    start = contact.scheduled_at.astimezone(UTC)
    event = icalendar.Event()
    event.add("uid", contact_uid(contact))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=contact.duration_minutes))
    event.add("summary", event_summary(contact))
    event.add("description", event_description(contact))
    event.add("url", settings.ALLIANCE_SITE_URL.rstrip("/") + "/my/contacts/")
    cancelled = contact.status == ContactStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    return event


def contacts_calendar(contacts: Iterable[Contact], *, time_zone: str, now: datetime) -> bytes:
    """The iCalendar file of these contacts (each needs its supporter's user loaded)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Your appointments"))
    calendar.add("x-wr-timezone", time_zone)
    stamp = now.astimezone(UTC)
    for contact in contacts:
        calendar.add_component(contact_event(contact, stamp=stamp))
    return calendar.to_ical()
