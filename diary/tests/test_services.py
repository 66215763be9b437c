from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
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


def test_record_pain_in_parts_stores_one_entry_per_part_together(patient, knee):
    head = BodyPart.objects.get(name="head")
    entries = services.record_pain_in_parts(
        owner=patient, body_parts=[knee, head, knee], pain_type="burning", intensity=5
    )
    assert [entry.body_part.name for entry in entries] == ["knee-left", "head"]  # once each
    assert all(entry.pk for entry in entries)
    assert len({entry.date_recorded for entry in entries}) == 1  # one moment for all of them
    assert PainEntry.objects.filter(owner=patient).count() == 2


@pytest.mark.parametrize(
    "overrides",
    [{"intensity": 11}, {"pain_type": "tickling"}, {"description": "x\x00"}, {"body_parts": []}],
)
def test_record_pain_in_parts_bad_input_stores_none(patient, knee, overrides):
    data = {"body_parts": [knee, BodyPart.objects.get(name="head")], "pain_type": "burning"}
    data["intensity"] = 4
    data.update(overrides)
    with pytest.raises(ValidationError):
        services.record_pain_in_parts(owner=patient, **data)
    assert not PainEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_record_pain_in_parts_is_atomic_when_a_row_fails(patient):
    # A transactional test may find the tables flushed by an earlier one: the data migration's
    # parts are gone then, so bring back the one this test needs.
    knee, _ = BodyPart.objects.get_or_create(
        name="knee-left", defaults={"id": 21, "label": "Left knee", "view": "front"}
    )
    # A part that is not in the table passes validation (the foreign key is the database's
    # check): the insert fails, and the valid part's entry must not be stored either.
    ghost = BodyPart(id=999, name="ghost", label="Ghost", view="front")
    with pytest.raises(IntegrityError):
        services.record_pain_in_parts(
            owner=patient, body_parts=[knee, ghost], pain_type="burning", intensity=3
        )
    assert not PainEntry.objects.exists()


def test_a_refused_update_leaves_the_entry_as_it_was(patient, knee):
    entry = services.record_pain(owner=patient, body_part=knee, pain_type="burning", intensity=2)
    with pytest.raises(ValidationError):
        services.update_pain_entry(entry=entry, intensity=3, pain_type="tickling")
    assert (entry.intensity, entry.pain_type) == (2, "burning")  # the object in hand, too
    entry.refresh_from_db()
    assert (entry.intensity, entry.pain_type) == (2, "burning")


def test_a_refused_note_update_leaves_the_note_as_it_was(patient):
    note = services.create_note(owner=patient, title="Pills", body="twice a day")
    with pytest.raises(ValidationError):
        services.update_note(note=note, title="", body="changed")
    assert (note.title, note.body) == ("Pills", "twice a day")
