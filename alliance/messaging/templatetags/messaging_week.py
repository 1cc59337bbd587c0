"""The messages card on the patient's week. (Stub: secure messaging fills it in.)"""

from django import template

register = template.Library()


@register.inclusion_tag("messaging/_week_card.html")
def messages_card(patient):
    return {"patient": patient}
