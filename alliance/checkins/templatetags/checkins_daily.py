"""Template filters of the daily check-in: feelings and hours as people read them."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from alliance.checkins.daily import FEELINGS

register = template.Library()


@register.filter
def feelings_text(keys) -> str:
    """["calm", "tired"] -> "calm, tired", in the person's language."""
    return ", ".join(str(FEELINGS.get(key, key)) for key in keys or ())


@register.filter
def hours(value) -> str:
    """7.0 -> "7", 6.5 -> "6.5" (with the language's decimal sign)."""
    if value is None:
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return number_format(value, 1)
