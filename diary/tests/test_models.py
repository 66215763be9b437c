from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from diary.bodymap_shapes import REGIONS
from diary.bodyparts import BODY_PARTS
from diary.models import BodyPart, PainEntry

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "bodyparts.json"


def test_the_44_body_parts_exist_after_migrate():
    rows = list(BodyPart.objects.values_list("id", "name", "label", "view"))
    assert rows == list(BODY_PARTS)
    assert len(rows) == 44
    assert BodyPart.objects.get(pk=25).name == "right-feet"
    assert BodyPart.objects.get(pk=36).name == "column"


def test_fixture_matches_the_migration():
    fixture = json.loads(FIXTURE.read_text())
    assert [
        (row["pk"], row["fields"]["name"], row["fields"]["label"], row["fields"]["view"])
        for row in fixture
    ] == list(BODY_PARTS)


def test_every_body_part_is_drawn_once_on_its_view():
    drawn = {(region.name, region.view) for region in REGIONS}
    assert len(REGIONS) == 44
    assert drawn == {(name, view) for _, name, _, view in BODY_PARTS}


def _entry(owner, **overrides):
    values = {"owner": owner, "body_part_id": 21, "pain_type": "burning", "intensity": 5}
    values.update(overrides)
    return PainEntry(**values)


@pytest.mark.parametrize("intensity", [-1, 11, 300])
def test_database_refuses_intensity_out_of_range(patient, intensity):
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(patient, intensity=intensity).save()


def test_database_refuses_unknown_pain_type(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        _entry(patient, pain_type="itching").save()


def test_max_intensity_by_part(patient, other_patient):
    for part, intensity in [(21, 3), (21, 7), (1, 2)]:
        _entry(patient, body_part_id=part, intensity=intensity).save()
    _entry(other_patient, body_part_id=21, intensity=10).save()
    assert PainEntry.objects.for_user(patient).max_intensity_by_part() == {21: 7, 1: 2}
