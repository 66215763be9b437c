"""Admin pages showing diary data or messages write to the access log (issue #10, finding 4)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import DiaryAccess, User
from conftest import PASSWORD, make_user
from diary import services as diary_services
from diary.models import BodyPart, Note, PainEntry
from messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def _entries(owner: User, count: int) -> list[PainEntry]:
    part = BodyPart.objects.get(name="knee-left")
    return [
        diary_services.record_pain(owner=owner, body_part=part, pain_type="burning", intensity=3)
        for _ in range(count)
    ]


def _inserts(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("INSERT") and DiaryAccess._meta.db_table in q["sql"]
    ]


def test_entry_list_logs_one_row_per_patient_in_one_insert(admin_client, superuser):
    people = [make_user(f"patient{n}") for n in range(5)]
    for person in people:
        _entries(person, 20)
    _entries(superuser, 2)  # the admin's own entries are no one else's read
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/diary/painentry/")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 100
    assert len(_inserts(queries)) == 1
    reads = DiaryAccess.objects.filter(viewer=superuser)
    shown = {entry.owner_id for entry in response.context["cl"].result_list}
    assert sorted(reads.values_list("patient_id", flat=True)) == sorted(shown - {superuser.pk})
    assert set(reads.values_list("what", flat=True)) == {"administrator: pain entries"}


def test_entry_change_page_is_logged(admin_client, superuser, patient):
    entry = _entries(patient, 1)[0]
    response = admin_client.get(f"/admin/diary/painentry/{entry.pk}/change/")
    assert response.status_code == 200
    read = DiaryAccess.objects.get()
    assert (read.viewer, read.patient, read.what) == (
        superuser,
        patient,
        "administrator: pain entries",
    )


def test_note_pages_are_logged(admin_client, superuser, patient):
    note = diary_services.create_note(owner=patient, title="Private thoughts", body="secret")
    admin_client.get("/admin/diary/note/")
    admin_client.get(f"/admin/diary/note/{note.pk}/change/")
    admin_client.get(f"/admin/diary/note/{note.pk}/history/")
    admin_client.get(f"/admin/diary/note/{note.pk}/delete/")
    reads = DiaryAccess.objects.filter(patient=patient, viewer=superuser)
    assert list(reads.values_list("what", flat=True)) == ["administrator: notes"] * 4
    assert Note.objects.filter(pk=note.pk).exists()


def test_message_pages_are_logged_for_both_people(admin_client, superuser, patient, doctor):
    message = Message.objects.create(sender=patient, receiver=doctor, text="hello doctor")
    admin_client.get("/admin/messaging/message/")
    admin_client.get(f"/admin/messaging/message/{message.pk}/change/")
    for person in (patient, doctor):
        reads = DiaryAccess.objects.filter(patient=person, viewer=superuser)
        assert list(reads.values_list("what", flat=True)) == ["administrator: chat messages"] * 2


def test_an_empty_list_or_a_save_logs_nothing_extra(admin_client, superuser, patient):
    admin_client.get("/admin/diary/painentry/")
    assert not DiaryAccess.objects.exists()
    note = diary_services.create_note(owner=patient, title="t")
    admin_client.post(
        f"/admin/diary/note/{note.pk}/change/", {"owner": patient.pk, "title": "t2", "body": ""}
    )
    # The POST redirected (saved) and showed nothing: no read. The form page before it would be.
    assert not DiaryAccess.objects.exists()


def test_patient_sees_the_admin_read_as_administrator(admin_client, superuser, patient, client):
    superuser.first_name, superuser.last_name = "Ada", "Admin"
    superuser.save()
    diary_services.create_note(owner=patient, title="Private thoughts")
    admin_client.get("/admin/diary/note/")
    client.force_login(patient)
    page = client.get("/accounts/access-log/").content.decode()
    assert "administrator Ada Admin" in page
    assert "@root" in page
    assert ">notes<" in page


def test_delete_selected_confirmation_is_logged(admin_client, superuser, patient, other_patient):
    entries = _entries(patient, 2) + _entries(other_patient, 1)
    response = admin_client.post(
        "/admin/diary/painentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk for entry in entries]},
    )
    assert response.status_code == 200  # the confirmation page, nothing deleted yet
    assert PainEntry.objects.count() == 3
    assert sorted(DiaryAccess.objects.values_list("patient__username", flat=True)) == [
        "alice",
        "bob",
    ]
