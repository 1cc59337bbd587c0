"""Charts read as XML: structure, text alternatives, geometry by value, escaping, CSP."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.safestring import SafeString

from alliance.lib import charts
from alliance.lib.charts import Band, Point, Series, data_table, line_chart, sparkline

SVG = "{http://www.w3.org/2000/svg}"

PHQ9_BANDS = [
    Band(0, 4, "minimal"),
    Band(5, 9, "mild"),
    Band(10, 14, "moderate"),
    Band(15, 19, "moderately severe"),
    Band(20, 27, "severe"),
]


def phq9_points():
    return [
        Point(date(2025, 3, 3), 16),
        Point(date(2025, 3, 10), 14),
        Point(date(2025, 3, 17), None),
        Point(date(2025, 3, 24), 11),
        Point(date(2025, 3, 31), 9),
        Point(date(2025, 4, 7), 6, marker="reliable_improvement"),
    ]


def phq9_chart(points=None, **kwargs):
    options = {
        "title": "PHQ-9 scores",
        "y_min": 0,
        "y_max": 27,
        "bands": PHQ9_BANDS,
        "lower_is_better": True,
        "id_prefix": "phq9",
    }
    options.update(kwargs)
    series = [Series("PHQ-9", phq9_points() if points is None else points)]
    return line_chart(series, **options)


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, under test


def find_all(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def desc_of(root: ET.Element) -> str:
    return root.find(f"{SVG}desc").text


def tooltips(root: ET.Element) -> list[str]:
    return [circle.find(f"{SVG}title").text for circle in find_all(root, "circle")]


def x_axis_labels(root: ET.Element) -> list[str]:
    axis = next(g for g in find_all(root, "g") if g.get("class") == "chart-x-axis")
    return [text.text for text in axis.iter(f"{SVG}text")]


def y_axis_labels(root: ET.Element) -> list[str]:
    axis = next(g for g in find_all(root, "g") if g.get("class") == "chart-y-axis")
    return [text.text for text in axis.iter(f"{SVG}text")]


def band_rects(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in find_all(root, "rect") if rect.get("class") == "chart-band"]


def polylines_of_series(root: ET.Element) -> list[ET.Element]:
    groups = [g for g in find_all(root, "g") if g.get("class") == "chart-series"]
    return [line for g in groups for line in g.iter(f"{SVG}polyline")]


def contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


class TestLineChart:
    def test_it_returns_well_formed_svg_marked_safe(self):
        markup = phq9_chart()

        assert isinstance(markup, SafeString)
        root = parse(markup)
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == "0 0 640 260"
        assert root.get("width") == "100%"
        assert root.get("preserveAspectRatio") == "xMidYMid meet"

    def test_it_is_labelled_by_its_title_and_desc(self):
        root = parse(phq9_chart())

        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == "phq9-title phq9-desc"
        title = root.find(f"{SVG}title")
        desc = root.find(f"{SVG}desc")
        assert (title.get("id"), title.text) == ("phq9-title", "PHQ-9 scores")
        assert desc.get("id") == "phq9-desc"

    def test_it_gives_each_chart_its_own_ids(self):
        first = parse(phq9_chart(id_prefix=None))
        second = parse(phq9_chart(id_prefix=None))

        assert first.get("aria-labelledby") != second.get("aria-labelledby")
        for root in (first, second):
            ids = {element.get("id") for element in root.iter() if element.get("id")}
            assert set(root.get("aria-labelledby").split()) == ids

    def test_it_refuses_an_id_prefix_that_is_not_an_id(self):
        with pytest.raises(ValueError):
            phq9_chart(id_prefix='x" onload="alert(1)')

    def test_it_summarises_first_latest_lowest_and_highest_in_desc(self):
        desc = desc_of(parse(phq9_chart()))

        assert desc.startswith("PHQ-9: 5 values from 3 Mar to 7 Apr (1 missing).")
        assert "First 16 (moderately severe), latest 6 (mild)" in desc
        assert "lowest 6 (mild) on 7 Apr, highest 16 (moderately severe) on 3 Mar" in desc
        assert "Scale 0 to 27. Lower is better." in desc
        assert "Bands: minimal 0–4, mild 5–9, moderate 10–14" in desc

    def test_it_draws_one_circle_with_a_tooltip_per_value(self):
        root = parse(phq9_chart())

        assert len(find_all(root, "circle")) == 5  # six points, one missing
        assert tooltips(root)[:2] == ["3 Mar: 16 (moderately severe)", "10 Mar: 14 (moderate)"]

    def test_it_names_the_band_of_values_on_integer_band_edges(self):
        points = [Point(date(2025, 3, d), y) for d, y in [(1, 4), (2, 5), (3, 9), (4, 10)]]

        root = parse(phq9_chart(points))

        assert tooltips(root) == [
            "1 Mar: 4 (minimal)",
            "2 Mar: 5 (mild)",
            "3 Mar: 9 (mild)",
            "4 Mar: 10 (moderate)",
        ]

    def test_it_positions_band_strips_by_value(self):
        rects = band_rects(parse(phq9_chart()))
        top_of = [float(rect.get("y")) for rect in rects]
        bottom_of = [float(r.get("y")) + float(r.get("height")) for r in rects]
        # The lowest strip starts at 0 and the highest ends at 27: that fixes the scale.
        y_of_0, y_of_27 = bottom_of[0], top_of[-1]

        def y_of(value):
            return y_of_0 - value / 27 * (y_of_0 - y_of_27)

        # Inclusive bands 0-4 and 5-9 meet halfway, at 4.5; 10-14 and 15-19 at 14.5.
        assert len(rects) == 5
        assert top_of[0] == pytest.approx(y_of(4.5), abs=0.1)
        assert bottom_of[1] == pytest.approx(y_of(4.5), abs=0.1)
        assert top_of[2] == pytest.approx(y_of(14.5), abs=0.1)
        assert bottom_of[3] == pytest.approx(y_of(14.5), abs=0.1)
        assert y_of_0 > y_of_27  # SVG y grows downwards

    def test_it_places_points_on_the_same_scale_as_the_bands(self):
        root = parse(phq9_chart([Point(date(2025, 3, 1), 0), Point(date(2025, 3, 8), 27)]))
        rects = band_rects(root)
        circles = find_all(root, "circle")

        lowest_bottom = float(rects[0].get("y")) + float(rects[0].get("height"))
        assert float(circles[0].get("cy")) == pytest.approx(lowest_bottom, abs=0.1)
        assert float(circles[1].get("cy")) == pytest.approx(float(rects[-1].get("y")), abs=0.1)

    def test_it_labels_bands_at_the_right(self):
        root = parse(phq9_chart())
        labels = {text.text: text for text in find_all(root, "text")}

        for band in PHQ9_BANDS:
            assert labels[band.label].get("text-anchor") == "end"
            assert float(labels[band.label].get("x")) > 600

    def test_it_grades_band_fills_from_better_to_worse(self):
        lower_better = [r.get("fill") for r in band_rects(parse(phq9_chart()))]
        higher_better = [
            r.get("fill") for r in band_rects(parse(phq9_chart(lower_is_better=False)))
        ]

        assert len(set(lower_better)) == 5
        assert higher_better == lower_better[::-1]

    def test_it_puts_y_ticks_at_round_values(self):
        mood = line_chart(
            [Series("Mood", [Point(date(2025, 3, 1), 6)])], title="Mood", y_min=0, y_max=10
        )
        alliance = line_chart(
            [Series("WAI-SR", [Point(1, 3.6667)])], title="Alliance", y_min=1, y_max=5
        )

        assert y_axis_labels(parse(phq9_chart())) == ["0", "5", "10", "15", "20", "25"]
        assert y_axis_labels(parse(mood)) == ["0", "2", "4", "6", "8", "10"]
        assert y_axis_labels(parse(alliance)) == ["1", "2", "3", "4", "5"]
        assert tooltips(parse(alliance)) == ["1: 3.67"]

    def test_it_labels_dates_like_3_mar(self):
        assert x_axis_labels(parse(phq9_chart())) == [
            "3 Mar",
            "10 Mar",
            "24 Mar",
            "31 Mar",
            "7 Apr",
        ]

    def test_it_adds_the_year_when_the_data_spans_two(self):
        points = [Point(date(2024, 12, 30), 12), Point(date(2025, 1, 6), 10)]

        assert x_axis_labels(parse(phq9_chart(points))) == ["30 Dec 2024", "6 Jan 2025"]

    def test_it_shows_fewer_date_labels_when_crowded(self):
        start = date(2025, 1, 1)
        points = [Point(start + timedelta(days=i), i % 11) for i in range(90)]

        root = parse(line_chart([Series("Mood", points)], title="Mood", y_min=0, y_max=10))
        labels = x_axis_labels(root)

        assert 4 <= len(labels) < 15
        assert labels[0] == "1 Jan"
        assert labels[-1] == "31 Mar"  # the latest value is always labelled
        axis = next(g for g in find_all(root, "g") if g.get("class") == "chart-x-axis")
        xs = [float(text.get("x")) for text in axis.iter(f"{SVG}text")]
        assert all(b - a >= 40 for a, b in zip(xs, xs[1:], strict=False))

    def test_it_breaks_the_line_at_a_gap(self):
        points = [
            Point(1, 3),
            Point(2, 4),
            Point(3, None),
            Point(4, 5),
            Point(5, 6),
            Point(6, None),
            Point(7, 2),  # alone between gaps: a dot, no line
        ]

        root = parse(line_chart([Series("Mood", points)], title="Mood", y_min=0, y_max=10))

        lines = polylines_of_series(root)
        assert len(lines) == 2
        assert [len(line.get("points").split()) for line in lines] == [2, 2]
        assert len(find_all(root, "circle")) == 5

    def test_it_sorts_points_by_time_before_joining_them(self):
        points = [Point(date(2025, 3, 10), 8), Point(date(2025, 3, 3), 12)]

        root = parse(phq9_chart(points))

        assert tooltips(root) == ["3 Mar: 12 (moderate)", "10 Mar: 8 (mild)"]

    def test_it_escapes_caller_text(self):
        markup = line_chart(
            [Series("<script>alert(1)</script>", [Point(1, 2, label='"quoted" & <b>')])],
            title="Scores & <i>more</i>",
            y_min=0,
            y_max=10,
            bands=[Band(0, 5, "<img src=x onerror=alert(1)>")],
            y_label="<y>",
            x_label="Week <x>",
        )

        assert "<script" not in markup
        assert "<img" not in markup
        assert "<b>" not in markup
        root = parse(markup)  # still well-formed
        assert root.find(f"{SVG}title").text == "Scores & <i>more</i>"
        assert "<script>alert(1)</script>: one value, 2" in desc_of(root)
        assert tooltips(root) == ['Week <x> 1: 2 (<img src=x onerror=alert(1)>), "quoted" & <b>']
        assert not find_all(root, "script")

    def test_it_uses_no_style_attribute_or_element(self):
        markup = line_chart(
            [Series(f"Series {i}", phq9_points()) for i in range(4)],
            title="All features",
            y_min=0,
            y_max=27,
            bands=PHQ9_BANDS,
            y_label="Score",
            lower_is_better=True,
        )

        root = parse(markup)
        assert all("style" not in element.attrib for element in root.iter())
        assert not find_all(root, "style")
        assert not find_all(root, "script")
        assert "style=" not in markup
        assert not any(name.startswith("on") for el in root.iter() for name in el.attrib)

    def test_it_tells_series_apart_by_dash_as_well_as_colour(self):
        series = [
            Series(f"Series {i}", [Point(1, i), Point(2, i + 1)]) for i in range(charts.MAX_SERIES)
        ]

        root = parse(line_chart(series, title="Four", y_min=0, y_max=10))

        lines = polylines_of_series(root)
        assert len({line.get("stroke") for line in lines}) == 4
        assert len({line.get("stroke-dasharray", "solid") for line in lines}) == 4

    def test_it_shows_a_legend_only_for_several_series(self):
        one = parse(phq9_chart([Point(1, 5), Point(2, 6)]))
        two = parse(
            line_chart(
                [Series("PHQ-9", [Point(1, 5)]), Series("GAD-7", [Point(1, 7)])],
                title="Two",
                y_min=0,
                y_max=27,
            )
        )

        assert not [g for g in find_all(one, "g") if g.get("class") == "chart-legend"]
        legend = next(g for g in find_all(two, "g") if g.get("class") == "chart-legend")
        assert [text.text for text in legend.iter(f"{SVG}text")] == ["PHQ-9", "GAD-7"]
        assert tooltips(two) == ["PHQ-9, 1: 5", "GAD-7, 1: 7"]

    def test_it_refuses_more_than_four_series(self):
        series = [Series(str(i), [Point(1, 1)]) for i in range(5)]

        with pytest.raises(ValueError):
            line_chart(series, title="Too many", y_min=0, y_max=10)

    def test_it_refuses_dates_and_numbers_on_one_chart(self):
        with pytest.raises(TypeError):
            phq9_chart([Point(date(2025, 3, 3), 5), Point(2, 6)])

    def test_it_draws_markers_and_names_them_in_desc_tooltip_and_legend(self):
        points = [
            Point(date(2025, 3, 3), 18, marker="risk"),
            Point(date(2025, 3, 10), 12),
            Point(date(2025, 4, 7), 6, marker="reliable_improvement"),
        ]

        root = parse(phq9_chart(points))

        assert "Marked: risk flagged on 3 Mar; reliable improvement on 7 Apr." in desc_of(root)
        assert tooltips(root)[2] == "7 Apr: 6 (mild), reliable improvement"
        series_group = next(g for g in find_all(root, "g") if g.get("class") == "chart-series")
        shapes = [el for el in series_group.iter() if el.get("class") == "chart-marker"]
        assert len(shapes) == 2
        assert len({shape.get("points") for shape in shapes}) == 2
        legend = next(g for g in find_all(root, "g") if g.get("class") == "chart-legend")
        assert [t.text for t in legend.iter(f"{SVG}text")] == [
            "risk flagged",
            "reliable improvement",
        ]

    def test_it_shows_no_data_yet_when_empty(self):
        for series in ([], [Series("PHQ-9", [Point(date(2025, 3, 3), None)])]):
            root = parse(line_chart(series, title="PHQ-9", y_min=0, y_max=27, bands=PHQ9_BANDS))

            assert desc_of(root) == "No data yet."
            assert "No data yet" in [text.text for text in find_all(root, "text")]
            assert not find_all(root, "circle")
            assert not polylines_of_series(root)

    def test_it_shows_aware_times_in_the_given_time_zone(self):
        # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time, UTC+1).
        late_evening = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)
        points = [Point(late_evening, 7)]

        def labels(**kwargs):
            chart = line_chart([Series("Mood", points)], title="Mood", y_min=0, y_max=10, **kwargs)
            root = parse(chart)
            return x_axis_labels(root), tooltips(root)

        assert labels(time_zone=ZoneInfo("Europe/London")) == (["1 Jul"], ["1 Jul: 7"])
        assert labels(time_zone="UTC") == (["30 Jun"], ["30 Jun: 7"])
        with timezone.override("America/New_York"):
            assert labels() == (["30 Jun"], ["30 Jun: 7"])
        with timezone.override("Europe/London"):
            assert labels() == (["1 Jul"], ["1 Jul: 7"])

    def test_it_uses_the_x_label_for_numbered_points(self):
        points = [Point(week, y) for week, y in [(1, 40), (2, 55), (3, 70)]]

        root = parse(
            line_chart(
                [Series("Modules opened", points)],
                title="Engagement",
                y_min=0,
                y_max=100,
                x_label="Week",
            )
        )

        assert x_axis_labels(root) == ["1", "2", "3", "Week"]
        assert tooltips(root)[0] == "Week 1: 40"
        assert "3 values from Week 1 to Week 3" in desc_of(root)


class TestPalette:
    def test_it_keeps_band_labels_readable_on_every_fill(self):
        for fill in charts.GRADED_FILLS + charts.NEUTRAL_FILLS:
            assert contrast(charts.INK, fill) >= 4.5

    def test_it_keeps_lines_and_markers_visible_on_every_fill(self):
        colours = list(charts.SERIES_COLOURS) + [m.colour for m in charts.MARKERS.values()]
        for colour in colours:
            for background in ("#ffffff", *charts.GRADED_FILLS, *charts.NEUTRAL_FILLS):
                assert contrast(colour, background) >= 3, (colour, background)

    def test_it_keeps_tick_labels_readable(self):
        assert contrast(charts.MUTED, "#ffffff") >= 4.5


class TestSparkline:
    def test_it_is_a_small_svg_named_with_its_latest_and_range(self):
        markup = sparkline([12, 9, None, 7, 8], label="PHQ-9", y_min=0, y_max=27)

        root = parse(markup)
        assert isinstance(markup, SafeString)
        assert root.get("role") == "img"
        assert root.get("aria-label") == "PHQ-9: latest 8, lowest 7, highest 12"
        assert (root.get("width"), root.get("height")) == ("120", "28")

    def test_it_breaks_the_line_at_a_gap(self):
        root = parse(sparkline([12, 9, None, 7, 8], label="PHQ-9", y_min=0, y_max=27))

        assert len(find_all(root, "polyline")) == 2
        assert len(find_all(root, "circle")) == 1  # the latest value

    def test_it_says_no_data_yet_when_empty(self):
        root = parse(sparkline([None, None], label="Mood", y_min=0, y_max=10))

        assert root.get("aria-label") == "Mood: no data yet"
        assert not find_all(root, "polyline")

    def test_it_escapes_the_label(self):
        markup = sparkline([1, 2], label='<script>"x"</script>', y_min=0, y_max=10)

        assert "<script" not in markup
        assert parse(markup).get("aria-label").startswith('<script>"x"</script>: latest 2')


class TestDataTable:
    def test_it_has_a_caption_column_headers_and_a_row_header_per_point(self):
        markup = data_table(
            [Series("PHQ-9", phq9_points())],
            caption="PHQ-9 scores",
            value_label="Score",
            bands=PHQ9_BANDS,
            band_heading="Severity",
        )

        table = parse(markup)
        assert isinstance(markup, SafeString)
        assert table.find("caption").text == "PHQ-9 scores"
        headers = table.findall("thead/tr/th")
        assert [th.text for th in headers] == ["Date", "Score", "Severity", "Notes"]
        assert {th.get("scope") for th in headers} == {"col"}
        rows = table.findall("tbody/tr")
        assert len(rows) == 6
        assert all(row.find("th").get("scope") == "row" for row in rows)
        assert [cell.text for cell in rows[0]] == ["3 Mar 2025", "16", "moderately severe", None]
        assert [cell.text for cell in rows[2]] == ["17 Mar 2025", "Missing", None, None]
        assert rows[5][3].text == "reliable improvement"

    def test_it_adds_a_measure_column_for_several_series_in_date_order(self):
        table = parse(
            data_table(
                [
                    Series("PHQ-9", [Point(date(2025, 3, 10), 9), Point(date(2025, 3, 3), 12)]),
                    Series("GAD-7", [Point(date(2025, 3, 3), 8)]),
                ],
                caption="Scores",
                value_label="Score",
            )
        )

        assert [th.text for th in table.findall("thead/tr/th")] == ["Date", "Measure", "Score"]
        assert [[cell.text for cell in row] for row in table.findall("tbody/tr")] == [
            ["3 Mar 2025", "PHQ-9", "12"],
            ["3 Mar 2025", "GAD-7", "8"],
            ["10 Mar 2025", "PHQ-9", "9"],
        ]

    def test_it_shows_local_times_for_datetimes(self):
        table = parse(
            data_table(
                [Series("Mood", [Point(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), 7)])],
                caption="Mood",
                value_label="Mood (0-10)",
                time_zone="Europe/London",
            )
        )

        assert table.find("tbody/tr/th").text == "1 Jul 2025, 00:30"

    def test_it_numbers_points_under_the_x_heading(self):
        table = parse(
            data_table(
                [Series("Modules opened", [Point(1, 40), Point(2, 55.5)])],
                caption="Engagement",
                value_label="Percent",
                x_heading="Week",
            )
        )

        assert [th.text for th in table.findall("thead/tr/th")] == ["Week", "Percent"]
        assert [[c.text for c in row] for row in table.findall("tbody/tr")] == [
            ["1", "40"],
            ["2", "55.5"],
        ]

    def test_it_says_no_data_yet_when_empty(self):
        table = parse(data_table([], caption="PHQ-9", value_label="Score"))

        cell = table.find("tbody/tr/td")
        assert cell.text == "No data yet"
        assert cell.get("colspan") == "2"

    def test_it_escapes_caller_text(self):
        markup = data_table(
            [Series("<script>", [Point(1, 2, label="<b>")]), Series("&", [Point(1, 3)])],
            caption="<i>caption</i>",
            value_label="<u>",
        )

        assert "<script>" not in markup
        assert "<b>" not in markup
        table = parse(markup)
        assert table.find("caption").text == "<i>caption</i>"
        assert table.find("tbody/tr/td").text == "<script>"
