"""`alliance score INSTRUMENT ANSWERS [--difficulty N] [--json]`: score one questionnaire (§9.2)."""

import json

from django.utils.translation import gettext as _

from alliance.measures.instruments import Instrument, UnknownInstrumentError, get_instrument
from alliance.measures.management.commands._arguments import (
    ShieldedCommand,
    comma_separated,
    refuse,
    yes_no_or_undefined,
)
from alliance.measures.scoring import Score, ScoringError, score_answers


class Command(ShieldedCommand):
    help = _(
        "Score one completed questionnaire, e.g. 'alliance score phq9 1,1,1,1,1,1,1,1,1 --json'. "
        "Answers are comma-separated in item order: the option's index for phq9, gad7, epds "
        "and wsas; the ticked value 1-5 for wai-sr."
    )
    # Scoring is pure: it needs neither the database nor the system checks.
    requires_system_checks = []
    value_options = {"--difficulty"}

    def add_arguments(self, parser):
        parser.add_argument("instrument", help=_("phq9, gad7, epds, wai-sr or wsas"))
        parser.add_argument("answers", help=_("comma-separated answers, e.g. 1,0,2,3,0,1,2,0,0"))
        parser.add_argument(
            "--difficulty",
            help=_("PHQ-9/GAD-7 difficulty answer, 0-3; never added to the total"),
        )
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args, **options):
        try:
            instrument = get_instrument(options["instrument"])
            score = score_answers(
                instrument,
                comma_separated(options["answers"]),
                difficulty=options["difficulty"],
            )
        except (UnknownInstrumentError, ScoringError) as error:
            refuse(self, str(error))
        if options["json"]:
            self.stdout.write(json.dumps(score.as_dict()))
        else:
            self.stdout.write(summary(instrument, score))


def summary(instrument: Instrument, score: Score) -> str:
    """The score as a person reads it."""
    low, high = instrument.total_range
    band = instrument.band_for(score.total)
    lines = [
        _("%(name)s total: %(total)d (range %(low)d–%(high)d)")
        % {"name": instrument.name, "total": score.total, "low": low, "high": high}
    ]
    if band:
        lines.append(_("Severity: %(severity)s") % {"severity": band.label})
    if instrument.risk:
        lines.append(_("Risk item positive: %(risk)s") % {"risk": yes_no_or_undefined(score.risk)})
        for rule in instrument.risk:
            item = instrument.item(rule.item)
            if item.number in score.risk_items:
                lines.append(
                    _("  Item %(number)d (%(reason)s): a clinician must assess risk now.")
                    % {"number": item.number, "reason": rule.reason}
                )
    if instrument.caseness:
        lines.append(
            _("NHS Talking Therapies caseness (%(min)d or more): %(caseness)s")
            % {
                "min": instrument.caseness.min_total,
                "caseness": yes_no_or_undefined(score.caseness),
            }
        )
    lines.append(_("Item scores: %(scores)s") % {"scores": ", ".join(map(str, score.item_scores))})
    for subscale in instrument.subscales:
        lines.append(
            _("Subscale %(label)s: %(sum)d")
            % {"label": subscale.label, "sum": score.subscales[subscale.key]}
        )
    if score.mean is not None:
        lines.append(_("Mean item score: %(mean).2f") % {"mean": score.mean})
    if score.difficulty is not None:
        label = instrument.difficulty.option_for(score.difficulty).label
        lines.append(_("Difficulty: %(label)s (not scored)") % {"label": label})
    return "\n".join(lines)
