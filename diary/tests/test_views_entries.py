"""The diary page's recording: defaults, several parts at once, small save answers, day headings."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diary import services
from diary.models import BodyPart, PainEntry
from diary.views.entries import day_heading

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]

HTMX = {"HTTP_HX_REQUEST": "true"}
# A save must not send the map (38 KB) again: the confirmation, the regions, the day.
SAVE_ANSWER_LIMIT = 10 * 1024


@pytest.fixture
def client_a(client: Client, patient) -> Client:
    client.force_login(patient)
    return client


def record(owner, name="knee-left", intensity=6, ago=timedelta(hours=1), **extra) -> PainEntry:
    return services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=name),
        pain_type=extra.pop("pain_type", "stabbing"),
        intensity=intensity,
        date_recorded=timezone.now() - ago,
        **extra,
    )


def post_data(parts=("knee-left",), **overrides) -> dict:
    data = {
        "body_part": list(parts),
        "chosen_part": list(parts),
        "pain_type": "throbbing",
        "intensity": "6",
        "date_recorded": (timezone.localtime() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        "description": "",
    }
    data.update(overrides)
    return data


def region_class(html: str, name: str) -> str:
    match = re.search(rf'<path id="region-{name}" class="([^"]*)"', html)
    assert match, f"region {name} not drawn"
    return match.group(1)


def checked(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]+)"[^>]*checked', html) + re.findall(
        rf'value="([^"]+)"[^>]*name="{name}"[^>]*checked', html
    )


# --- the form's defaults and the scale --------------------------------------------------------


def test_the_form_opens_with_the_last_type_and_intensity_used_there(client_a, patient):
    record(patient, "knee-left", 3, ago=timedelta(days=2), pain_type="burning")
    record(patient, "knee-left", 7, ago=timedelta(hours=2), pain_type="cutting")
    record(patient, "head", 1, ago=timedelta(minutes=5), pain_type="stabbing")
    html = client_a.get(reverse("diary:entry-new"), {"part": "knee-left"}, **HTMX).content.decode()
    assert re.search(r'value="cutting"[^>]*checked', html)
    assert re.search(r'id="id_intensity_7"[^>]*checked|value="7"[^>]*checked', html)
    assert len(re.findall(r"checked", html)) == 2


def test_a_part_without_history_opens_blank(client_a, patient, other_patient):
    # Another patient's entries there are not this patient's defaults.
    record(other_patient, "knee-left", 9, pain_type="burning")
    html = client_a.get(reverse("diary:entry-new"), {"part": "knee-left"}, **HTMX).content.decode()
    assert "checked" not in html


def test_the_scale_is_explained_once(client_a):
    html = client_a.get(reverse("diary:entry-new"), {"part": "nape"}, **HTMX).content.decode()
    assert html.count("0 no pain") == 1
    assert html.count("10 worst imaginable") == 1
    assert 'aria-describedby="id_intensity-scale"' in html


# --- several parts at once ----------------------------------------------------------------------


def test_the_form_for_several_parts_names_them_all(client_a):
    url = reverse("diary:entry-new") + "?part=knee-left&part=knee-right&part=knee-left"
    html = client_a.get(url, **HTMX).content.decode()
    assert "Record pain: <span" in html
    assert "Left knee and Right knee" in html
    assert html.count('name="body_part"') == 2  # hidden, once per part
    assert "Save 2 entries" in html


def test_several_parts_one_save_one_entry_each(client_a, patient):
    response = client_a.post(
        reverse("diary:entry-new"), post_data(parts=["knee-left", "knee-right"]), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    entries = PainEntry.objects.filter(owner=patient)
    assert sorted(entries.values_list("body_part__name", flat=True)) == ["knee-left", "knee-right"]
    assert {(e.pain_type, e.intensity) for e in entries} == {("throbbing", 6)}
    assert "Saved 2 entries: Left knee and Right knee, throbbing, 6/10." in html
    assert region_class(html, "knee-left") == "body-region level-6"
    assert region_class(html, "knee-right") == "body-region level-6"


@pytest.mark.parametrize(
    "overrides",
    [
        {"intensity": "11"},
        {"pain_type": "tickling"},
        {"body_part": ["knee-left", "elbow-middle"]},
        {"body_part": ["knee-left", "knee-\x00right"]},
        {"body_part": []},
        {"date_recorded": "2999-01-01T10:00"},
    ],
)
def test_bad_input_for_several_parts_stores_none(client_a, overrides):
    data = post_data(parts=["knee-left", "knee-right"], **overrides)
    response = client_a.post(reverse("diary:entry-new"), data, **HTMX)
    assert response.status_code == 422
    assert 'class="invalid-feedback' in response.content.decode() or "alert-danger" in (
        response.content.decode()
    )
    assert not PainEntry.objects.exists()


def test_without_javascript_several_parts_work_too(client_a, patient):
    response = client_a.post(reverse("diary:entry-new"), post_data(parts=["nape", "loin"]))
    assert response.status_code == 302
    assert PainEntry.objects.filter(owner=patient).count() == 2


# --- small save answers -------------------------------------------------------------------------


@pytest.fixture
def busy_diary(patient):
    """Three weeks of a bad month: two or three entries a day, three of them today."""
    for days_ago in range(1, 22):
        for hour, name in ((2, "loin"), (5, "head"), (9, "nape")):
            record(patient, name, days_ago % 11, ago=timedelta(days=days_ago, hours=hour))
    for minutes in (10, 20, 30):
        record(patient, "knee-left", 5, ago=timedelta(minutes=minutes), description="stairs " * 8)


def test_a_save_answers_under_10_kb_not_the_whole_map(client_a, patient, busy_diary):
    page = client_a.get(reverse("diary:diary")).content
    response = client_a.post(reverse("diary:entry-new"), post_data(), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < SAVE_ANSWER_LIMIT, len(response.content)
    assert len(page) > 4 * len(response.content)  # what it used to send, and more
    assert 'id="body-map"' not in html
    assert 'id="entry-list"' not in html
    # Exactly what changed: the region (and its number), today's group, the confirmation.
    assert html.count("<path ") == 1
    assert '<text id="level-knee-left" class="body-region-level level-6"' in html
    today = timezone.localdate().isoformat()
    assert f'id="entry-day-{today}" hx-swap-oob="true"' in html
    assert html.count('class="entry-day-group"') == 1
    assert html.count('<article id="entry-') == 4
    assert "Saved: Left knee, throbbing, 6/10." in html


def test_several_parts_save_is_small_too(client_a, patient, busy_diary):
    parts = ["knee-left", "knee-right"]
    response = client_a.post(reverse("diary:entry-new"), post_data(parts=parts), **HTMX)
    assert response.status_code == 200
    assert len(response.content) < SAVE_ANSWER_LIMIT, len(response.content)
    assert response.content.decode().count("<path ") == 2


def test_a_save_recolours_from_the_owners_entries_only(client_a, patient, other_patient):
    theirs = record(other_patient, "knee-left", 10)
    record(patient, "knee-left", 2)
    html = client_a.post(reverse("diary:entry-new"), post_data(), **HTMX).content.decode()
    assert region_class(html, "knee-left") == "body-region level-6"
    assert f'id="entry-{theirs.pk}"' not in html
    assert html.count('<article id="entry-') == 2  # the patient's two, today


def test_a_new_newest_day_is_inserted_at_the_top(client_a, patient):
    record(patient, "head", 4, ago=timedelta(days=2))
    html = client_a.post(reverse("diary:entry-new"), post_data(), **HTMX).content.decode()
    today = timezone.localdate().isoformat()
    assert '<div hx-swap-oob="afterbegin:#entry-days">' in html
    assert f'<div class="entry-day-group" id="entry-day-{today}">' in html
    assert 'id="entry-list"' not in html


def test_a_back_dated_entry_between_two_days_sends_the_list(client_a, patient):
    record(patient, "head", 4, ago=timedelta(days=4))
    record(patient, "head", 4, ago=timedelta(hours=1))
    when = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    html = client_a.post(
        reverse("diary:entry-new"), post_data(date_recorded=when), **HTMX
    ).content.decode()
    assert 'aria-labelledby="entry-list-heading" hx-swap-oob="true"' in html
    assert html.count('class="entry-day-group"') == 3


def test_a_filtered_list_gets_no_other_parts_entries(client_a, patient):
    record(patient, "head", 4)
    data = {**post_data(), "part": "head"}  # the list shows the head's history (hx-include)
    html = client_a.post(reverse("diary:entry-new"), data, **HTMX).content.decode()
    assert "entry-day-group" not in html
    assert region_class(html, "knee-left") == "body-region level-6"


def test_deleting_one_of_a_days_entries_swaps_that_day(client_a, patient):
    keep = record(patient, "head", 4, ago=timedelta(hours=2))
    gone = record(patient, "nape", 3, ago=timedelta(hours=1))
    older = record(patient, "loin", 2, ago=timedelta(days=3))
    html = client_a.post(reverse("diary:entry-delete", args=[gone.pk]), **HTMX).content.decode()
    today = timezone.localdate().isoformat()
    assert f'id="entry-day-{today}" hx-swap-oob="true"' in html
    assert f'id="entry-{keep.pk}"' in html
    assert f'id="entry-{gone.pk}"' not in html
    assert region_class(html, "nape") == "body-region"
    # The older day's only entry: its group goes.
    html = client_a.post(reverse("diary:entry-delete", args=[older.pk]), **HTMX).content.decode()
    old_day = timezone.localtime(older.date_recorded).date().isoformat()
    assert f'<div id="entry-day-{old_day}" hx-swap-oob="delete"></div>' in html


def test_moving_an_entry_to_another_day_swaps_both_days(client_a, patient):
    record(patient, "head", 4, ago=timedelta(days=3))
    moved = record(patient, "nape", 3, ago=timedelta(hours=1))
    record(patient, "loin", 3, ago=timedelta(hours=2))
    when = timezone.localtime() - timedelta(days=3, hours=1)
    data = post_data(date_recorded=when.strftime("%Y-%m-%dT%H:%M"), body_part="nape")
    html = client_a.post(
        reverse("diary:entry-edit", args=[moved.pk]), data, **HTMX
    ).content.decode()
    assert html.count('hx-swap-oob="true"') >= 2 + 2  # two days, the region and its number
    assert html.count('class="entry-day-group"') == 2


def test_others_cannot_edit_or_delete_through_the_small_answers(patient, other_patient):
    entry = record(patient)
    intruder = Client()
    intruder.force_login(other_patient)
    edit = intruder.post(reverse("diary:entry-edit", args=[entry.pk]), post_data(), **HTMX)
    delete = intruder.post(reverse("diary:entry-delete", args=[entry.pk]), **HTMX)
    assert (edit.status_code, delete.status_code) == (404, 404)
    entry.refresh_from_db()
    assert entry.intensity == 6


# --- the list's day headings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 7), "Today"),
        (date(2026, 12, 6), "Yesterday"),
        (date(2026, 11, 30), "Mon 30 Nov"),
        (date(2025, 11, 30), "Sun 30 Nov 2025"),
    ],
)
def test_day_headings(day, expected):
    assert day_heading(day, today=date(2026, 12, 7)) == expected


def test_the_patients_day_headings_are_in_their_zone(client_a, patient):
    # 23:30 UTC yesterday is already today in Tokyo: "Today" there, "Yesterday" in UTC.
    now = timezone.now()
    late = (now - timedelta(days=1)).replace(hour=23, minute=30)
    services.record_pain(
        owner=patient,
        body_part=BodyPart.objects.get(name="head"),
        pain_type="burning",
        intensity=1,
        date_recorded=late,
    )
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert re.search(r'<h3 class="entry-day">Yesterday', html)
    patient.timezone = "Asia/Tokyo"
    patient.save()
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert re.search(r'<h3 class="entry-day">Today', html)
