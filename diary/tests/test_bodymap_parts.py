"""The body parts are said once (diary.bodymap.parts); every other copy is checked against them."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from diary.bodymap import (
    BODY_PARTS,
    LEFT,
    NONE,
    PARTS,
    REGIONS,
    RIGHT,
    SHAPES,
    SIDES,
    SNOMED_STRUCTURES,
    VIEW_LABELS,
)
from diary.models import BodyPart

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "bodyparts.json"


def test_ids_run_from_1_to_44_and_names_are_unique():
    assert [part.id for part in PARTS] == list(range(1, 45))
    assert len({part.name for part in PARTS}) == 44
    assert len({part.label for part in PARTS}) == 44


@pytest.mark.django_db
def test_the_database_holds_the_44_parts_after_migrate():
    rows = list(BodyPart.objects.values_list("id", "name", "label", "view"))
    assert rows == list(BODY_PARTS)
    assert BodyPart.objects.get(pk=25).name == "right-feet"
    assert BodyPart.objects.get(pk=36).name == "column"


def test_the_migrations_frozen_copy_matches():
    migration = importlib.import_module("diary.migrations.0002_bodyparts")
    assert tuple(migration.BODY_PARTS) == BODY_PARTS


def test_the_fixtures_frozen_copy_matches():
    fixture = json.loads(FIXTURE.read_text())
    assert [
        (row["pk"], row["fields"]["name"], row["fields"]["label"], row["fields"]["view"])
        for row in fixture
    ] == list(BODY_PARTS)


def test_every_part_has_one_outline_drawn_on_its_view():
    assert set(SHAPES) == {part.name for part in PARTS}
    assert [(region.name, region.view) for region in REGIONS] == [
        (part.name, part.view) for part in PARTS
    ]
    assert {part.view for part in PARTS} == set(VIEW_LABELS)


def test_a_parts_side_agrees_with_its_name_and_label():
    for part in PARTS:
        assert part.side in SIDES
        said = {side for side in (LEFT, RIGHT) if re.search(rf"\b{side}\b", part.label.lower())}
        assert said == ({part.side} if part.side != NONE else set()), part
        if part.side != NONE:
            assert part.side in part.name, part


def test_sides_count():
    sides = [part.side for part in PARTS]
    assert (sides.count(LEFT), sides.count(RIGHT), sides.count(NONE)) == (17, 17, 10)


def test_every_snomed_code_is_named_and_well_formed():
    used = {part.snomed for part in PARTS if part.snomed}
    assert used == set(SNOMED_STRUCTURES)
    for code in used:
        assert re.fullmatch(r"[1-9][0-9]{5,17}", code)
