from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from diary import services
from diary.models import BodyPart, Note, PainEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("midday")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx_to(target: str) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


@pytest.fixture
def client_a(client: Client, patient) -> Client:
    client.force_login(patient)
    return client


@pytest.fixture
def client_b(other_patient) -> Client:
    other = Client()
    other.force_login(other_patient)
    return other


def part(name: str) -> BodyPart:
    return BodyPart.objects.get(name=name)


def record(owner, name="knee-left", intensity=6, ago=timedelta(hours=1), **extra) -> PainEntry:
    return services.record_pain(
        owner=owner,
        body_part=part(name),
        pain_type=extra.pop("pain_type", "stabbing"),
        intensity=intensity,
        date_recorded=timezone.now() - ago,
        **extra,
    )


def entry_post(**overrides) -> dict[str, str]:
    data = {
        "body_part": "knee-left",
        "chosen_part": "knee-left",
        "pain_type": "burning",
        "intensity": "8",
        "date_recorded": (timezone.localtime() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        "description": "on the stairs",
    }
    data.update(overrides)
    return data


def region_class(html: str, name: str) -> str:
    match = re.search(rf'<path id="region-{name}" class="([^"]*)"', html)
    assert match, f"region {name} not drawn"
    return match.group(1)


# --- anonymous users ------------------------------------------------------------------------------

URLS_BY_NAME = [
    ("diary:diary", {}),
    ("diary:entry-new", {}),
    ("diary:entry-detail", {"pk": 1}),
    ("diary:entry-edit", {"pk": 1}),
    ("diary:entry-delete", {"pk": 1}),
    ("diary:notes", {}),
    ("diary:note-new", {}),
    ("diary:note-detail", {"pk": 1}),
    ("diary:note-edit", {"pk": 1}),
    ("diary:note-delete", {"pk": 1}),
]


@pytest.mark.parametrize(("name", "kwargs"), URLS_BY_NAME)
def test_anonymous_is_sent_to_sign_in(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_post_stores_nothing(client, patient):
    response = client.post(reverse("diary:entry-new"), entry_post())
    assert response.status_code == 302
    assert not PainEntry.objects.exists()


# --- the diary page -------------------------------------------------------------------------------


def test_diary_page_draws_every_region_once(client_a):
    html = client_a.get(reverse("diary:diary")).content.decode()
    regions = re.findall(r'<path id="region-([a-z-]+)"', html)
    assert len(regions) == 44 == len(set(regions)) == BodyPart.objects.count()
    assert 'data-body-part="knee-left"' in html
    assert 'tabindex="-1" role="button" aria-label="Left knee, no pain recorded"' in html
    assert "<title>Left knee</title>" in html
    assert ">Front<" in html
    assert ">Back<" in html
    assert 'class="body-silhouette"' in html
    # No template comment leaks as text.
    assert "{#" not in html
    assert "{% comment" not in html


def test_empty_diary_says_what_to_do(client_a):
    response = client_a.get(reverse("diary:diary"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Click where it hurts" in html
    empty = html[html.index('id="entry-list-empty"') :][:1200]
    assert "Your diary is empty." in empty
    assert f'href="{reverse("diary:entry-new")}">Record your first pain</a>' in empty


def test_regions_are_coloured_by_the_worst_pain_of_the_last_week(client_a, patient, other_patient):
    record(patient, "knee-left", 3)
    record(patient, "knee-left", 7)
    record(patient, "head", 9, ago=timedelta(days=8))  # too old to colour the map
    record(other_patient, "nape", 5)  # someone else's
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert region_class(html, "knee-left") == "body-region level-7"
    assert region_class(html, "head") == "body-region"
    assert region_class(html, "nape") == "body-region"
    assert "worst this week: 7/10" in html


def test_pain_zero_still_marks_the_region(client_a, patient):
    record(patient, "face", 0)
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert region_class(html, "face") == "body-region level-0"


def test_entries_are_listed_newest_first_grouped_by_day(client_a, patient):
    record(patient, "knee-left", 2, ago=timedelta(days=3), description="old one")
    record(patient, "head", 4, ago=timedelta(minutes=1), description="new one")
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert html.index("new one") < html.index("old one")
    assert "Today" in html
    assert html.count('class="entry-day"') == 2


def test_days_follow_the_users_time_zone(client_a, patient):
    # 23:30 UTC is already the next day in Tokyo.
    now = timezone.now()
    late = now.replace(hour=23, minute=30, second=0, microsecond=0)
    if late > now:
        late -= timedelta(days=1)
    services.record_pain(
        owner=patient, body_part=part("head"), pain_type="burning", intensity=1, date_recorded=late
    )
    patient.timezone = "Asia/Tokyo"
    patient.save()
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert "08:30" in html


def test_entries_of_others_are_not_listed(client_a, other_patient):
    record(other_patient, description="bob's secret")
    assert "bob&#x27;s secret" not in client_a.get(reverse("diary:diary")).content.decode()


def test_filter_by_part(client_a, patient):
    record(patient, "knee-left", description="knee entry")
    record(patient, "head", description="head entry")
    html = client_a.get(reverse("diary:diary"), {"part": "knee-left"}).content.decode()
    assert "knee entry" in html
    assert "head entry" not in html
    assert "History: Left knee" in html
    assert '<option value="knee-left" selected>' in html


def test_filter_by_htmx_returns_only_the_list(client_a, patient):
    record(patient, "knee-left", description="knee entry")
    response = client_a.get(reverse("diary:diary"), {"part": "head"}, **htmx_to("entry-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="entry-list"')
    assert "<html" not in html
    assert "No entries for top of the head yet." in html


@pytest.mark.parametrize("bad", ["elbow-middle", "knee-left\x00", "<script>", "x" * 500])
def test_unknown_part_filter_is_a_clear_message(client_a, patient, bad):
    record(patient, description="still shown")
    response = client_a.get(reverse("diary:diary"), {"part": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is no body part called" in html
    assert "still shown" in html
    assert "<script>" not in html.split('id="unknown-part"')[1][:300]


# --- recording pain -------------------------------------------------------------------------------


def test_region_click_returns_the_form_for_that_part(client_a):
    response = client_a.get(reverse("diary:entry-new"), {"part": "knee-left"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="entry-panel"')
    assert "Record pain: <span" in html
    assert "Left knee" in html
    assert '<input type="hidden" name="body_part" value="knee-left">' in html
    assert 'type="datetime-local"' in html
    assert html.count('name="intensity"') == 11
    assert html.count('name="pain_type"') == 4
    assert 'hx-post="/diary/entries/new/"' in html


def test_plain_entry_page_offers_a_select_of_parts(client_a):
    response = client_a.get(reverse("diary:entry-new"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert '<select name="body_part"' in html
    assert '<option value="knee-left">Left knee</option>' in html
    assert "hx-disable" in html


def test_entry_form_for_an_unknown_part_says_so(client_a):
    response = client_a.get(reverse("diary:entry-new"), {"part": "tail"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is no such body part" in html
    assert '<select name="body_part"' in html


def test_default_time_is_now_in_the_users_zone(client_a, patient):
    patient.timezone = "America/New_York"
    patient.save()
    html = client_a.get(reverse("diary:entry-new"), {"part": "head"}, **HTMX).content.decode()
    local_now = timezone.localtime(timezone=timezone.get_fixed_timezone(0)).astimezone(
        __import__("zoneinfo").ZoneInfo("America/New_York")
    )
    assert f'value="{local_now:%Y-%m-%dT%H}' in html


def test_htmx_save_returns_the_confirmation_and_only_what_changed(client_a, patient):
    response = client_a.post(reverse("diary:entry-new"), entry_post(), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    entry = PainEntry.objects.get()
    assert (entry.owner, entry.body_part.name, entry.intensity) == (patient, "knee-left", 8)
    assert entry.pain_type == "burning"
    assert entry.description == "on the stairs"
    assert html.lstrip().startswith('<section id="entry-panel"')
    assert "Saved: Left knee, burning, 8/10." in html
    # The first entry fills an empty list: the list comes whole, out of band.
    assert 'aria-labelledby="entry-list-heading" hx-swap-oob="true"' in html
    assert f'id="entry-{entry.pk}"' in html
    assert region_class(html, "knee-left") == "body-region level-8"
    assert 'id="body-map"' not in html  # not the whole map
    assert html.count("<path ") == 1


def test_plain_save_redirects_back_to_the_diary(client_a):
    response = client_a.post(reverse("diary:entry-new"), entry_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("diary:diary")
    assert PainEntry.objects.count() == 1
    page = client_a.get(response["Location"]).content.decode()
    assert "Saved: Left knee, burning, 8/10." in page


def test_an_earlier_time_is_kept(client_a):
    when = timezone.localtime() - timedelta(days=2, hours=3)
    client_a.post(
        reverse("diary:entry-new"),
        entry_post(date_recorded=when.strftime("%Y-%m-%dT%H:%M")),
        **HTMX,
    )
    stored = PainEntry.objects.get().date_recorded
    assert abs(stored - when.replace(second=0, microsecond=0)) < timedelta(seconds=1)


BAD_ENTRIES = [
    {"intensity": "99"},
    {"intensity": ""},
    {"pain_type": "tickling"},
    {"body_part": "elbow-middle", "chosen_part": ""},
    {"body_part": "knee-\x00left"},
    {"description": "nul\x00byte"},
    {"description": "x" * 2001},
    {"date_recorded": "not a date"},
    {
        "date_recorded": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    },
]


@pytest.mark.parametrize("overrides", BAD_ENTRIES)
def test_bad_entry_htmx_is_422_with_the_form_and_stores_nothing(client_a, overrides):
    response = client_a.post(reverse("diary:entry-new"), entry_post(**overrides), **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="entry-panel"')
    assert "invalid-feedback" in html or "alert-danger" in html
    assert not PainEntry.objects.exists()


@pytest.mark.parametrize("overrides", BAD_ENTRIES)
def test_bad_entry_plain_is_422_page_and_stores_nothing(client_a, overrides):
    response = client_a.post(reverse("diary:entry-new"), entry_post(**overrides))
    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert not PainEntry.objects.exists()


def test_future_time_error_is_shown_inline(client_a):
    later = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client_a.post(reverse("diary:entry-new"), entry_post(date_recorded=later), **HTMX)
    assert "This time is in the future" in response.content.decode()


def test_form_keeps_the_chosen_part_after_an_error(client_a):
    response = client_a.post(reverse("diary:entry-new"), entry_post(intensity="99"), **HTMX)
    html = response.content.decode()
    assert '<input type="hidden" name="body_part" value="knee-left">' in html
    assert "Record pain: <span" in html


# --- editing and deleting entries -----------------------------------------------------------------


def test_edit_form_in_place(client_a, patient):
    entry = record(patient, description="before")
    response = client_a.get(reverse("diary:entry-edit", args=[entry.pk]), **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article id="entry-{entry.pk}" class="entry entry-editing"')
    assert "before" in html
    assert f'id="entry-{entry.pk}-pain_type_0"' in html
    assert re.search(r'value="6"[^>]*checked', html)


def test_edit_saves_and_swaps_its_day_and_region(client_a, patient):
    entry = record(patient, intensity=2)
    response = client_a.post(
        reverse("diary:entry-edit", args=[entry.pk]),
        entry_post(intensity="9", description="worse"),
        **HTMX,
    )
    html = response.content.decode()
    entry.refresh_from_db()
    assert response.status_code == 200
    assert (entry.intensity, entry.description, entry.pain_type) == (9, "worse", "burning")
    # The form swaps nothing itself: its day group and its region come out of band.
    day = timezone.localdate()
    assert (
        f'<div class="entry-day-group" id="entry-day-{day.isoformat()}" hx-swap-oob="true">' in html
    )
    assert 'id="entry-list"' not in html
    assert region_class(html, "knee-left") == "body-region level-9"


def test_bad_edit_goes_back_into_the_form(client_a, patient):
    entry = record(patient, intensity=2)
    response = client_a.post(
        reverse("diary:entry-edit", args=[entry.pk]), entry_post(intensity="11"), **HTMX
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#entry-{entry.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    entry.refresh_from_db()
    assert entry.intensity == 2


def test_plain_edit_page_and_post(client_a, patient):
    entry = record(patient)
    url = reverse("diary:entry-edit", args=[entry.pk])
    assert "<html" in client_a.get(url).content.decode()
    response = client_a.post(url, entry_post(intensity="1"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.intensity == 1
    bad = client_a.post(url, entry_post(pain_type="nope"))
    assert bad.status_code == 422


def test_entry_detail_is_the_item_fragment(client_a, patient):
    entry = record(patient, description="shown")
    response = client_a.get(reverse("diary:entry-detail", args=[entry.pk]), **HTMX)
    assert response.content.decode().lstrip().startswith(f'<article id="entry-{entry.pk}"')
    plain = client_a.get(reverse("diary:entry-detail", args=[entry.pk]))
    assert plain.status_code == 302


def test_delete_asks_first_then_deletes(client_a, patient):
    entry = record(patient)
    url = reverse("diary:entry-delete", args=[entry.pk])
    confirm = client_a.get(url, **HTMX).content.decode()
    assert "Delete this entry?" in confirm
    assert PainEntry.objects.filter(pk=entry.pk).exists()
    response = client_a.post(url, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert not PainEntry.objects.filter(pk=entry.pk).exists()
    # The last entry gone: the list comes whole (its empty state), the region uncoloured.
    assert 'id="entry-list-empty"' in html
    assert region_class(html, "knee-left") == "body-region"


def test_plain_delete_has_a_confirm_page(client_a, patient):
    entry = record(patient)
    url = reverse("diary:entry-delete", args=[entry.pk])
    page = client_a.get(url).content.decode()
    assert "<html" in page
    assert "Delete this entry?" in page
    response = client_a.post(url)
    assert response.status_code == 302
    assert not PainEntry.objects.exists()


@pytest.mark.parametrize("name", ["diary:entry-detail", "diary:entry-edit", "diary:entry-delete"])
def test_others_entries_are_404(client_b, patient, name):
    entry = record(patient, intensity=4, description="alice's")
    url = reverse(name, args=[entry.pk])
    assert client_b.get(url).status_code == 404
    assert client_b.get(url, **HTMX).status_code == 404
    if name != "diary:entry-detail":
        assert client_b.post(url, entry_post(intensity="0")).status_code == 404
        assert client_b.post(url, entry_post(intensity="0"), **HTMX).status_code == 404
    entry.refresh_from_db()
    assert (entry.intensity, entry.description) == (4, "alice's")


def test_missing_entry_is_404(client_a):
    assert client_a.get(reverse("diary:entry-edit", args=[999999])).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_refused(client_a, method):
    assert getattr(client_a, method)(reverse("diary:entry-new")).status_code == 405


# --- notes ----------------------------------------------------------------------------------------


def test_notes_page_empty_state(client_a):
    html = client_a.get(reverse("diary:notes")).content.decode()
    assert "No notes yet." in html
    assert '<a class="btn btn-primary btn-sm" href="#id_title">Write your first note</a>' in html
    assert 'id="id_title"' in html  # the button's target is on the page
    assert 'id="note-form"' in html


def test_notes_page_lists_only_own_notes(client_a, patient, other_patient):
    services.create_note(owner=patient, title="Mine")
    services.create_note(owner=other_patient, title="Bob's")
    html = client_a.get(reverse("diary:notes")).content.decode()
    assert "Mine" in html
    assert "Bob&#x27;s" not in html


def test_create_note_htmx(client_a, patient):
    response = client_a.post(
        reverse("diary:note-new"), {"title": " Ask about MRI ", "body": "soon"}, **HTMX
    )
    html = response.content.decode()
    note = Note.objects.get()
    assert (note.owner, note.title, note.body) == (patient, "Ask about MRI", "soon")
    assert html.lstrip().startswith('<section id="note-form"')
    assert 'id="note-list" aria-labelledby="note-list-heading" hx-swap-oob="true"' in html
    assert f'id="note-{note.pk}"' in html


def test_create_note_plain(client_a):
    response = client_a.post(reverse("diary:note-new"), {"title": "Plain"})
    assert response.status_code == 302
    assert response["Location"] == reverse("diary:notes")
    assert Note.objects.filter(title="Plain").exists()
    assert "<html" in client_a.get(reverse("diary:note-new")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": ""},
        {"title": "  "},
        {"title": "a\x00b"},
        {"title": "x" * 256},
        {"title": "t", "body": "\x00"},
    ],
)
def test_bad_note_is_422_and_stores_nothing(client_a, data):
    response = client_a.post(reverse("diary:note-new"), data, **HTMX)
    assert response.status_code == 422
    assert "invalid-feedback" in response.content.decode()
    assert client_a.post(reverse("diary:note-new"), data).status_code == 422
    assert not Note.objects.exists()


def test_edit_note_in_place(client_a, patient):
    note = services.create_note(owner=patient, title="Old")
    url = reverse("diary:note-edit", args=[note.pk])
    form = client_a.get(url, **HTMX).content.decode()
    assert form.lstrip().startswith(f'<article id="note-{note.pk}" class="card note note-editing')
    assert f'id="note-{note.pk}-title"' in form
    response = client_a.post(url, {"title": "New", "body": "text"}, **HTMX)
    assert response.status_code == 200
    assert (
        response.content.decode()
        .lstrip()
        .startswith(f'<article id="note-{note.pk}" class="card note mb-3"')
    )
    note.refresh_from_db()
    assert (note.title, note.body) == ("New", "text")


def test_bad_note_edit_keeps_the_note(client_a, patient):
    note = services.create_note(owner=patient, title="Keep")
    url = reverse("diary:note-edit", args=[note.pk])
    response = client_a.post(url, {"title": ""}, **HTMX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert client_a.post(url, {"title": ""}).status_code == 422
    note.refresh_from_db()
    assert note.title == "Keep"


def test_plain_note_edit(client_a, patient):
    note = services.create_note(owner=patient, title="Old")
    url = reverse("diary:note-edit", args=[note.pk])
    assert "<html" in client_a.get(url).content.decode()
    assert client_a.post(url, {"title": "New"}).status_code == 302
    note.refresh_from_db()
    assert note.title == "New"


def test_note_detail(client_a, patient):
    note = services.create_note(owner=patient, title="Seen")
    url = reverse("diary:note-detail", args=[note.pk])
    assert "Seen" in client_a.get(url, **HTMX).content.decode()
    assert client_a.get(url).status_code == 302


def test_delete_note_asks_first(client_a, patient):
    note = services.create_note(owner=patient, title="Bye")
    url = reverse("diary:note-delete", args=[note.pk])
    assert "Delete the note" in client_a.get(url, **HTMX).content.decode()
    assert "<html" in client_a.get(url).content.decode()
    assert Note.objects.exists()
    response = client_a.post(url, **HTMX)
    assert response.content.decode().lstrip().startswith('<section id="note-list"')
    assert "No notes yet." in response.content.decode()
    assert not Note.objects.exists()


def test_plain_delete_note(client_a, patient):
    note = services.create_note(owner=patient, title="Bye")
    response = client_a.post(reverse("diary:note-delete", args=[note.pk]))
    assert response.status_code == 302
    assert not Note.objects.exists()


@pytest.mark.parametrize("name", ["diary:note-detail", "diary:note-edit", "diary:note-delete"])
def test_others_notes_are_404(client_b, patient, name):
    note = services.create_note(owner=patient, title="Alice's")
    url = reverse(name, args=[note.pk])
    assert client_b.get(url).status_code == 404
    assert client_b.get(url, **HTMX).status_code == 404
    if name != "diary:note-detail":
        assert client_b.post(url, {"title": "hacked"}).status_code == 404
        assert client_b.post(url, {"title": "hacked"}, **HTMX).status_code == 404
    note.refresh_from_db()
    assert note.title == "Alice's"


# --- navigation -----------------------------------------------------------------------------------


def test_nav_links_to_the_diary_and_home_lands_on_it(client_a):
    response = client_a.get(reverse("home"), follow=True)
    assert response.redirect_chain == [(reverse("diary:diary"), 302)]
    html = response.content.decode()
    assert f'href="{reverse("diary:diary")}"' in html
    assert f'href="{reverse("diary:notes")}"' in html
    assert 'aria-current="page">Diary</a>' in html


def test_pages_carry_no_inline_styles_or_scripts(client_a, patient):
    record(patient)
    services.create_note(owner=patient, title="n")
    for url in [reverse("diary:diary"), reverse("diary:notes"), reverse("diary:entry-new")]:
        html = client_a.get(url).content.decode()
        assert "style=" not in html
        assert "hx-on" not in html
        for tag in re.findall(r"<script[^>]*>", html):
            assert "nonce=" in tag


def test_plain_entry_page_preselects_the_part_in_a_visible_select(client_a):
    html = client_a.get(reverse("diary:entry-new"), {"part": "knee-left"}).content.decode()
    assert '<option value="knee-left" selected>Left knee</option>' in html
    assert 'type="hidden" name="body_part"' not in html
    assert html.count("Record pain") == 2  # <title> and the one heading


def test_doctors_get_no_diary_nav(client, doctor):
    client.force_login(doctor)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("diary:diary")}"' not in html


def test_fragment_urls_vary_on_htmx(client_a):
    for url in [reverse("diary:diary"), reverse("diary:entry-new"), reverse("diary:note-new")]:
        assert "HX-Request" in client_a.get(url)["Vary"]


def test_older_days_are_spelled_out(client_a, patient):
    entry = record(patient, ago=timedelta(days=5))
    day = timezone.localtime(entry.date_recorded)
    html = client_a.get(reverse("diary:diary")).content.decode()
    assert f">{day:%a} {day.day} {day:%b}</h3>" in html
