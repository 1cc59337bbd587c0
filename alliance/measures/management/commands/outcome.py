"""`alliance outcome --phq9 A,B --gad7 X,Y --contacts N [--json]`: an episode's outcome (§9.3)."""

import json

from django.utils.translation import gettext as _

from alliance.measures.management.commands._arguments import (
    ShieldedCommand,
    comma_separated,
    refuse,
    yes_no_or_undefined,
)
from alliance.measures.outcomes import EpisodeOutcome, OutcomeError, episode_outcome


class Command(ShieldedCommand):
    value_options = {"--phq9", "--gad7", "--contacts"}

    help = _(
        "NHS Talking Therapies outcome of one episode from its PHQ-9 and GAD-7 totals in time "
        "order and the number of attended treatment contacts, e.g. "
        "'alliance outcome --phq9 15,12,8 --gad7 12,9,6 --contacts 6 --json'."
    )
    # Outcomes are pure: they need neither the database nor the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--phq9", help=_("every PHQ-9 total in time order, e.g. 15,12,8"))
        parser.add_argument("--gad7", help=_("every GAD-7 total in time order, e.g. 12,9,6"))
        parser.add_argument(
            "--contacts",
            help=_("attended treatment (or assessment-and-treatment) appointments"),
        )
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args, **options):
        try:
            outcome = episode_outcome(
                phq9_scores=comma_separated(options["phq9"]),
                gad7_scores=comma_separated(options["gad7"]),
                treatment_contacts=options["contacts"],
            )
        except OutcomeError as error:
            refuse(self, str(error))
        if options["json"]:
            self.stdout.write(json.dumps(outcome.as_dict()))
        else:
            self.stdout.write(summary(outcome))


def summary(outcome: EpisodeOutcome) -> str:
    """The outcome as a person reads it; "not defined" where §5.2 leaves a flag undefined."""
    labels = {
        "finished_treatment": _("Finished a course of treatment"),
        "at_caseness": _("At caseness at the start"),
        "recovered": _("Recovered"),
        "reliably_improved": _("Reliably improved"),
        "reliably_deteriorated": _("Reliably deteriorated"),
        "reliably_recovered": _("Reliably recovered"),
    }
    lines = [
        _("%(label)s: %(value)s") % {"label": labels[key], "value": yes_no_or_undefined(value)}
        for key, value in outcome.as_dict().items()
    ]
    for name, change in (("PHQ-9", outcome.phq9_change), ("GAD-7", outcome.gad7_change)):
        shown = _("not defined") if change is None else f"{change:+d}"
        lines.append(
            _("%(name)s change, first to last: %(change)s") % {"name": name, "change": shown}
        )
    return "\n".join(lines)
