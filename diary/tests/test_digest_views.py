"""The digest pages: the patient's own, and a linked doctor's read of it (logged)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import DiaryAccess
from diary import services
from diary.digest import Period, build_digest
from diary.models import BodyPart, Note, PainEntry
from diary.views.digest import heatmap_levels, period_label

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DIGEST = reverse("diary:digest")


def link(patient, doctor):
    request = accounts.request_link(patient=patient, doctor=doctor)
    return accounts.change_link(link=request, by=doctor, status="active")


def add(owner, part: str, when: datetime, intensity: int, pain_type: str = "burning"):
    return PainEntry.objects.create(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type=pain_type,
        intensity=intensity,
        date_recorded=when,
    )


def today_in_paris() -> date:
    return timezone.now().astimezone(PARIS).date()


def at(days_ago: int, hour: int = 12) -> datetime:
    day = today_in_paris() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


@pytest.fixture
def diary(patient):
    """Alice in Paris: a painful knee that gets worse, a head once, over the last three weeks."""
    patient.timezone = "Europe/Paris"
    patient.save()
    add(patient, "knee-left", at(20), 3)
    add(patient, "knee-left", at(12), 5, "stabbing")
    add(patient, "knee-left", at(2), 8)
    add(patient, "knee-left", at(1), 9, "throbbing")
    add(patient, "head", at(5), 2, "cutting")
    add(patient, "head", at(40), 10)  # outside 30 days, inside 90
    return patient


def test_patient_page_shows_the_digest_numbers(client, diary):
    client.force_login(diary)
    response = client.get(DIGEST)
    assert response.status_code == 200
    digest = response.context["digest"]
    expected = build_digest(
        patient=diary, period=Period(today_in_paris() - timedelta(days=29), today_in_paris())
    )
    assert (digest.entries, digest.days_with_entries, digest.peak) == (5, 5, 9)
    assert digest.as_json() == expected.as_json()
    html = response.content.decode()
    assert expected.summary in html
    assert '<dd id="figure-entries">5</dd>' in html
    assert "5 <span" in html.split('id="figure-days"')[1][:20]
    knee = expected.body_parts[0]
    assert knee.body_part.name == "knee-left"
    assert knee.mean == 6.2
    table = html.split('id="part-table"')[1].split("</table>")[0]
    assert table.index('"knee-left"') < table.index('"head"')  # most pain first
    assert "6.2" in table
    assert "▲ rising" in table
    # The map is a read-only heatmap of the mean, with a legend naming the period.
    assert 'id="region-knee-left" class="body-region level-6"' in html
    assert 'id="region-head" class="body-region level-2"' in html
    assert f"Mean intensity, {period_label(digest.period)}" in html
    assert 'role="button"' not in html
    # Chart with its table, pain types, worst days, exports; never an inline style.
    assert '<svg id="timeline-chart"' in html
    # A phone gets the chart drawn for its width, and the table keeps Trend (issue #11, bug 3).
    assert '<svg id="timeline-chart-compact"' in html
    assert 'class="timeline-chart-wrap timeline-chart-phone d-sm-none"' in html
    assert '<th scope="col">Trend</th>' in table
    assert "<polyline" in html
    assert "Show the numbers" in html
    assert "w-pct-40" in html  # burning: 2 of 5 entries
    assert html.index("worst-days") < html.index("notes-heading")
    assert 'href="/diary/export/?format=csv"' in html
    assert 'href="/diary/export/?format=fhir"' in html
    assert "style=" not in html
    assert "hx-on" not in html


@pytest.mark.parametrize(
    ("query", "days", "entries"),
    [("?days=7", 7, 3), ("?days=30", 30, 5), ("?days=90", 90, 6), ("", 30, 5)],
)
def test_period_switching(client, diary, query, days, entries):
    client.force_login(diary)
    response = client.get(DIGEST + query)
    assert response.status_code == 200
    digest = response.context["digest"]
    assert (digest.period.days, digest.period.end, digest.entries) == (
        days,
        today_in_paris(),
        entries,
    )
    html = response.content.decode()
    assert f'aria-current="page">{days} days</a>' in html


def test_custom_range(client, diary):
    client.force_login(diary)
    start, end = today_in_paris() - timedelta(days=13), today_in_paris() - timedelta(days=3)
    response = client.get(DIGEST, {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    digest = response.context["digest"]
    assert (digest.period.start, digest.period.end, digest.entries) == (start, end, 2)
    html = response.content.decode()
    assert 'aria-current="page">' not in html.split("Last days")[1].split("</div>")[0]
    assert f'value="{start.isoformat()}"' in html
    # Switching the colours keeps the custom range.
    assert f"start={start.isoformat()}&amp;end={end.isoformat()}&amp;color=count" in html


@pytest.mark.parametrize(
    "query",
    [
        "?days=abc",
        "?days=0",
        "?days=9999",
        "?start=2026-01-10",
        "?start=2026-02-01&end=2026-01-01",
        "?start=nope&end=2026-01-01",
        "?days=7&start=2026-01-01&end=2026-01-02",
    ],
)
def test_bad_period_is_a_400_with_a_message_and_falls_back(client, diary, query):
    client.force_login(diary)
    response = client.get(DIGEST + query)
    assert response.status_code == 400
    assert response.context["digest"].period.days == 30
    html = response.content.decode()
    assert 'id="period-error"' in html
    assert str(response.context["period_error"]) in html


def test_colour_by_number_of_entries(client, diary):
    client.force_login(diary)
    response = client.get(DIGEST + "?days=30&color=count")
    assert response.status_code == 200
    html = response.content.decode()
    # Knee: 4 entries, the busiest part = 10; head: 1 of 4 rounds up to 3.
    assert 'id="region-knee-left" class="body-region level-10"' in html
    assert 'id="region-head" class="body-region level-3"' in html
    assert "Number of entries," in html
    assert 'data-color="count" aria-current="true"' in html
    assert heatmap_levels(response.context["digest"], "mean") == {
        BodyPart.objects.get(name="knee-left").pk: 6,
        BodyPart.objects.get(name="head").pk: 2,
    }


def test_days_follow_the_patients_time_zone(client, patient):
    patient.timezone = "Pacific/Kiritimati"  # UTC+14: its today can be UTC's tomorrow
    patient.save()
    client.force_login(patient)
    tz = zoneinfo.ZoneInfo("Pacific/Kiritimati")
    digest = client.get(DIGEST + "?days=7").context["digest"]
    assert digest.period.end == timezone.now().astimezone(tz).date()


def test_empty_period_says_so(client, patient):
    client.force_login(patient)
    response = client.get(DIGEST + "?days=7")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="digest-empty"' in html
    # What to do next, and the buttons to do it.
    assert "Record pain on the body map as it happens" in html
    assert re.search(r'<a class="btn btn-primary btn-sm" href="/diary/">Record pain</a>', html)
    assert re.search(r'<a class="btn[^"]*" href="[^"]*\?days=90[^"]*">Last 90 days</a>', html)
    assert "<polyline" not in html


def test_patient_sees_all_their_notes_of_the_period(client, diary):
    services.create_note(owner=diary, title="Shared question", shared=True)
    services.create_note(owner=diary, title="Private thought")
    client.force_login(diary)
    html = client.get(DIGEST).content.decode()
    assert "Shared question" in html
    assert "Private thought" in html


def test_links_to_the_digest(client, diary, doctor):
    link(diary, doctor)
    client.force_login(diary)
    assert f'href="{DIGEST}"' in client.get(reverse("diary:diary")).content.decode()
    client.force_login(doctor)
    url = reverse("diary:patient-digest", args=["alice"])
    assert f'href="{url}"' in client.get(reverse("diary:patients")).content.decode()
    assert (
        f'href="{url}"'
        in client.get(reverse("diary:patient-diary", args=["alice"])).content.decode()
    )


def test_linked_doctor_reads_the_digest_and_it_is_logged(client, diary, doctor):
    link(diary, doctor)
    services.create_note(owner=diary, title="Shared question", shared=True)
    services.create_note(owner=diary, title="Private thought")
    client.force_login(doctor)
    response = client.get(reverse("diary:patient-digest", args=["alice"]) + "?days=90")
    assert response.status_code == 200
    assert response.context["digest"].entries == 6
    html = response.content.decode()
    assert "Shared question" in html
    assert "Private thought" not in html
    assert 'href="/diary/export/?format=csv&amp;patient=alice"' in html
    assert 'role="button"' not in html
    assert list(
        DiaryAccess.objects.values_list("viewer__username", "patient__username", "what")
    ) == [("drwho", "alice", "digest")]


@pytest.mark.parametrize("who", ["unlinked_doctor", "ex_linked_doctor", "patient", "self"])
def test_nobody_else_reads_the_digest(client, diary, other_patient, doctor, who):
    if who == "ex_linked_doctor":
        accounts.change_link(link=link(diary, doctor), by=diary, status="ended")
        viewer = doctor
    elif who == "unlinked_doctor":
        viewer = doctor
    elif who == "patient":
        viewer = other_patient
    else:
        viewer = diary
    client.force_login(viewer)
    assert client.get(reverse("diary:patient-digest", args=["alice"])).status_code == 404
    assert client.get(reverse("diary:patient-digest", args=["nobody"])).status_code == 404
    assert not DiaryAccess.objects.exists()


def test_doctor_cannot_read_another_patients_digest(client, diary, other_patient, doctor):
    link(other_patient, doctor)  # linked with bob, not with alice
    client.force_login(doctor)
    assert client.get(reverse("diary:patient-digest", args=["alice"])).status_code == 404
    assert client.get(reverse("diary:patient-digest", args=["bob"])).status_code == 200


def test_anonymous_is_sent_to_sign_in(client, diary):
    for url in (DIGEST, reverse("diary:patient-digest", args=["alice"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_query_count_does_not_grow_with_entries(client, diary, doctor):
    link(diary, doctor)
    client.force_login(doctor)
    url = reverse("diary:patient-digest", args=["alice"]) + "?days=90"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for days_ago in range(60):
        add(diary, "loin" if days_ago % 2 else "back-right", at(days_ago), days_ago % 11)
        services.create_note(owner=diary, title=f"Note {days_ago}", shared=True)
    assert count() == before


def test_a_part_with_one_entry_shows_no_trend_yet(client, patient):
    """Issue #11, bug 4: one reading cannot be "steady"; the page says there is no trend yet."""
    patient.timezone = "Europe/Paris"
    patient.save()
    add(patient, "head", at(3), 4)
    client.force_login(patient)
    html = client.get(DIGEST).content.decode()
    table = html.split('id="part-table"')[1].split("</table>")[0]
    row = table.split('data-body-part="head"')[1].split("</tr>")[0]
    assert "no trend yet" in row
    assert "Only one entry" in row
    assert "steady" not in row
    assert "steady" not in html.split('id="digest-summary"')[1].split("</p>")[0]


def test_a_doctor_reads_the_digest_in_the_patients_zone_and_is_told(client, diary, doctor):
    doctor.timezone = "Asia/Tokyo"
    doctor.save()
    link(diary, doctor)
    note = services.create_note(owner=diary, title="For the visit", shared=True)
    written = at(3, hour=23)  # 23:00 in Paris is 07:00 the next day in Tokyo
    Note.objects.filter(pk=note.pk).update(created_on=written)
    client.force_login(doctor)
    html = client.get(reverse("diary:patient-digest", args=["alice"])).content.decode()
    note = html[html.index('id="zone-note"') :][:400]
    assert "Europe/Paris" in note
    assert "yours is Asia/Tokyo" in note
    # Everything on the page is on the patient's clock, the shared note's time too.
    tokyo = written.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f"{written.day} {written:%b %Y}, 23:00" in html
    assert f"{tokyo.day} {tokyo:%b %Y}, 07:00" not in html
    # The patient's own digest needs no such label.
    client.force_login(diary)
    assert 'id="zone-note"' not in client.get(DIGEST).content.decode()


@pytest.mark.parametrize("as_doctor", [False, True])
def test_an_empty_period_says_so_once(client, patient, doctor, as_doctor):
    # The summary card's sentence and the empty state used to say the same thing twice.
    if as_doctor:
        link(patient, doctor)
        client.force_login(doctor)
        url = reverse("diary:patient-digest", args=[patient.username])
    else:
        client.force_login(patient)
        url = DIGEST
    response = client.get(url + "?days=7")
    html = response.content.decode()
    assert html.count("No pain recorded") == 1
    label = response.context["period_label"]
    title = f'No pain recorded in <span class="text-nowrap">{label}</span>.'
    assert f'<p class="empty-state-title">{title}</p>' in html
    assert 'id="digest-summary"' not in html
    assert 'id="figure-entries"' not in html


def test_a_period_with_entries_has_the_summary_and_no_empty_state(client, patient):
    add(patient, "head", timezone.now() - timedelta(hours=1), 4)
    client.force_login(patient)
    html = client.get(DIGEST + "?days=7").content.decode()
    assert 'id="digest-summary"' in html
    assert '<dd id="figure-entries">1</dd>' in html
    assert 'id="digest-empty"' not in html
    assert "No pain recorded" not in html
