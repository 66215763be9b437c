from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from diary.models import PainEntry

pytestmark = pytest.mark.django_db


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
