"""Charts drawn on the server as SVG: no chart library, nothing for a strict CSP to block.

Colours are SVG presentation attributes (fill="...", stroke="..."), not style="" attributes:
the CSP forbids inline styles, and attributes also survive printing without the stylesheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil

from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from diary.digest import DayDigest
from diary.models import INTENSITY_MAX, INTENSITY_MIN

WIDTH = 720
HEIGHT = 260
# The phone's chart: drawn for a 360 px screen, so it scales to the width with readable text
# and shows the whole period (a wide chart in a scroll box hid the recent days off-screen).
COMPACT_WIDTH = 360
# Wide enough right margin that the last date label, centred on the last day, is not cut off.
LEFT, RIGHT, TOP, BOTTOM = 34, 26, 30, 30
# A date label such as "28 Sep" needs about this many pixels before the next one may start.
LABEL_SPACING = 56
MAX_COLOUR = "#b91c1c"
MEAN_COLOUR = "#2563eb"


@dataclass(frozen=True)
class Series:
    key: str  # "max" or "mean": the CSS class suffix and the DayDigest attribute
    label: str | Promise
    colour: str
    dashed: bool = False
    short: str | Promise = ""  # the legend's label on a narrow chart


SERIES = (
    Series("max", gettext_lazy("Highest of the day"), MAX_COLOUR, short=gettext_lazy("Highest")),
    Series(
        "mean",
        gettext_lazy("Mean of the day"),
        MEAN_COLOUR,
        dashed=True,
        short=gettext_lazy("Mean"),
    ),
)

DEFAULT_TITLE = gettext_lazy("Pain per day: highest and mean")


def day_label(day: DayDigest) -> str:
    # Translators: a date format (Django's date filter) for a chart's axis, e.g. "28 Sep".
    return date_format(day.date, pgettext("date format", "j M"))


def _day_with_year(day: DayDigest) -> str:
    # Translators: a date format (Django's date filter), e.g. "28 Sep 2026".
    return date_format(day.date, pgettext("date format", "j M Y"))


def x_positions(count: int, width: int = WIDTH) -> list[float]:
    """The x of each day: evenly spread over the plot, a lone day in the middle."""
    plot = width - LEFT - RIGHT
    if count == 1:
        return [LEFT + plot / 2]
    return [LEFT + plot * index / (count - 1) for index in range(count)]


def y_position(value: float, height: int = HEIGHT) -> float:
    plot = height - TOP - BOTTOM
    return TOP + plot * (1 - (value - INTENSITY_MIN) / (INTENSITY_MAX - INTENSITY_MIN))


def label_step(count: int, width: int = WIDTH) -> int:
    """Label every n-th day so labels never overlap: 1 for a week, more for 30 or 90 days."""
    room = max(1, (width - LEFT - RIGHT) // LABEL_SPACING)
    return max(1, ceil(count / room))


def segments(values: Sequence[float | None]) -> list[list[int]]:
    """Runs of consecutive days with a value: a day without entries breaks the line, since
    joining across it would draw readings that were never made."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _text(x: float, y: float, text: str, css: str, anchor: str = "middle") -> str:
    return format_html(
        '<text x="{}" y="{}" class="{}" text-anchor="{}">{}</text>',
        f"{x:.1f}",
        f"{y:.1f}",
        css,
        anchor,
        text,
    )


def _description(timeline: Sequence[DayDigest]) -> str:
    with_entries = [day for day in timeline if day.count]
    if not timeline:
        return _("No days to show.")
    span = {"start": _day_with_year(timeline[0]), "end": _day_with_year(timeline[-1])}
    if not with_entries:
        return _("Daily pain from %(start)s to %(end)s: no entries in this period.") % span
    worst = max(with_entries, key=lambda day: (day.max or 0, day.mean or 0))
    return ngettext(
        "Daily pain from %(start)s to %(end)s, on a scale of 0 to 10: entries on %(with)s of "
        "%(count)s day; the highest was %(max)s on %(day)s. The same numbers are in the table "
        "below.",
        "Daily pain from %(start)s to %(end)s, on a scale of 0 to 10: entries on %(with)s of "
        "%(count)s days; the highest was %(max)s on %(day)s. The same numbers are in the table "
        "below.",
        len(timeline),
    ) % {
        **span,
        "with": len(with_entries),
        "count": len(timeline),
        "max": worst.max,
        "day": day_label(worst),
    }


def timeline_chart(
    timeline: Sequence[DayDigest],
    *,
    chart_id: str = "timeline-chart",
    title: str | Promise = DEFAULT_TITLE,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> SafeString:
    """A line chart of each day's highest and mean intensity, as an accessible SVG."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts: list[str] = [
        format_html(
            '<svg id="{}" class="timeline-chart" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{} {}" xmlns="http://www.w3.org/2000/svg">',
            chart_id,
            width,
            height,
            title_id,
            desc_id,
        ),
        format_html('<title id="{}">{}</title>', title_id, title),
        format_html('<desc id="{}">{}</desc>', desc_id, _description(timeline)),
    ]

    # Gridlines and the 0-10 axis.
    parts.append('<g class="chart-grid" aria-hidden="true">')
    for value in range(INTENSITY_MIN, INTENSITY_MAX + 1, 2):
        y = y_position(value, height)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>',
                LEFT,
                width - RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                "#94a3b8" if value == INTENSITY_MIN else "#e2e8f0",
            )
        )
        parts.append(_text(LEFT - 6, y + 4, str(value), "chart-axis-label", "end"))
    parts.append("</g>")

    xs = x_positions(len(timeline), width) if timeline else []
    step = label_step(len(timeline), width)
    parts.append('<g class="chart-dates" aria-hidden="true">')
    # Count labels back from the last day, so "today" (the end of the period) is always named.
    last = len(timeline) - 1
    for index, day in enumerate(timeline):
        if (last - index) % step == 0:
            parts.append(_text(xs[index], height - BOTTOM + 18, day_label(day), "chart-date-label"))
    parts.append("</g>")

    if not any(day.count for day in timeline):
        parts.append(
            _text(width / 2, TOP + (height - TOP - BOTTOM) / 2, _("No entries"), "chart-empty")
        )
    else:
        for series in SERIES:
            parts.append(_series(series, timeline, xs, lambda v: y_position(v, height)))

    parts.append(_legend(width))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every piece above went through format_html


def _series(
    series: Series,
    timeline: Sequence[DayDigest],
    xs: list[float],
    y_of: Callable[[float], float],
) -> str:
    values: list[float | None] = [getattr(day, series.key) for day in timeline]
    dash = ' stroke-dasharray="6 4"' if series.dashed else ""
    out = [format_html('<g class="chart-series chart-series-{}" aria-hidden="true">', series.key)]
    for run in segments(values):
        points = " ".join(f"{xs[i]:.1f},{y_of(values[i] or 0):.1f}" for i in run)
        if len(run) > 1:
            out.append(
                format_html(
                    '<polyline class="chart-line chart-line-{}" points="{}" fill="none" '
                    'stroke="{}" stroke-width="2.5" stroke-linejoin="round"{}/>',
                    series.key,
                    points,
                    series.colour,
                    mark_safe(dash),  # a constant
                )
            )
        # Dots show single days too, which a one-point polyline would not.
        for i in run:
            out.append(
                format_html(
                    '<circle class="chart-point chart-point-{}" cx="{}" cy="{}" r="3" fill="{}"/>',
                    series.key,
                    f"{xs[i]:.1f}",
                    f"{y_of(values[i] or 0):.1f}",
                    series.colour,
                )
            )
    out.append("</g>")
    return "".join(out)


def _legend(width: int) -> str:
    out = ['<g class="chart-legend" aria-hidden="true">']
    x = LEFT
    narrow = width < WIDTH
    for series in SERIES:
        label = str(series.short if narrow and series.short else series.label)
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        out.append(
            f'<line x1="{x}" x2="{x + 24}" y1="12" y2="12" stroke="{series.colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        out.append(_text(x + 30, 16, label, "chart-legend-label", "start"))
        x += 30 + 8 * len(label) + 24
    out.append("</g>")
    return "".join(out)
