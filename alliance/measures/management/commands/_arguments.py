"""What the measures commands share: comma-separated values and refusing bad input (exit 2)."""

from typing import NoReturn

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

# Reference §9.2: invalid input prints one line on stderr and exits with status 2.
INVALID_INPUT_STATUS = 2


def comma_separated(text: str | None) -> list[str]:
    """ "1,0,2" -> ["1", "0", "2"]; nothing given -> []. Each value is checked by the scorer."""
    if text is None or not text.strip():
        return []
    return text.split(",")


def refuse(command: BaseCommand, message: str) -> NoReturn:
    """Print the message alone (no "CommandError:" prefix) and exit with status 2."""
    command.stderr.write(" ".join(message.split()))
    raise SystemExit(INVALID_INPUT_STATUS)


def yes_no_or_undefined(value: bool | None) -> str:
    if value is None:
        return _("not defined")
    return _("yes") if value else _("no")
