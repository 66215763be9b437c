"""The body map: its 44 parts, their outlines, and the map as pages draw it.

- ``parts``: the one source of truth for the parts (id, name, label, view, side, SNOMED CT).
- ``shapes``: the SVG outline of each part, by name, and the figure's silhouette.
- ``drawing``: the map with its pain levels, as the templates draw it.

Import from here (``from diary.bodymap import LABELS, map_views``); the modules are the layout.
"""

from __future__ import annotations

from diary.bodymap.drawing import (
    FIRST_REGION,
    MIN_HIT_UNITS,
    REGIONS,
    MapRegion,
    MapView,
    Region,
    map_views,
    regions_named,
)
from diary.bodymap.parts import (
    BACK,
    BODY_PARTS,
    FRONT,
    LABELS,
    LEFT,
    NAMES_BY_ID,
    NONE,
    PARTS,
    PARTS_BY_ID,
    PARTS_BY_NAME,
    RIGHT,
    SIDES,
    SNOMED_STRUCTURES,
    VIEW_LABELS,
    Part,
    label_of,
    part_choices,
)
from diary.bodymap.shapes import SHAPES, SILHOUETTE, VIEW_HEIGHT, VIEW_WIDTH

__all__ = [
    "BACK",
    "BODY_PARTS",
    "FIRST_REGION",
    "FRONT",
    "LABELS",
    "LEFT",
    "MIN_HIT_UNITS",
    "NAMES_BY_ID",
    "NONE",
    "PARTS",
    "PARTS_BY_ID",
    "PARTS_BY_NAME",
    "REGIONS",
    "RIGHT",
    "SHAPES",
    "SIDES",
    "SILHOUETTE",
    "SNOMED_STRUCTURES",
    "VIEW_HEIGHT",
    "VIEW_LABELS",
    "VIEW_WIDTH",
    "MapRegion",
    "MapView",
    "Part",
    "Region",
    "label_of",
    "map_views",
    "part_choices",
    "regions_named",
]
