from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from diary import services
from diary.models import BodyPart, Note, PainEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def knee(db) -> BodyPart:
    return BodyPart.objects.get(name="knee-left")


def test_record_pain(patient, knee):
    entry = services.record_pain(
        owner=patient, body_part=knee, pain_type="stabbing", intensity=6, description="  stairs "
    )
    assert entry.pk
    assert entry.description == "stairs"
    assert timezone.now() - entry.date_recorded < timedelta(seconds=5)


def test_record_pain_in_the_past(patient, knee):
    when = timezone.now() - timedelta(days=3)
    entry = services.record_pain(
        owner=patient, body_part=knee, pain_type="burning", intensity=2, date_recorded=when
    )
    assert entry.date_recorded == when


@pytest.mark.parametrize(
    "overrides",
    [
        {"intensity": 11},
        {"intensity": -1},
        {"pain_type": "itching"},
        {"description": "nul\x00byte"},
        {"description": "x" * 2001},
        {"date_recorded": timezone.now() + timedelta(hours=1)},
    ],
)
def test_record_pain_rejects_bad_input(patient, knee, overrides):
    values = {"pain_type": "burning", "intensity": 5}
    values.update(overrides)
    with pytest.raises(ValidationError):
        services.record_pain(owner=patient, body_part=knee, **values)
    assert not PainEntry.objects.exists()


def test_update_and_delete_pain_entry(patient, knee):
    entry = services.record_pain(owner=patient, body_part=knee, pain_type="burning", intensity=5)
    services.update_pain_entry(entry=entry, intensity=9, description="worse")
    entry.refresh_from_db()
    assert (entry.intensity, entry.description) == (9, "worse")
    with pytest.raises(ValidationError):
        services.update_pain_entry(entry=entry, intensity=42)
    entry.refresh_from_db()
    assert entry.intensity == 9
    with pytest.raises(TypeError):
        services.update_pain_entry(entry=entry, owner=patient)
    services.delete_pain_entry(entry=entry)
    assert not PainEntry.objects.exists()


def test_notes(patient):
    note = services.create_note(owner=patient, title=" Sleep ", body="bad night")
    assert note.title == "Sleep"
    services.update_note(note=note, body="better")
    note.refresh_from_db()
    assert note.body == "better"
    with pytest.raises(ValidationError):
        services.update_note(note=note, title="  ")
    with pytest.raises(ValidationError):
        services.create_note(owner=patient, title="")
    services.delete_note(note=note)
    assert not Note.objects.exists()
