"""The body map as the templates draw it: the 44 regions per view, each with its pain level."""

from __future__ import annotations

from dataclasses import dataclass

from diary.bodymap_shapes import REGIONS, SILHOUETTE, VIEW_HEIGHT, VIEW_WIDTH
from diary.bodyparts import BODY_PARTS

# The body parts never change at run time (a data migration loads them): keeping their names and
# labels here saves a query on every page and lets a part's name be checked without the database.
LABELS: dict[str, str] = {name: label for _id, name, label, _view in BODY_PARTS}
NAMES_BY_ID: dict[int, str] = {part_id: name for part_id, name, _label, _view in BODY_PARTS}
VIEW_LABELS: dict[str, str] = {"front": "Front", "back": "Back"}


@dataclass(frozen=True)
class MapRegion:
    name: str
    label: str
    d: str
    level: int | None  # highest recent intensity, None when nothing was recorded


@dataclass(frozen=True)
class MapView:
    name: str
    label: str
    silhouette: str
    regions: list[MapRegion]
    width: int = VIEW_WIDTH
    height: int = VIEW_HEIGHT


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
                MapRegion(
                    name=region.name,
                    label=LABELS[region.name],
                    d=region.d,
                    level=levels.get(region.name),
                )
                for region in REGIONS
                if region.view == view
            ],
        )
        for view, label in VIEW_LABELS.items()
    ]


def part_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Body parts for a <select>: grouped by view, sorted by label within a group."""
    return [
        (
            VIEW_LABELS[view],
            sorted(
                ((name, label) for _id, name, label, part_view in BODY_PARTS if part_view == view),
                key=lambda choice: choice[1],
            ),
        )
        for view in VIEW_LABELS
    ]
