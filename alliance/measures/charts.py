"""Score charts: each instrument's history drawn over its severity bands, with reliable
change marked. Rendered on the server as SVG (no third-party request, no script)."""

from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from alliance.lib import charts
from alliance.measures.instruments import builtin_instruments
from alliance.measures.selectors import ScoreLine

MARKERS = {"improvement": "reliable_improvement", "deterioration": "reliable_deterioration"}


@dataclass(frozen=True)
class ScoreChart:
    line: ScoreLine
    svg: SafeString
    table: SafeString


def score_chart(line: ScoreLine) -> ScoreChart:
    instrument = builtin_instruments().get(line.instrument)
    low, high = instrument.total_range if instrument else (0, max(r.total for r in line.responses))
    # Contiguous strips: "5–9" is drawn from 5 up to 10, the last band up to the maximum.
    bands = [
        charts.Band(b.min, min(b.max + 1, high), b.label)
        for b in (instrument.severity if instrument else ())
    ]
    lower_is_better = not (
        instrument and instrument.reliable_change and instrument.reliable_change.better == "higher"
    )
    last = len(line.responses) - 1
    points = [
        charts.Point(
            r.submitted_at,
            r.total,
            label=r.severity.replace("_", " "),
            marker="risk" if r.risk else (MARKERS.get(line.change, "") if i == last else ""),
        )
        for i, r in enumerate(line.responses)
    ]
    series = [charts.Series(line.name, points)]
    svg = charts.line_chart(
        series,
        title=line.name,
        y_min=low,
        y_max=high,
        bands=bands,
        y_label=line.name,
        lower_is_better=lower_is_better,
    )
    table = charts.data_table(
        series, caption=line.name, value_label=line.name, bands=bands, band_heading=_("Severity")
    )
    return ScoreChart(line, svg, table)


def score_charts(lines: list[ScoreLine]) -> list[ScoreChart]:
    return [score_chart(line) for line in lines]
