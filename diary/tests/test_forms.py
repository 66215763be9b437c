from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from diary.forms import NoteForm, PainEntryForm, add_service_errors
from diary.models import BodyPart

pytestmark = pytest.mark.django_db


def entry_data(**overrides) -> dict[str, str]:
    when = timezone.localtime() - timedelta(minutes=5)
    data = {
        "body_part": "knee-left",
        "pain_type": "stabbing",
        "intensity": "7",
        "date_recorded": when.strftime("%Y-%m-%dT%H:%M"),
        "description": "stairs",
    }
    data.update(overrides)
    return data


def test_valid_entry_form_gives_the_body_part_row():
    form = PainEntryForm(entry_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["body_part"] == BodyPart.objects.get(name="knee-left")
    assert form.cleaned_data["intensity"] == 7


def test_datetime_local_is_read_in_the_users_time_zone():
    with timezone.override("Asia/Tokyo"):
        form = PainEntryForm(entry_data(date_recorded="2024-03-01T09:30"))
        assert form.is_valid(), form.errors
    assert form.cleaned_data["date_recorded"].astimezone(timezone.UTC).hour == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body_part", "elbow-middle"),
        ("body_part", "knee-\x00left"),
        ("body_part", ""),
        ("pain_type", "tickling"),
        ("pain_type", ""),
        ("intensity", "99"),
        ("intensity", "-1"),
        ("intensity", "seven"),
        ("intensity", ""),
        ("date_recorded", "yesterday"),
        ("date_recorded", ""),
        ("description", "bad\x00byte"),
        ("description", "x" * 2001),
    ],
)
def test_bad_entry_input_is_a_field_error(field, value):
    form = PainEntryForm(entry_data(**{field: value}))
    assert not form.is_valid()
    assert field in form.errors


def test_future_time_is_refused_with_a_clear_message():
    later = timezone.localtime() + timedelta(hours=2)
    form = PainEntryForm(entry_data(date_recorded=later.strftime("%Y-%m-%dT%H:%M")))
    assert not form.is_valid()
    assert "in the future" in form.errors["date_recorded"][0]


def test_entry_form_offers_now_as_the_latest_time():
    form = PainEntryForm()
    assert form.fields["date_recorded"].widget.attrs["max"] <= timezone.localtime().strftime(
        "%Y-%m-%dT%H:%M"
    )
    assert 'type="datetime-local"' in str(form["date_recorded"])


def test_part_label_comes_from_data_or_initial():
    assert PainEntryForm(entry_data()).part_label == "Left knee"
    assert PainEntryForm(initial={"body_part": "nape"}).part_label == "Back of the neck"
    assert PainEntryForm(entry_data(body_part="nowhere")).part_label == ""


@pytest.mark.parametrize(
    "data",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "t\x00"},
        {"title": "x" * 256},
        {"title": "ok", "body": "\x00"},
    ],
)
def test_bad_note_input_is_refused(data):
    assert not NoteForm(data).is_valid()


def test_service_errors_land_on_their_fields():
    form = NoteForm({"title": "ok"})
    assert form.is_valid()
    add_service_errors(form, ValidationError({"title": "Taken", "owner": "Nope"}))
    assert form.errors["title"] == ["Taken"]
    assert form.non_field_errors() == ["Nope"]
    form = NoteForm({"title": "ok"})
    form.is_valid()
    add_service_errors(form, ValidationError("Plain"))
    assert form.non_field_errors() == ["Plain"]
