"""Doctors' pages: "My patients" and a linked patient's diary, read-only and logged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import DiaryAccess
from conftest import make_user
from diary import services
from diary.models import BodyPart, PainEntry

pytestmark = pytest.mark.django_db


def link(patient, doctor):
    request = accounts.request_link(patient=patient, doctor=doctor)
    return accounts.change_link(link=request, by=doctor, status="active")


def record(owner, part, intensity, days_ago=0.0):
    entry = services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type="burning",
        intensity=intensity,
    )
    PainEntry.objects.filter(pk=entry.pk).update(
        date_recorded=timezone.now() - timedelta(days=days_ago)
    )
    return entry


def test_my_patients_sorted_by_attention(client, patient, other_patient, doctor):
    calm = make_user("carol")
    for someone in (patient, other_patient, calm):
        link(someone, doctor)
    record(patient, "knee-left", 4, days_ago=10)
    record(patient, "knee-left", 8, days_ago=1)  # rising, worst 8
    record(other_patient, "head", 9, days_ago=2)  # worst 9: first
    client.force_login(doctor)
    response = client.get(reverse("diary:patients"))
    assert response.status_code == 200
    rows = [row.patient.username for row in response.context["rows"]]
    assert rows == ["bob", "alice", "carol"]
    alice = response.context["rows"][1]
    assert (alice.recent_max, alice.trend) == (8, 4.0)
    assert "no entries yet" in response.content.decode()


def test_my_patients_lists_only_active_links(client, patient, other_patient, doctor):
    link(patient, doctor)
    accounts.request_link(patient=other_patient, doctor=doctor)  # still pending
    client.force_login(doctor)
    rows = client.get(reverse("diary:patients")).context["rows"]
    assert [row.patient.username for row in rows] == ["alice"]


def test_my_patients_is_for_doctors(client, patient):
    client.force_login(patient)
    assert client.get(reverse("diary:patients")).status_code == 404


def test_linked_doctor_reads_the_diary_and_it_is_logged(client, patient, doctor):
    link(patient, doctor)
    record(patient, "knee-left", 7)
    services.create_note(owner=patient, title="Shared note", shared=True)
    services.create_note(owner=patient, title="Private note")
    client.force_login(doctor)
    response = client.get(reverse("diary:patient-diary", args=["alice"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "read-only" in html
    assert "level-7" in html  # the map is coloured by the patient's pain
    assert "Shared note" in html
    assert "Private note" not in html
    assert "/diary/entries/" not in html  # no edit or delete links
    assert 'role="button"' not in html
    assert list(DiaryAccess.objects.values_list("viewer__username", "what")) == [
        ("drwho", "diary page")
    ]


@pytest.mark.parametrize("who", ["unlinked_doctor", "ex_linked_doctor", "patient", "self"])
def test_nobody_else_reads_the_diary(client, patient, other_patient, doctor, who):
    if who == "ex_linked_doctor":
        accounts.change_link(link=link(patient, doctor), by=patient, status="ended")
        viewer = doctor
    elif who == "unlinked_doctor":
        viewer = doctor
    elif who == "patient":
        viewer = other_patient
    else:
        viewer = patient
    client.force_login(viewer)
    assert client.get(reverse("diary:patient-diary", args=["alice"])).status_code == 404
    assert client.get(reverse("diary:patient-diary", args=["nobody"])).status_code == 404
    assert not DiaryAccess.objects.exists()


def test_shared_checkbox_on_notes(client, patient):
    client.force_login(patient)
    client.post(reverse("diary:note-new"), {"title": "For the doctor", "shared": "on"})
    client.post(reverse("diary:note-new"), {"title": "Mine"})
    assert dict(patient.notes.values_list("title", "shared")) == {
        "For the doctor": True,
        "Mine": False,
    }
    page = client.get(reverse("diary:notes")).content.decode()
    assert "shared with my doctors" in page


def test_my_patients_is_written_to_each_listed_patients_access_log(
    client, patient, other_patient, doctor
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    link(patient, doctor)
    link(other_patient, doctor)
    declined = make_user("carol")
    accounts.change_link(
        link=accounts.request_link(patient=declined, doctor=doctor), by=doctor, status="declined"
    )
    client.force_login(doctor)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("diary:patients")).status_code == 200
    reads = DiaryAccess.objects.filter(viewer=doctor)
    assert sorted(reads.values_list("patient__username", "what")) == [
        ("alice", "patient list"),
        ("bob", "patient list"),
    ]
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len([q for q in inserts if DiaryAccess._meta.db_table in q["sql"]]) == 1
    client.force_login(patient)
    assert "patient list" in client.get(reverse("access_log")).content.decode()


# --- the read-only diary as the doctor reads it (issue #11, bug 5) --------------------------------


def test_shared_notes_come_before_the_entries(client, patient, doctor):
    link(patient, doctor)
    for days_ago in range(20):
        record(patient, "knee-left", 5, days_ago=days_ago)
    services.create_note(owner=patient, title="Ask about the new pills", shared=True)
    client.force_login(doctor)
    html = client.get(reverse("diary:patient-diary", args=["alice"])).content.decode()
    assert "Ask about the new pills" in html
    assert html.index('id="shared-notes-heading"') < html.index('id="entry-list"')
    assert html.index("Ask about the new pills") < html.index('class="entry"')


def test_times_are_in_the_patients_zone_and_labelled(client, patient, doctor):
    patient.timezone = "America/New_York"
    patient.save()
    doctor.timezone = "Asia/Tokyo"
    doctor.save()
    link(patient, doctor)
    entry = record(patient, "head", 6)
    # 03:30 UTC on 15 January: 22:30 on the 14th in New York, 12:30 on the 15th in Tokyo.
    moment = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)
    PainEntry.objects.filter(pk=entry.pk).update(date_recorded=moment)
    client.force_login(doctor)
    html = client.get(reverse("diary:patient-diary", args=["alice"])).content.decode()
    assert ">22:30</time>" in html
    assert ">12:30</time>" not in html  # (the zone note's clock may read 12:30 by chance)
    assert ">Wed 14 Jan" in html  # the patient's day, not the doctor's 15th
    note = html[html.index('id="zone-note"') :][:600]
    assert "America/New_York" in note
    assert "yours is Asia/Tokyo" in note
    # No template comment leaks as text.
    assert "{#" not in html
    assert "{% comment" not in html


def test_a_patient_without_a_zone_is_labelled_with_the_sites(client, patient, doctor, settings):
    link(patient, doctor)
    client.force_login(doctor)
    html = client.get(reverse("diary:patient-diary", args=["alice"])).content.decode()
    note = html[html.index('id="zone-note"') :][:600]
    assert settings.TIME_ZONE in note
    assert "yours is" not in note  # same zone: nothing to compare


def test_the_chat_buttons_look_like_actions(client, patient, doctor):
    link(patient, doctor)
    client.force_login(doctor)
    chat = reverse("chat", args=["alice"])
    for page in (reverse("diary:patients"), reverse("diary:patient-diary", args=["alice"])):
        html = client.get(page).content.decode()
        tag = html[: html.index(f'href="{chat}"')].rsplit("<a ", 1)[1]
        assert "btn-primary" in tag
        assert "btn-outline-secondary" not in tag


def test_reloading_my_patients_logs_each_patient_once_an_hour(client, patient, doctor):
    link(patient, doctor)
    client.force_login(doctor)
    for _ in range(3):
        assert client.get(reverse("diary:patients")).status_code == 200
    reads = DiaryAccess.objects.filter(viewer=doctor, patient=patient, what="patient list")
    assert reads.count() == 1  # the doctor's landing page, reloaded: one row, not three
    reads.update(at=reads.get().at - timedelta(hours=1, minutes=1))
    assert client.get(reverse("diary:patients")).status_code == 200
    assert reads.count() == 2  # an hour later the list is a new look


def test_my_patients_empty_state_leads_to_the_requests(client, doctor, patient):
    accounts.request_link(patient=patient, doctor=doctor)  # pending: not a patient yet
    client.force_login(doctor)
    html = client.get(reverse("diary:patients")).content.decode()
    assert 'id="patient-list"' not in html
    empty = html.split('id="patient-list-empty"')[1].split("</div>")[0]
    assert '<p class="empty-state-title">No patients yet.</p>' in empty
    assert f'<a class="btn btn-primary btn-sm" href="{reverse("care_team")}">' in empty
    assert "@alice" not in html


def test_my_patients_actions_are_one_group_per_row(client, doctor, patient):
    link(patient, doctor)
    client.force_login(doctor)
    html = client.get(reverse("diary:patients")).content.decode()
    row = html.split('data-patient="alice"')[1].split("</tr>")[0]
    group = row.split('<div class="patient-actions ')[1].split("</div>")[0]
    assert re.findall(r">(\w+)</a>", group) == ["Brief", "Diary", "Digest", "Chat"]
