"""The body map as the templates draw it: the 44 regions per view, each with its pain level."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from diary.bodymap.parts import LABELS, NAMES_BY_ID, PARTS, VIEW_LABELS
from diary.bodymap.shapes import SHAPES, SILHOUETTE, VIEW_HEIGHT, VIEW_WIDTH


class Region(NamedTuple):
    name: str  # the body part's name
    view: str  # "front" or "back"
    d: str  # SVG path data, in the view's own coordinate system


# Every part with its outline, in the parts' order (the order the map draws them in).
REGIONS: tuple[Region, ...] = tuple(
    Region(part.name, part.view, SHAPES[part.name]) for part in PARTS
)

# A finger needs 24x24 CSS px (WCAG 2.5.8). On a phone each view is drawn 290 px wide for 200 map
# units (painmap.css), 1.45 px a unit. Regions are rounded, so their box overstates what a finger
# can hit: a region under 26 units in either direction gets a transparent rim that widens
# it to 26 units (38 px).
MIN_HIT_UNITS = 26.0
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _box(d: str) -> tuple[float, float, float, float]:
    """The bounding box (x0, y0, x1, y1) of a closed polygon in absolute coordinates."""
    numbers = [float(n) for n in _NUMBER.findall(d)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class MapRegion:
    name: str
    label: str
    d: str
    level: int | None  # highest recent intensity, None when nothing was recorded
    cx: float = 0.0  # where its number is drawn: the centre of its bounding box
    cy: float = 0.0
    hit_width: float = (
        0.0  # the transparent stroke that widens a small region's hit area, 0 if none
    )

    @property
    def tabindex(self) -> int:
        """Roving tabindex: only the map's first region is a Tab stop; arrows move between them."""
        return 0 if self.name == FIRST_REGION else -1


@dataclass(frozen=True)
class MapView:
    name: str
    label: str
    silhouette: str
    regions: list[MapRegion]
    width: int = VIEW_WIDTH
    height: int = VIEW_HEIGHT

    @property
    def hit_areas(self) -> list[MapRegion]:
        """The regions with a widened hit area, the widest rim first: drawn in this order, a small
        region's narrower rim lies on top of a very thin neighbour's (the spine's over the nape), so
        each keeps the band next to its own shape."""
        return sorted((r for r in self.regions if r.hit_width), key=lambda r: -r.hit_width)


def _region(name: str, d: str, level: int | None) -> MapRegion:
    x0, y0, x1, y1 = _box(d)
    short = min(x1 - x0, y1 - y0)
    return MapRegion(
        name=name,
        label=LABELS[name],
        d=d,
        level=level,
        cx=round((x0 + x1) / 2, 1),
        cy=round((y0 + y1) / 2, 1),
        hit_width=round(MIN_HIT_UNITS - short, 1) if short < MIN_HIT_UNITS else 0.0,
    )


FIRST_REGION = next(region.name for region in REGIONS if region.view == next(iter(VIEW_LABELS)))


def map_views(levels_by_part_id: dict[int, int]) -> list[MapView]:
    """Both views of the map, each region carrying the level it is coloured by."""
    levels = {
        NAMES_BY_ID[pk]: level for pk, level in levels_by_part_id.items() if pk in NAMES_BY_ID
    }
    return [
        MapView(
            name=view,
            label=label,
            silhouette=SILHOUETTE[view],
            regions=[
                _region(region.name, region.d, levels.get(region.name))
                for region in REGIONS
                if region.view == view
            ],
        )
        for view, label in VIEW_LABELS.items()
    ]


def regions_named(
    names: set[str] | list[str], levels_by_part_id: dict[int, int]
) -> list[MapRegion]:
    """Just these regions, drawn as on the map: what a save swaps out of band instead of the map."""
    levels = {
        NAMES_BY_ID[pk]: level for pk, level in levels_by_part_id.items() if pk in NAMES_BY_ID
    }
    wanted = set(names)
    return [
        _region(region.name, region.d, levels.get(region.name))
        for region in REGIONS
        if region.name in wanted
    ]
