"""Placeholders in message templates: which exist, checking a template, filling one in.

A template's body may hold ``{patient_first_name}``, ``{supporter_name}``,
``{module_title}`` and ``{service_name}``. Anything else in braces is refused when the
template is saved, so a supporter never sends a message with a gap or a stray brace.
Filling in is a plain substitution (never ``str.format``, which would let a template
reach into Python objects).
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDERS = {
    "patient_first_name": gettext_lazy("the patient's first name (or the name they prefer)"),
    "supporter_name": gettext_lazy("the name of the person sending the message"),
    "module_title": gettext_lazy("the module the patient is working on"),
    "service_name": gettext_lazy("your service's name"),
}

_BRACED = re.compile(r"\{([^{}]*)\}")


def placeholder_problems(body: str) -> list[str]:
    """What is wrong with the template's placeholders, in words for the author."""
    problems = []
    unknown = [name for name in _BRACED.findall(body) if name not in PLACEHOLDERS]
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        for name in dict.fromkeys(unknown):
            problems.append(
                _("{%(name)s} is not a placeholder. You can use: %(known)s.")
                % {"name": name, "known": known}
            )
    leftover = _BRACED.sub("", body)
    if "{" in leftover or "}" in leftover:
        problems.append(_("Use braces only around a placeholder, like {patient_first_name}."))
    return problems


def fill(body: str, values: dict[str, str]) -> str:
    """The body with each placeholder replaced by its value (unknown ones left as they are)."""
    return _BRACED.sub(lambda m: str(values.get(m.group(1), m.group(0))), body)
