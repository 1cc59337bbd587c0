"""The notification bell in the header. (Stub: the notification centre fills it in.)"""

from django import template

register = template.Library()


@register.inclusion_tag("notify/_bell.html")
def notification_bell(user):
    return {"user": user}
