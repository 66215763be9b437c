"""The body map for everyone: a colour scale that holds for colour-blind eyes, numbers as a cue that
is not colour, one Tab stop, and hit areas a finger can use.

The colours are read from the stylesheet itself, so the test checks what the browser draws.
Contrast follows WCAG 2.2 (relative luminance); colour vision deficiency is simulated with the
Machado, Oliveira and Fernandes (2009) matrices at severity 1.0, applied in linear RGB; distances
are CIE76 ΔE in CIELAB.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from diary import services
from diary.bodymap import MIN_HIT_UNITS, REGIONS, map_views
from diary.bodymap.drawing import _box
from diary.models import BodyPart

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "painmap.css").read_text()
LEVELS = range(11)

PROTAN = (
    (0.152286, 1.052583, -0.204868),
    (0.114503, 0.786281, 0.099216),
    (-0.003882, -0.048116, 1.051998),
)
DEUTAN = (
    (0.367322, 0.860646, -0.227968),
    (0.280085, 0.672501, 0.047413),
    (-0.011820, 0.042940, 0.968881),
)
SIMULATIONS = {"protanopia": PROTAN, "deuteranopia": DEUTAN}
# Adjacent levels must differ by at least this much (CIE76) under each simulation: about twice a
# just-noticeable difference, enough for two neighbouring swatches on a small map.
MIN_DELTA_E = 5.0
# ... and each level must be darker than the one below it (CIE L*): the order survives hue loss.
MIN_LIGHTNESS_STEP = 2.5


# The dark scheme's tokens: the first `:root` block inside the stylesheet's dark media query.
DARK_CSS = re.search(
    r"@media screen and \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\n  \}", CSS, re.S
)
SCHEMES = ["light", "dark"]


def css_colour(name: str, scheme: str = "light") -> str:
    """A token's #rrggbb value; in dark, the dark block's value where it sets one."""
    if scheme == "dark":
        assert DARK_CSS, "painmap.css has no dark :root block"
        match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})\b", DARK_CSS.group(1))
        if match:
            return match.group(1)
    match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})\b", CSS)
    assert match, f"--{name} is not a #rrggbb colour in painmap.css"
    return match.group(1)


def css_text_colour(level: int) -> str:
    match = re.search(rf"\.level-{level} \{{[^}}]*--pm-level-text:\s*(#[0-9a-fA-F]{{3,6}})", CSS)
    assert match, f".level-{level} sets no --pm-level-text"
    value = match.group(1)
    return value if len(value) == 7 else "#" + "".join(c * 2 for c in value[1:])


def linear_rgb(hex_colour: str) -> tuple[float, float, float]:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(linear_rgb(a)), luminance(linear_rgb(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def simulate(rgb: tuple[float, float, float], matrix) -> tuple[float, float, float]:
    r, g, b = (
        min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix
    )
    return r, g, b


def lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(a, b) -> float:
    return math.dist(lab(a), lab(b))


# --- the colour scale ---------------------------------------------------------------------------


def test_the_colour_maths_agrees_with_known_values():
    # Guards the helpers themselves: black on white is 21:1, and the simulations leave grey grey.
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    grey = linear_rgb("#808080")
    for matrix in SIMULATIONS.values():
        assert simulate(grey, matrix) == pytest.approx(grey, abs=0.002)
    # Pure red and green, far apart for most eyes, come out close for a deuteranope.
    red, green = linear_rgb("#ff0000"), linear_rgb("#00ff00")
    assert delta_e(simulate(red, DEUTAN), simulate(green, DEUTAN)) < delta_e(red, green) / 2


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("level", LEVELS)
def test_every_level_stands_out_from_an_unrecorded_region(level, scheme):
    # WCAG 1.4.11: a recorded region, 0 included, is a graphical object to be told apart, in the
    # dark scheme as in the light one.
    region = css_colour("pm-region", scheme)
    assert contrast(css_colour(f"pm-level-{level}", scheme), region) >= 3.0


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_unrecorded_region_is_outlined_against_its_neighbours_and_the_page(scheme):
    # An unrecorded region is a control too: its outline is 3:1 against the region's fill and
    # the page around the figure, in both schemes.
    stroke = css_colour("pm-region-stroke", scheme)
    for background in ("pm-region", "pm-surface", "pm-surface-raised"):
        assert contrast(stroke, css_colour(background, scheme)) >= 3.0, background


def test_the_dark_scheme_redefines_the_page_not_the_scale():
    # Dark mode changes the surfaces; the scale (and so what a colour means) stays the same.
    assert css_colour("pm-surface", "dark") != css_colour("pm-surface")
    for level in LEVELS:
        assert css_colour(f"pm-level-{level}", "dark") == css_colour(f"pm-level-{level}")


# --- the rest of the palette: every pair the pages draw, in both schemes ---------------------

SURFACES = ("pm-surface", "pm-surface-raised", "pm-surface-sunken")
# (foreground, background, minimum): text 4.5:1, boundaries and the focus ring 3:1.
PAIRS = [
    *[
        (text, surface, 4.5)
        for text in ("pm-text", "pm-muted", "pm-primary")
        for surface in SURFACES
    ],
    *[
        (text, surface, 4.5)
        for text in ("pm-danger", "pm-success", "pm-accent")
        for surface in ("pm-surface", "pm-surface-raised")
    ],
    ("pm-on-primary", "pm-primary", 4.5),
    ("pm-on-primary", "pm-primary-hover", 4.5),
    ("pm-on-danger", "pm-danger", 4.5),
    ("pm-on-danger", "pm-danger-hover", 4.5),
    ("pm-on-success", "pm-success", 4.5),
    ("pm-on-success", "pm-success-hover", 4.5),
    ("pm-surface-raised", "pm-neutral-badge", 4.5),  # the role badge, the outline button's hover
    ("pm-text", "pm-primary-subtle", 4.5),  # my chat bubbles
    ("pm-muted", "pm-primary-subtle", 4.5),
    ("pm-danger", "pm-danger-subtle", 4.5),  # a delete confirmation's text
    ("pm-text", "pm-danger-subtle", 4.5),
    ("pm-warning-text", "pm-warning-subtle", 4.5),
    ("pm-success", "pm-success-subtle", 4.5),  # the "Saved" alert
    ("pm-text", "pm-surface-hover", 4.5),
    *[("pm-border-strong", surface, 3.0) for surface in ("pm-surface", "pm-surface-raised")],
    *[("pm-focus", surface, 3.0) for surface in SURFACES],
    *[(line, "pm-surface-raised", 3.0) for line in ("pm-chart-max", "pm-chart-mean")],
]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS)
def test_the_palette_keeps_its_contrast(foreground, background, minimum, scheme):
    ratio = contrast(css_colour(foreground, scheme), css_colour(background, scheme))
    assert ratio >= minimum, f"{foreground} on {background} ({scheme}): {ratio:.2f}:1"


@pytest.mark.parametrize("level", LEVELS)
def test_the_number_on_each_level_is_readable(level):
    # The number drawn on a region (and in the legend and badges) is small text: 4.5:1.
    assert contrast(css_colour(f"pm-level-{level}"), css_text_colour(level)) >= 4.5


@pytest.mark.parametrize("level", LEVELS[1:])
@pytest.mark.parametrize("vision", ["normal", *SIMULATIONS])
def test_adjacent_levels_stay_apart(level, vision):
    lower = linear_rgb(css_colour(f"pm-level-{level - 1}"))
    higher = linear_rgb(css_colour(f"pm-level-{level}"))
    if vision != "normal":
        lower, higher = simulate(lower, SIMULATIONS[vision]), simulate(higher, SIMULATIONS[vision])
    assert delta_e(lower, higher) >= MIN_DELTA_E
    assert lab(lower)[0] - lab(higher)[0] >= MIN_LIGHTNESS_STEP


# --- the markup ---------------------------------------------------------------------------------


@pytest.fixture
def diary_html(client, patient):
    for name, intensity in [("knee-left", 6), ("face", 0), ("column", 10)]:
        services.record_pain(
            owner=patient,
            body_part=BodyPart.objects.get(name=name),
            pain_type="stabbing",
            intensity=intensity,
            date_recorded=timezone.now(),
        )
    client.force_login(patient)
    return client.get(reverse("diary:diary")).content.decode()


def test_the_map_is_one_tab_stop(diary_html):
    tab_stops = re.findall(
        r'<path id="region-[a-z-]+" class="[^"]*" data-body-part="[^"]*" data-label="[^"]*" '
        r'd="[^"]*" tabindex="0"',
        diary_html,
    )
    assert len(tab_stops) == 1
    assert len(re.findall(r'class="body-region[^"]*"[^>]*tabindex="-1"', diary_html)) == 43
    assert 'id="body-map-focus"' in diary_html


def test_recorded_regions_carry_their_number(diary_html):
    numbers = re.findall(
        r'<text id="level-[a-z-]+" class="body-region-level level-(\d+)"[^>]*aria-hidden="true">'
        r"(\d+)</text>",
        diary_html,
    )
    assert sorted(numbers) == [("0", "0"), ("10", "10"), ("6", "6")]
    # Only recorded regions are numbered; the others' number is empty, ready for a save's swap.
    assert diary_html.count('class="body-region-level level-') == 3
    assert diary_html.count('class="body-region-level"') == 41


def test_numbers_sit_at_the_centre_of_their_region():
    views = {view.name: view for view in map_views({})}
    knee = next(r for r in views["front"].regions if r.name == "knee-left")
    x0, y0, x1, y1 = _box(knee.d)
    assert (knee.cx, knee.cy) == (
        pytest.approx((x0 + x1) / 2, abs=0.1),
        pytest.approx((y0 + y1) / 2, abs=0.1),
    )


def test_small_regions_get_a_hit_area_of_the_minimum_size():
    regions = {r.name: r for view in map_views({}) for r in view.regions}
    for shape in REGIONS:
        x0, y0, x1, y1 = _box(shape.d)
        region = regions[shape.name]
        assert min(x1 - x0, y1 - y0) + region.hit_width >= MIN_HIT_UNITS - 0.1, shape.name
    # The spine strip is 12 units wide; a wide region like the lower back needs nothing.
    assert regions["column"].hit_width == pytest.approx(MIN_HIT_UNITS - 12, abs=0.5)
    assert regions["loin"].hit_width == 0


def test_the_hit_areas_are_drawn_and_forward_to_their_region(diary_html):
    hits = re.findall(
        r'<path class="body-region-hit" data-hit-for="([a-z-]+)"[^>]*'
        r'stroke-width="([\d.]+)" aria-hidden="true"/>',
        diary_html,
    )
    names = {name for name, _width in hits}
    assert "column" in names
    assert "elbow-left" in names
    assert all(float(width) > 0 for _name, width in hits)
    assert f'id="region-{next(iter(names))}"' in diary_html
