"""Template helpers of the measures pages."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ instruments|get_item:code }}``: a mapping's value, or None."""
    return mapping.get(key) if mapping is not None else None
