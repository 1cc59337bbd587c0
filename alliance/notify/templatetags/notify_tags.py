"""The notification bell in the header: a link to the notification centre with the
number unread, read out as "Notifications, 2 unread". One query."""

from django import template
from django.urls import reverse

from alliance.notify.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notify/_bell.html", takes_context=True)
def notification_bell(context, user):
    request = context.get("request")
    return {
        "user": user,
        "unread": unread_count(user),
        "current": request is not None and request.path == reverse("notify:centre"),
    }
