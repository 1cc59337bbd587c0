"""The messages card on the patient's week: unread messages from the care team, and when
to expect a reply. One query."""

from django import template

from alliance.messaging.selectors import week_messages

register = template.Library()


@register.inclusion_tag("messaging/_week_card.html")
def messages_card(patient):
    return {"patient": patient, "summary": week_messages(patient)}
