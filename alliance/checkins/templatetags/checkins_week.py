"""The check-in card on the patient's week: today's prompt or "done today", a kind word
about the run of days, and links to the calendar and the trend. One query."""

from django import template

from alliance.checkins import selectors

register = template.Library()


@register.inclusion_tag("checkins/_week_card.html")
def checkin_card(patient):
    status = selectors.checkin_status(patient, selectors.patient_today(patient))
    return {"patient": patient, "status": status}
