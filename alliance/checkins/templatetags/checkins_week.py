"""The check-in card on the patient's week. (Stub: the daily check-in fills it in.)"""

from django import template

register = template.Library()


@register.inclusion_tag("checkins/_week_card.html")
def checkin_card(patient):
    return {"patient": patient}
