"""The server-drawn timeline chart: geometry, gaps, labels and what screen readers get."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from itertools import pairwise

from diary import charts
from diary.digest import DayDigest

SVG = "{http://www.w3.org/2000/svg}"


def days(values: list[tuple[int, float] | None], start: date = date(2026, 1, 1)) -> list[DayDigest]:
    out = []
    for offset, value in enumerate(values):
        day = start + timedelta(days=offset)
        if value is None:
            out.append(DayDigest(date=day))
        else:
            out.append(DayDigest(date=day, count=1, max=value[0], mean=value[1]))
    return out


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polyline.get("points").split()]


def test_points_are_placed_on_the_scale():
    root = parse(charts.timeline_chart(days([(10, 5.0), (0, 0.0), (4, 2.5)])))
    (line,) = root.findall(f".//{SVG}polyline[@class='chart-line chart-line-max']")
    top, bottom = charts.TOP, charts.HEIGHT - charts.BOTTOM
    left, right = charts.LEFT, charts.WIDTH - charts.RIGHT
    assert points(line) == [
        (left, top),  # 10: the top of the plot
        ((left + right) / 2, bottom),  # 0: the bottom, in the middle day
        (right, round(bottom - (bottom - top) * 0.4, 1)),
    ]
    (mean,) = root.findall(f".//{SVG}polyline[@class='chart-line chart-line-mean']")
    assert points(mean)[0] == (left, (top + bottom) / 2)
    assert mean.get("stroke-dasharray")


def test_a_day_without_entries_breaks_the_line():
    root = parse(charts.timeline_chart(days([(3, 3), (4, 4), None, (6, 6), (7, 7), None, (9, 9)])))
    lines = root.findall(f".//{SVG}polyline[@class='chart-line chart-line-max']")
    assert [len(points(line)) for line in lines] == [2, 2]
    # The lone last day still shows, as a dot.
    dots = root.findall(f".//{SVG}circle[@class='chart-point chart-point-max']")
    assert len(dots) == 5
    assert charts.segments([1, None, None, 2, 3]) == [[0], [3, 4]]


def test_axis_has_gridlines_from_0_to_10():
    root = parse(charts.timeline_chart(days([(5, 5)] * 7)))
    grid = root.find(f".//{SVG}g[@class='chart-grid']")
    labels = [text.text for text in grid.findall(f"{SVG}text")]
    assert labels == ["0", "2", "4", "6", "8", "10"]
    assert len(grid.findall(f"{SVG}line")) == 6


def test_every_day_of_a_week_is_labelled():
    root = parse(charts.timeline_chart(days([(5, 5)] * 7)))
    labels = [t.text for t in root.findall(f".//{SVG}g[@class='chart-dates']/{SVG}text")]
    assert labels == ["1 Jan", "2 Jan", "3 Jan", "4 Jan", "5 Jan", "6 Jan", "7 Jan"]


def test_labels_of_90_days_are_thinned_and_do_not_overlap():
    root = parse(charts.timeline_chart(days([(5, 5)] * 90)))
    texts = root.findall(f".//{SVG}g[@class='chart-dates']/{SVG}text")
    xs = [float(text.get("x")) for text in texts]
    assert 5 <= len(xs) <= 13
    assert min(b - a for a, b in pairwise(xs)) >= charts.LABEL_SPACING
    assert texts[-1].text == "31 Mar"  # the last day is always named


def test_accessible_title_and_description():
    root = parse(charts.timeline_chart(days([(2, 2), None, (8, 6)]), chart_id="c1"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").get("id") == "c1-title"
    desc = root.find(f"{SVG}desc")
    assert desc.get("id") == "c1-desc"
    assert "entries on 2 of 3 days" in desc.text
    assert "highest was 8 on 3 Jan" in desc.text
    # Two series, named in a legend.
    legend = [t.text for t in root.findall(f".//{SVG}g[@class='chart-legend']/{SVG}text")]
    assert legend == ["Highest of the day", "Mean of the day"]


def test_empty_timeline_says_so():
    root = parse(charts.timeline_chart(days([None] * 30)))
    assert root.findall(f".//{SVG}polyline") == []
    assert root.find(f".//{SVG}text[@class='chart-empty']").text == "No entries"
    assert "no entries in this period" in root.find(f"{SVG}desc").text
    assert "No days" in charts.timeline_chart([])


def test_no_inline_styles_and_text_is_escaped():
    svg = charts.timeline_chart(days([(5, 5)]), title="<script>")
    assert "style=" not in svg
    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == "<script>"


def test_the_phones_chart_fits_360_px_with_the_whole_period():
    """Issue #11, bug 3: drawn for a phone, the chart scales to the screen (a viewBox, no
    fixed size) and everything, the last day and the legend included, lies inside it."""
    width = charts.COMPACT_WIDTH
    root = parse(charts.timeline_chart(days([(5, 5)] * 30), chart_id="c", width=width))
    assert width <= 360
    assert root.get("viewBox") == f"0 0 {width} {charts.HEIGHT}"
    assert root.get("width") is None
    xs = [float(dot.get("cx")) for dot in root.iter(f"{SVG}circle")]
    assert max(xs) <= width - charts.RIGHT
    assert root.findall(f".//{SVG}text[@class='chart-date-label']")[-1].text == "30 Jan"
    legend = root.findall(f".//{SVG}g[@class='chart-legend']/{SVG}text")
    assert [label.text for label in legend] == ["Highest", "Mean"]
    # About 8 px a letter at 12 px: the last legend label ends inside the drawing.
    last = legend[-1]
    assert float(last.get("x")) + 8 * len(last.text) <= width
    # The wide chart keeps its long labels.
    wide = parse(charts.timeline_chart(days([(5, 5)] * 30)))
    labels = wide.findall(f".//{SVG}g[@class='chart-legend']/{SVG}text")
    assert [label.text for label in labels] == ["Highest of the day", "Mean of the day"]
