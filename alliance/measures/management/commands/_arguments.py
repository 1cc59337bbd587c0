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


def looks_negative(arg: str) -> bool:
    """ "-1,0,2" or "-3": a value, though argparse would take it for an option."""
    return len(arg) > 1 and arg[0] == "-" and (arg[1].isdigit() or arg[1] in ",.")


def shield_negative_values(argv: list[str], value_options: set[str]) -> list[str]:
    """Rewrite argv so that values starting with "-" reach our own checks, which name the
    item, instead of argparse's "unrecognised arguments": "--opt -1" becomes "--opt=-1",
    and a negative positional goes after "--"."""
    head, positionals = argv[:2], []
    rest: list[str] = []
    args = argv[2:]
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in value_options and index + 1 < len(args) and looks_negative(args[index + 1]):
            rest.append(f"{arg}={args[index + 1]}")
            index += 2
            continue
        (positionals if looks_negative(arg) else rest).append(arg)
        index += 1
    return head + rest + (["--", *positionals] if positionals else [])


class ShieldedCommand(BaseCommand):
    """A command whose option values and positionals may start with "-"."""

    value_options: set[str] = set()

    def run_from_argv(self, argv):
        super().run_from_argv(shield_negative_values(argv, self.value_options))
