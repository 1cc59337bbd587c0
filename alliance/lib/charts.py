"""Accessible charts drawn on the server as inline SVG: line charts, sparklines, data tables.

Pages run under a strict Content-Security-Policy, so nothing here uses a ``style``
attribute, a ``<style>`` element or script: every colour, dash and font is an SVG
presentation attribute. Every chart carries its own text alternative (a ``<title>`` and a
``<desc>`` that summarises the data, referenced by ``aria-labelledby``); ``data_table``
gives the same data as an HTML table for screen-reader users, print and export.

Text from callers (titles, series names, band labels, notes) is always escaped.

Example, for a PHQ-9 (lower is better)::

    bands = [Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"),
             Band(15, 19, "moderately severe"), Band(20, 27, "severe")]
    svg = line_chart([Series("PHQ-9", points)], title="PHQ-9 scores", y_min=0, y_max=27,
                     bands=bands, lower_is_better=True)
"""

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Band:
    """A range of the scale drawn as a shaded horizontal strip, labelled at the right.

    Bounds may be inclusive integer ranges (0-4, 5-9): the strips meet halfway across the
    gap, so a PHQ-9 of 4 sits in "minimal" and 5 in "mild".
    """

    low: float
    high: float
    label: str


@dataclass(frozen=True)
class Point:
    x: datetime | date | float
    y: float | None  # None is a missing value: the line breaks there
    label: str = ""  # a short note for the tooltip and the table, e.g. "after session 4"
    marker: str = ""  # a key of MARKERS (or any word): drawn as a symbol, told in the text


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]


@dataclass(frozen=True)
class _Marker:
    text: str
    shape: str
    colour: str


# The palette follows alliance.css. Series colours keep at least 3:1 against white and
# every band fill (WCAG 1.4.11) and are told apart by dash pattern too, not colour alone.
INK = "#1b2a3a"
MUTED = "#4a5a68"
GRID = "#c3cbc8"
SERIES_COLOURS = ("#1f5f63", "#a0440c", "#5b3f91", "#2a5a9b")
SERIES_DASHES = ("", "8 4", "2 3", "10 3 2 3")
# Light fills, from better to worse. Band labels are drawn in INK on them (far above 4.5:1).
GRADED_FILLS = ("#e3f0e6", "#edf2dc", "#fbf0d4", "#fbe3d3", "#f7dcdd")
NEUTRAL_FILLS = ("#edf1f3", "#e0e8ec")

MARKERS = {
    "reliable_improvement": _Marker("reliable improvement", "diamond", "#1e6b3a"),
    "reliable_deterioration": _Marker("reliable deterioration", "square", "#b3261e"),
    "risk": _Marker("risk flagged", "triangle", "#b3261e"),
}

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
FONT_SIZE = 12
CHAR_WIDTH = 0.6 * FONT_SIZE  # a rough average, enough to keep labels from colliding
MAX_SERIES = len(SERIES_COLOURS)
_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_min: float,
    y_max: float,
    bands: Sequence[Band] = (),
    y_label: str = "",
    x_label: str = "",
    width: int = 640,
    height: int = 260,
    lower_is_better: bool | None = None,
    time_zone: tzinfo | str | None = None,
    id_prefix: str | None = None,
) -> SafeString:
    """A responsive SVG line chart of up to four series over dates or numbers.

    Aware datetimes are shown in ``time_zone`` (a zoneinfo or its name), else in the
    current Django time zone. ``lower_is_better`` grades the band fills from calm green
    (better) to soft rose (worse) and is said in the description; None keeps them neutral.
    """
    if len(series) > MAX_SERIES:
        raise ValueError(f"A chart shows at most {MAX_SERIES} series, got {len(series)}.")
    if y_max <= y_min:
        raise ValueError("y_max must be above y_min.")
    prefix = _chart_id(id_prefix)
    tz = _resolve_time_zone(time_zone)
    lines = [_placed(s, tz) for s in series]
    x_kind = _x_kind(lines)
    years = {p.local.year for line in lines for p in line.points if p.local is not None}
    x_format = _XFormat(x_kind, with_year=len(years) > 1, label=x_label)
    strips = _strips(bands, y_min, y_max, lower_is_better)
    has_data = any(p.point.y is not None for line in lines for p in line.points)
    markers_used = _markers_used(lines)

    legend_items = []
    if len(lines) > 1:
        legend_items += [("series", i, line.series.name) for i, line in enumerate(lines)]
    legend_items += [("marker", key, _marker(key).text) for key in markers_used]
    legend, legend_height = _legend(legend_items, width)

    label_width = max((len(s.band.label) for s in strips), default=0) * CHAR_WIDTH
    left = 40 + (18 if y_label else 0)
    right = width - (min(label_width + 14, width * 0.35) if strips else 12)
    top = 10 + legend_height
    bottom = height - 26 - (16 if x_label else 0)
    if right - left < 40 or bottom - top < 40:
        raise ValueError("The chart is too small for its labels.")
    xs = [p.x for line in lines for p in line.points]
    scale = _Scale(left, right, top, bottom, min(xs, default=0), max(xs, default=0), y_min, y_max)

    parts = [
        _svg_open(prefix, width, height),
        _el("title", {"id": f"{prefix}-title"}, escape(title)),
        _el(
            "desc",
            {"id": f"{prefix}-desc"},
            escape(
                _description(lines, strips, y_min, y_max, lower_is_better, x_format)
                if has_data
                else _("No data yet.")
            ),
        ),
    ]
    for strip in strips:
        parts.append(_band(strip, scale, width))
    parts.append(_y_axis(scale, y_label))
    if has_data:
        parts.append(_x_axis(lines, scale, x_format, width))
        for index, line in enumerate(lines):
            parts.append(_series(index, line, scale, strips, x_format, len(lines)))
    else:
        parts.append(
            _el(
                "text",
                {
                    "x": (left + right) / 2,
                    "y": (top + bottom) / 2,
                    "text-anchor": "middle",
                    "fill": INK,
                    "font-size": FONT_SIZE + 2,
                },
                escape(_("No data yet")),
            )
        )
    parts.append(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every caller string above is escaped


def sparkline(
    values: Sequence[float | None],
    *,
    label: str,
    y_min: float,
    y_max: float,
    width: int = 120,
    height: int = 28,
) -> SafeString:
    """A tiny trend line for a table row. Its accessible name is ``label`` with the latest,
    lowest and highest values, since the shape alone says nothing to a screen reader."""
    if y_max <= y_min:
        raise ValueError("y_max must be above y_min.")
    known = [v for v in values if v is not None]
    if known:
        name = _("%(label)s: latest %(latest)s, lowest %(lowest)s, highest %(highest)s") % {
            "label": label,
            "latest": _number(known[-1]),
            "lowest": _number(min(known)),
            "highest": _number(max(known)),
        }
    else:
        name = _("%(label)s: no data yet") % {"label": label}
    pad = 3
    count = len(values)

    def position(index: int, value: float) -> tuple[float, float]:
        x = width / 2 if count == 1 else pad + index * (width - 2 * pad) / (count - 1)
        fraction = (_clamp(value, y_min, y_max) - y_min) / (y_max - y_min)
        return x, height - pad - fraction * (height - 2 * pad)

    parts = [
        _el_open(
            "svg",
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "viewBox": f"0 0 {width} {height}",
                "width": width,
                "height": height,
                "role": "img",
                "aria-label": name,
                "class": "sparkline",
            },
        )
    ]
    parts.append(
        _el(
            "line",
            {
                "x1": 0,
                "x2": width,
                "y1": height - pad,
                "y2": height - pad,
                "stroke": GRID,
                "stroke-width": 1,
            },
        )
    )
    for run in _runs(list(enumerate(values)), lambda item: item[1]):
        if len(run) > 1:
            parts.append(_polyline([position(i, v) for i, v in run], SERIES_COLOURS[0], ""))
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None), None)
    if last is not None:
        x, y = position(*last)
        parts.append(_el("circle", {"cx": x, "cy": y, "r": 2.5, "fill": SERIES_COLOURS[0]}))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - the only caller text is escaped


def data_table(
    series: Sequence[Series],
    *,
    caption: str,
    value_label: str,
    bands: Sequence[Band] = (),
    band_heading: str = "",
    x_heading: str = "",
    time_zone: tzinfo | str | None = None,
) -> SafeString:
    """The chart's data as an HTML table, one row per point in date order: the text
    alternative that can be read cell by cell, printed and copied. Columns: the date (or
    ``x_heading``), the measure when there are several series, ``value_label``, the band
    when ``bands`` are given, and notes (markers, point labels) when there are any."""
    tz = _resolve_time_zone(time_zone)
    lines = [_placed(s, tz) for s in series]
    x_kind = _x_kind(lines)
    strips = _strips(bands, -math.inf, math.inf, None)
    rows = sorted(
        ((p, index) for index, line in enumerate(lines) for p in line.points),
        key=lambda item: (item[0].x, item[1]),
    )
    show_series = len(lines) > 1
    show_notes = any(p.point.label or p.point.marker for p, _index in rows)
    headings = [x_heading or (_("Date") if x_kind == "date" else _("Point"))]
    if show_series:
        headings.append(_("Measure"))
    headings.append(value_label)
    if strips:
        headings.append(band_heading or _("Band"))
    if show_notes:
        headings.append(_("Notes"))

    out = [f"<table><caption>{escape(caption)}</caption><thead><tr>"]
    out += [f'<th scope="col">{escape(heading)}</th>' for heading in headings]
    out.append("</tr></thead><tbody>")
    if not rows:
        out.append(f'<tr><td colspan="{len(headings)}">{escape(_("No data yet"))}</td></tr>')
    for placed, index in rows:
        point = placed.point
        if x_kind == "date":
            when = _format_date(placed.local, with_year=True, with_time=True)
        else:
            when = _number(point.x)
        out.append(f'<tr><th scope="row">{escape(when)}</th>')
        if show_series:
            out.append(f"<td>{escape(lines[index].series.name)}</td>")
        value = _("Missing") if point.y is None else _number(point.y)
        out.append(f"<td>{escape(value)}</td>")
        if strips:
            band = _band_for(point.y, strips)
            out.append(f"<td>{escape(band.label if band else '')}</td>")
        if show_notes:
            out.append(f"<td>{escape(_note(point))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return mark_safe("".join(out))  # noqa: S308 - every caller string above is escaped


# Placing points ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Placed:
    point: Point
    x: float  # position on the x scale: a day number for dates, else the number itself
    local: date | None  # the date or local datetime shown for it, for date-like x


@dataclass(frozen=True)
class _Line:
    series: Series
    points: list[_Placed]  # sorted by x


@dataclass(frozen=True)
class _XFormat:
    kind: str  # "date" or "number"
    with_year: bool  # when the data spans more than one calendar year
    label: str = ""  # the x axis title, e.g. "Week"

    def axis(self, placed: _Placed) -> str:
        if self.kind == "date":
            return _format_date(placed.local, with_year=self.with_year)
        return _number(placed.point.x)

    def text(self, placed: _Placed) -> str:
        """As in tooltips and the description: "3 Mar", or "Week 3" for numbered x."""
        if self.kind == "number" and self.label:
            return f"{self.label} {_number(placed.point.x)}"
        return self.axis(placed)


def _placed(series: Series, tz: tzinfo | None) -> _Line:
    placed = []
    for point in series.points:
        if isinstance(point.x, date):
            local = point.x
            if isinstance(local, datetime) and timezone.is_aware(local):
                local = timezone.localtime(local, tz)
            x = float(local.toordinal())
            if isinstance(local, datetime):
                x += (local.hour * 3600 + local.minute * 60 + local.second) / 86400
            placed.append(_Placed(point, x, local))
        elif isinstance(point.x, int | float) and not isinstance(point.x, bool):
            placed.append(_Placed(point, float(point.x), None))
        else:
            raise TypeError(f"A point's x must be a date, datetime or number: {point.x!r}")
    placed.sort(key=lambda p: p.x)
    return _Line(series, placed)


def _x_kind(lines: list[_Line]) -> str:
    kinds = {"date" if p.local is not None else "number" for line in lines for p in line.points}
    if len(kinds) > 1:
        raise TypeError("Points on one chart must all have dates or all have numbers as x.")
    return kinds.pop() if kinds else "date"


def _resolve_time_zone(time_zone: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone


def _chart_id(id_prefix: str | None) -> str:
    if id_prefix is None:
        return f"chart-{uuid.uuid4().hex[:10]}"
    if not _ID_PATTERN.match(id_prefix):
        raise ValueError(f"id_prefix must be a letter then letters, digits, - or _: {id_prefix!r}")
    return id_prefix


# Scale and bands -----------------------------------------------------------------------


class _Scale:
    x_padding = 10  # keeps the first and last points clear of the axes

    def __init__(self, left, right, top, bottom, x_lo, x_hi, y_lo, y_hi):
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.x_lo, self.x_hi, self.y_lo, self.y_hi = x_lo, x_hi, y_lo, y_hi

    def x(self, value: float) -> float:
        if self.x_hi == self.x_lo:
            return (self.left + self.right) / 2
        usable = self.right - self.left - 2 * self.x_padding
        return self.left + self.x_padding + (value - self.x_lo) / (self.x_hi - self.x_lo) * usable

    def y(self, value: float) -> float:
        fraction = (_clamp(value, self.y_lo, self.y_hi) - self.y_lo) / (self.y_hi - self.y_lo)
        return self.bottom - fraction * (self.bottom - self.top)


@dataclass(frozen=True)
class _Strip:
    band: Band
    low: float  # drawn extent, after closing gaps and clipping to the scale
    high: float
    fill: str


def _strips(bands, y_min, y_max, lower_is_better) -> list[_Strip]:
    ordered = sorted(bands, key=lambda b: b.low)
    for band in ordered:
        if band.high < band.low:
            raise ValueError(f"Band {band.label!r} ends below where it starts.")
    for below, above in zip(ordered, ordered[1:], strict=False):
        if above.low < below.high:
            raise ValueError(f"Bands {below.label!r} and {above.label!r} overlap.")
    fills = _band_fills(len(ordered), lower_is_better)
    strips = []
    for i, band in enumerate(ordered):
        # Inclusive integer bands (0-4, 5-9) leave a gap; the strips meet in its middle.
        low = (ordered[i - 1].high + band.low) / 2 if i else band.low
        high = (band.high + ordered[i + 1].low) / 2 if i + 1 < len(ordered) else band.high
        low, high = max(low, y_min), min(high, y_max)
        if high > low:
            strips.append(_Strip(band, low, high, fills[i]))
    return strips


def _band_fills(count: int, lower_is_better: bool | None) -> list[str]:
    if lower_is_better is None:
        return [NEUTRAL_FILLS[i % 2] for i in range(count)]
    if count <= len(GRADED_FILLS):
        # Spread over the whole scale so three bands still run from green to rose.
        steps = [round(i * (len(GRADED_FILLS) - 1) / max(count - 1, 1)) for i in range(count)]
        fills = [GRADED_FILLS[step] for step in steps]
    else:
        fills = [GRADED_FILLS[i * len(GRADED_FILLS) // count] for i in range(count)]
    return fills if lower_is_better else fills[::-1]


def _band_for(value: float | None, strips: list[_Strip]) -> Band | None:
    if value is None:
        return None
    found = None
    for strip in strips:  # ascending, so a value on a boundary takes the upper band
        if strip.low <= value <= strip.high:
            found = strip.band
    return found


# Drawing -------------------------------------------------------------------------------


def _svg_open(prefix: str, width: int, height: int) -> str:
    return _el_open(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "preserveAspectRatio": "xMidYMid meet",
            "role": "img",
            "aria-labelledby": f"{prefix}-title {prefix}-desc",
            "class": "chart",
            "font-family": FONT_FAMILY,
            "font-size": FONT_SIZE,
        },
    )


def _band(strip: _Strip, scale: _Scale, width: int) -> str:
    top, bottom = scale.y(strip.high), scale.y(strip.low)
    # The strip runs on under its label, so the label reads as part of it.
    rect = _el(
        "rect",
        {
            "x": scale.left,
            "y": top,
            "width": width - scale.left,
            "height": bottom - top,
            "fill": strip.fill,
            "class": "chart-band",
        },
    )
    if bottom - top < FONT_SIZE:
        return rect  # too thin to label; the description and tooltips still name it
    label = _el(
        "text",
        {
            "x": width - 6,
            "y": (top + bottom) / 2,
            "dy": "0.35em",
            "text-anchor": "end",
            "fill": INK,
        },
        escape(strip.band.label),
    )
    return rect + label


def _y_axis(scale: _Scale, y_label: str) -> str:
    max_ticks = max(2, int((scale.bottom - scale.top) // 32) + 1)
    parts = []
    for tick in _nice_ticks(scale.y_lo, scale.y_hi, max_ticks):
        y = scale.y(tick)
        parts.append(
            _el(
                "line",
                {
                    "x1": scale.left,
                    "x2": scale.right,
                    "y1": y,
                    "y2": y,
                    "stroke": GRID,
                    "stroke-width": 1,
                },
            )
        )
        parts.append(
            _el(
                "text",
                {
                    "x": scale.left - 6,
                    "y": y,
                    "dy": "0.35em",
                    "text-anchor": "end",
                    "fill": MUTED,
                },
                escape(_number(tick)),
            )
        )
    parts.append(
        _el(
            "line",
            {
                "x1": scale.left,
                "x2": scale.left,
                "y1": scale.top,
                "y2": scale.bottom,
                "stroke": MUTED,
                "stroke-width": 1,
            },
        )
    )
    if y_label:
        middle = (scale.top + scale.bottom) / 2
        parts.append(
            _el(
                "text",
                {
                    "x": 12,
                    "y": middle,
                    "text-anchor": "middle",
                    "fill": INK,
                    "transform": f"rotate(-90 12 {_coordinate(middle)})",
                },
                escape(y_label),
            )
        )
    return _el("g", {"class": "chart-y-axis"}, "".join(parts))


def _x_axis(lines, scale: _Scale, x_format: _XFormat, width: int) -> str:
    parts = [
        _el(
            "line",
            {
                "x1": scale.left,
                "x2": scale.right,
                "y1": scale.bottom,
                "y2": scale.bottom,
                "stroke": MUTED,
                "stroke-width": 1,
            },
        )
    ]
    # Label the x of the values themselves (first of each day), as many as fit.
    candidates: dict[str, float] = {}
    known = (p for line in lines for p in line.points if p.point.y is not None)
    for placed in sorted(known, key=lambda p: p.x):
        text = x_format.axis(placed)
        candidates.setdefault(text, placed.x)
    shown: list[tuple[str, float, float]] = []  # text, centre, half width
    for text, x in candidates.items():
        centre, half = scale.x(x), len(text) * CHAR_WIDTH / 2 + 4
        if not shown or centre - half >= shown[-1][1] + shown[-1][2]:
            shown.append((text, centre, half))
        elif len(shown) > 1 and x == max(candidates.values()):
            # Always label the latest point: it replaces the label it would collide with.
            if centre - half >= shown[-2][1] + shown[-2][2]:
                shown[-1] = (text, centre, half)
    for text, centre, half in shown:
        parts.append(
            _el(
                "line",
                {
                    "x1": centre,
                    "x2": centre,
                    "y1": scale.bottom,
                    "y2": scale.bottom + 4,
                    "stroke": MUTED,
                    "stroke-width": 1,
                },
            )
        )
        x = _clamp(centre, half - 4, width - half + 4)
        parts.append(
            _el(
                "text",
                {
                    "x": x,
                    "y": scale.bottom + 17,
                    "text-anchor": "middle",
                    "fill": MUTED,
                },
                escape(text),
            )
        )
    if x_format.label:
        parts.append(
            _el(
                "text",
                {
                    "x": (scale.left + scale.right) / 2,
                    "y": scale.bottom + 34,
                    "text-anchor": "middle",
                    "fill": INK,
                },
                escape(x_format.label),
            )
        )
    return _el("g", {"class": "chart-x-axis"}, "".join(parts))


def _series(index, line: _Line, scale, strips, x_format, series_count) -> str:
    colour, dash = SERIES_COLOURS[index], SERIES_DASHES[index]
    parts = []
    for run in _runs(line.points, lambda p: p.point.y):
        if len(run) > 1:
            coordinates = [(scale.x(p.x), scale.y(p.point.y)) for p in run]
            parts.append(_polyline(coordinates, colour, dash))
    for placed in line.points:
        point = placed.point
        if point.y is None:
            continue
        cx, cy = scale.x(placed.x), scale.y(point.y)
        if point.marker:
            parts.append(_marker_shape(_marker(point.marker), cx, cy))
        tooltip = _point_text(placed, strips, x_format)
        if series_count > 1:
            tooltip = f"{line.series.name}, {tooltip}"
        parts.append(
            _el(
                "circle",
                {
                    "cx": cx,
                    "cy": cy,
                    "r": 3.5,
                    "fill": colour,
                    "stroke": "#ffffff",
                    "stroke-width": 1,
                },
                _el("title", {}, escape(tooltip)),
            )
        )
    return _el("g", {"class": "chart-series"}, "".join(parts))


def _polyline(coordinates: list[tuple[float, float]], colour: str, dash: str) -> str:
    attrs = {
        "points": " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in coordinates),
        "fill": "none",
        "stroke": colour,
        "stroke-width": 2,
        "stroke-linejoin": "round",
        "stroke-linecap": "round",
    }
    if dash:
        attrs["stroke-dasharray"] = dash
    return _el("polyline", attrs)


def _marker_shape(marker: _Marker, cx: float, cy: float, size: float = 8) -> str:
    if marker.shape == "diamond":
        corners = [(cx, cy - size), (cx + size, cy), (cx, cy + size), (cx - size, cy)]
    elif marker.shape == "square":
        s = size * 0.8
        corners = [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    elif marker.shape == "triangle":
        corners = [
            (cx, cy - size * 1.2),
            (cx + size, cy + size * 0.7),
            (cx - size, cy + size * 0.7),
        ]
    else:  # an asterisk-like cross for markers this module does not know
        s = size
        return _el(
            "path",
            {
                "d": f"M{_coordinate(cx - s)} {_coordinate(cy)}h{_coordinate(2 * s)}"
                f"M{_coordinate(cx)} {_coordinate(cy - s)}v{_coordinate(2 * s)}",
                "stroke": marker.colour,
                "stroke-width": 2,
                "fill": "none",
                "class": "chart-marker",
            },
        )
    points = " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in corners)
    return _el(
        "polygon",
        {
            "points": points,
            "fill": "none",
            "stroke": marker.colour,
            "stroke-width": 2,
            "class": "chart-marker",
        },
    )


def _legend(items, width: int) -> tuple[str, int]:
    """The legend above the plot, wrapping onto more rows when it is wide."""
    if not items:
        return "", 0
    row_height, x, row = 18, 10.0, 0
    parts = []
    for kind, key, text in items:
        item_width = 30 + len(text) * CHAR_WIDTH + 16
        if x + item_width > width and x > 10:
            x, row = 10.0, row + 1
        y = 12 + row * row_height
        if kind == "series":
            parts.append(_polyline([(x, y), (x + 24, y)], SERIES_COLOURS[key], SERIES_DASHES[key]))
        else:
            parts.append(_marker_shape(_marker(key), x + 12, y, size=6))
        parts.append(_el("text", {"x": x + 30, "y": y, "dy": "0.35em", "fill": INK}, escape(text)))
        x += item_width
    return _el("g", {"class": "chart-legend"}, "".join(parts)), (row + 1) * row_height + 4


# Text ----------------------------------------------------------------------------------


def _description(lines, strips, y_min, y_max, lower_is_better, x_format) -> str:
    sentences = []
    for line in lines:
        known = [p for p in line.points if p.point.y is not None]
        name = line.series.name
        if not known:
            sentences.append(_("%(name)s: no data yet.") % {"name": name})
            continue
        when = x_format.text

        def value(placed: _Placed) -> str:
            band = _band_for(placed.point.y, strips)
            text = _number(placed.point.y)
            return f"{text} ({band.label})" if band else text

        first, last = known[0], known[-1]
        if len(known) == 1:
            sentences.append(
                _("%(name)s: one value, %(value)s on %(on)s.")
                % {
                    "name": name,
                    "value": value(first),
                    "on": when(first),
                }
            )
            continue
        lowest = min(known, key=lambda p: p.point.y)
        highest = max(known, key=lambda p: p.point.y)
        missing = len(line.points) - len(known)
        sentence = _(
            "%(name)s: %(count)s values from %(start)s to %(end)s%(missing)s. First %(first)s, "
            "latest %(last)s; lowest %(lowest)s on %(lowest_on)s, highest %(highest)s on "
            "%(highest_on)s."
        ) % {
            "name": name,
            "count": len(known),
            "start": when(first),
            "end": when(last),
            "missing": _(" (%(missing)s missing)") % {"missing": missing} if missing else "",
            "first": value(first),
            "last": value(last),
            "lowest": value(lowest),
            "lowest_on": when(lowest),
            "highest": value(highest),
            "highest_on": when(highest),
        }
        marked = [p for p in known if p.point.marker]
        if marked:
            sentence += " " + _("Marked: %(list)s.") % {
                "list": "; ".join(
                    _("%(marker)s on %(date)s")
                    % {"marker": _marker(p.point.marker).text, "date": when(p)}
                    for p in marked
                )
            }
        sentences.append(sentence)
    scale = _("Scale %(low)s to %(high)s.") % {"low": _number(y_min), "high": _number(y_max)}
    if lower_is_better is True:
        scale += " " + _("Lower is better.")
    elif lower_is_better is False:
        scale += " " + _("Higher is better.")
    sentences.append(scale)
    if strips:
        sentences.append(
            _("Bands: %(list)s.")
            % {
                "list": ", ".join(
                    f"{s.band.label} {_number(s.band.low)}–{_number(s.band.high)}" for s in strips
                )
            }
        )
    return " ".join(sentences)


def _point_text(placed: _Placed, strips, x_format: _XFormat) -> str:
    """The tooltip of a point, e.g. "3 Mar: 14 (moderate), reliable improvement"."""
    text = f"{x_format.text(placed)}: {_number(placed.point.y)}"
    band = _band_for(placed.point.y, strips)
    if band:
        text += f" ({band.label})"
    note = _note(placed.point)
    return f"{text}, {note}" if note else text


def _note(point: Point) -> str:
    return ", ".join(
        text for text in (_marker(point.marker).text if point.marker else "", point.label) if text
    )


def _format_date(value: date, *, with_year: bool, with_time: bool = False) -> str:
    # Django's date format letters use the active language's month names ("3 Mar").
    pattern = "j M Y" if with_year else "j M"
    if with_time and isinstance(value, datetime):
        pattern += ", H:i"
    return dateformat.format(value, pattern)


def _marker(key: str) -> _Marker:
    return MARKERS.get(key) or _Marker(key.replace("_", " "), "cross", INK)


def _markers_used(lines: list[_Line]) -> list[str]:
    keys = [p.point.marker for line in lines for p in line.points if p.point.marker]
    return list(dict.fromkeys(keys))


def _number(value: float) -> str:
    """14 -> "14", 3.5 -> "3.5", 3.6667 -> "3.67"."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


# Small helpers -------------------------------------------------------------------------


def _nice_ticks(low: float, high: float, max_count: int) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) inside the range."""
    span = high - low
    magnitude = 10 ** math.floor(math.log10(span / max(max_count - 1, 1)))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if span / step <= max_count - 1 + 1e-9:
            break
    first = math.ceil(low / step - 1e-9)
    ticks = []
    index = first
    while index * step <= high + 1e-9:
        ticks.append(round(index * step, 10))
        index += 1
    return ticks


def _runs(items, value_of) -> list[list]:
    """Split items into runs without a missing value: a None breaks the line."""
    runs, current = [], []
    for item in items:
        if value_of(item) is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(item)
    if current:
        runs.append(current)
    return runs


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _coordinate(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _attribute_value(value) -> str:
    if isinstance(value, float):
        return _coordinate(value)
    if isinstance(value, int):
        return str(value)
    return escape(value)


def _attributes(attrs: dict) -> str:
    return "".join(f' {name}="{_attribute_value(value)}"' for name, value in attrs.items())


def _el_open(name: str, attrs: dict) -> str:
    return f"<{name}{_attributes(attrs)}>"


def _el(name: str, attrs: dict, content: str = "") -> str:
    """An element; ``content`` must already be escaped markup."""
    if not content:
        return f"<{name}{_attributes(attrs)}/>"
    return f"<{name}{_attributes(attrs)}>{content}</{name}>"
