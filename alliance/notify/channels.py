"""The channels that leave the machine: e-mail through Django's e-mail backend, and Web
Push (VAPID, RFC 8291 encryption) through pywebpush. In-app notifications and the null
channel are database writes, made by the deliverer in its own transaction.

A channel raises ``ChannelFailed`` for a failure worth retrying, and ``NotApplicable`` when
there is nothing to send to (no device subscribed): that is logged, not retried.

A crash between a send and its record can only repeat a send, never lose one: so each
e-mail carries a Message-ID and each push a Topic made from the reminder, by which the
receiving side can drop a repeat.
"""

import json
import logging
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from alliance.notify import conf

logger = logging.getLogger("alliance.notify")

PUSH_TTL_SECONDS = 12 * 60 * 60  # a reminder older than half a day is no use
OPEN_SALT = "alliance.notify.open"


class ChannelFailed(Exception):
    """The channel failed this time; the attempt is retried with back-off."""


class NotApplicable(Exception):
    """Nothing to send to on this channel (e.g. no device has push turned on)."""


@dataclass(frozen=True)
class Content:
    title: str
    body: str
    url: str  # a path on our site


def absolute(path: str) -> str:
    return settings.ALLIANCE_SITE_URL.rstrip("/") + path


def open_token(reminder_id: int) -> str:
    """A signed token for the e-mail of one reminder: its open pixel and its link."""
    return signing.Signer(salt=OPEN_SALT).sign(str(reminder_id))


def reminder_from_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def message_id(reminder_id: int) -> str:
    domain = urlparse(settings.ALLIANCE_SITE_URL).hostname or "alliance.invalid"
    return f"<reminder-{reminder_id}@{domain}>"


def send_email(*, to: str, content: Content, reminder_id: int) -> str:
    """Send one reminder by e-mail (text, and HTML with an open pixel from our own site)."""
    if not to:
        raise NotApplicable(_("No e-mail address."))
    token = open_token(reminder_id)
    link = absolute(reverse("notify:follow", args=[token]))
    pixel = absolute(reverse("notify:opened", args=[token]))
    manage = absolute(reverse("notify:settings"))
    footer = _("You get this because of your reminder settings. Change, pause or turn them off:")
    text = "\n\n".join(
        part
        for part in [content.body, f"{_('Open Alliance')}: {link}", f"{footer} {manage}"]
        if part
    )
    html = (
        f"<p>{escape(content.body)}</p>"
        f'<p><a href="{escape(link)}">{escape(_("Open Alliance"))}</a></p>'
        f'<p>{escape(footer)} <a href="{escape(manage)}">{escape(manage)}</a></p>'
        f'<img src="{escape(pixel)}" width="1" height="1" alt="">'
    )
    message = EmailMultiAlternatives(
        subject=content.title,
        body=text,
        to=[to],
        headers={"Message-ID": message_id(reminder_id)},
        connection=get_connection(timeout=conf.send_timeout_seconds()),
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as error:  # SMTP, socket and backend errors alike: retry later
        raise ChannelFailed(f"{type(error).__name__}: {error}") from error
    return _("sent to %(to)s") % {"to": to}


@cache
def vapid() -> Vapid:
    private, _public = conf.vapid_keys()
    return Vapid.from_string(private)


@dataclass(frozen=True)
class PushTarget:
    id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class PushResult:
    delivered: list[int]  # subscription ids that took the push
    gone: list[int]  # subscriptions the push service says no longer exist
    errors: list[str]


def send_webpush(*, targets: list[PushTarget], content: Content, reminder_id: int) -> PushResult:
    """Push one reminder to every device of the person. The caller counts it sent when at
    least one device took it; subscriptions that have gone (404/410) are for removal."""
    if not targets:
        raise NotApplicable(_("No device has notifications turned on."))
    payload = json.dumps(
        {
            "title": content.title,
            "body": content.body,
            "url": content.url,
            "tag": f"reminder-{reminder_id}",
        }
    )
    result = PushResult(delivered=[], gone=[], errors=[])
    for target in targets:
        try:
            webpush(
                subscription_info={
                    "endpoint": target.endpoint,
                    "keys": {"p256dh": target.p256dh, "auth": target.auth},
                },
                data=payload,
                vapid_private_key=vapid(),
                vapid_claims={"sub": conf.vapid_subject()},
                ttl=PUSH_TTL_SECONDS,
                timeout=conf.send_timeout_seconds(),
                # A repeat with the same Topic replaces an undelivered one at the service.
                headers={"Topic": f"reminder-{reminder_id}", "Urgency": "normal"},
            )
            result.delivered.append(target.id)
        except WebPushException as error:
            if error.status_code in (404, 410):
                result.gone.append(target.id)
            else:
                result.errors.append(f"{error.status_code or 'no answer'}: {error.message[:120]}")
        except (requests.RequestException, ValueError) as error:
            result.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
    return result
