""" "Download everything": /accounts/export/ and GET /api/auth/export/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.exports import EXPORT_FORMAT, account_export
from accounts.models import DELETED_USER, CareLink, DiaryAccess, User
from conftest import make_user, token_client
from diary import services as diary
from diary.models import BodyPart, Note, PainEntry
from messaging.models import Message

pytestmark = pytest.mark.django_db

PAGE = "/accounts/export/"
API = "/api/auth/export/"
# 14:30 UTC on a winter day: 09:30 in New York (-05:00), 23:30 in Tokyo (+09:00).
MOMENT = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)


def link(patient: User, doctor: User) -> CareLink:
    request = services.request_link(patient=patient, doctor=doctor)
    return services.change_link(link=request, by=doctor, status="active")


def entry(owner: User, intensity: int = 5, when: datetime = MOMENT) -> PainEntry:
    made = diary.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name="knee-left"),
        pain_type="burning",
        intensity=intensity,
        description=f"{owner.username} {intensity}",
    )
    PainEntry.objects.filter(pk=made.pk).update(date_recorded=when)
    return made


def message(sender: User, receiver: User, text: str) -> Message:
    made = Message.objects.create(sender=sender, receiver=receiver, text=text)
    Message.objects.filter(pk=made.pk).update(timestamp=MOMENT)
    return made


@pytest.fixture
def alice(patient) -> User:
    patient.first_name, patient.last_name = "Alice", "Liddell"
    patient.timezone = "America/New_York"
    patient.save()
    return patient


@pytest.fixture
def world(alice, other_patient, doctor):
    """Alice and Bob, both patients of the doctor, each with a diary, notes and messages."""
    bob = other_patient
    doctor.timezone = "Asia/Tokyo"
    doctor.save()
    links = {"alice": link(alice, doctor), "bob": link(bob, doctor)}
    entries = {"alice": [entry(alice, 3), entry(alice, 7)], "bob": [entry(bob, 9)]}
    notes = {
        "alice": [diary.create_note(owner=alice, title="private", body="mine only")],
        "bob": [diary.create_note(owner=bob, title="bob's secret", shared=True)],
    }
    messages = [
        message(alice, doctor, "knee hurts"),
        message(doctor, alice, "rest it"),
        message(bob, doctor, "bob writes"),
        message(doctor, bob, "bob is answered"),
    ]
    reads = {
        "alice": DiaryAccess.objects.create(viewer=doctor, patient=alice, what="diary page"),
        "bob": DiaryAccess.objects.create(viewer=doctor, patient=bob, what="bob-digest-page"),
    }
    DiaryAccess.objects.filter(pk__in=[r.pk for r in reads.values()]).update(at=MOMENT)
    return {
        "alice": alice,
        "bob": bob,
        "doctor": doctor,
        "links": links,
        "entries": entries,
        "notes": notes,
        "messages": messages,
        "reads": reads,
    }


def download(user: User) -> tuple[object, dict]:
    client = Client()
    client.force_login(user)
    response = client.get(PAGE)
    return response, json.loads(response.content)


def test_the_export_holds_exactly_her_rows_in_her_time_zone(world):
    alice = world["alice"]
    response, document = download(alice)

    assert response.status_code == 200
    assert document["format"] == EXPORT_FORMAT
    assert document["version"] == 1
    assert document["time_zone"] == "America/New_York"
    exported_at = datetime.fromisoformat(document["exported_at"])
    assert exported_at.utcoffset() == timedelta(hours=-5)
    assert abs(exported_at - timezone.now()) < timedelta(minutes=1)

    assert document["profile"] == {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice@example.com",
        "time_zone": "America/New_York",
        "role": "Patient",
        "preferences": {"digest_emails": True},
        "date_joined": timezone.localtime(
            alice.date_joined, timezone.get_fixed_timezone(-300)
        ).isoformat(timespec="seconds"),
        "last_login": timezone.localtime(
            User.objects.get(pk=alice.pk).last_login, timezone.get_fixed_timezone(-300)
        ).isoformat(timespec="seconds"),
    }

    entries = document["pain_entries"]
    assert [e["id"] for e in entries] == [e.pk for e in world["entries"]["alice"]]
    assert entries[0]["date_recorded"] == "2026-01-15T09:30:00-05:00"
    assert entries[0]["body_part"] == "knee-left"
    assert entries[0]["body_part_label"] == BodyPart.objects.get(name="knee-left").label
    assert (entries[0]["pain_type"], entries[0]["intensity"]) == ("burning", 3)
    assert entries[0]["description"] == "alice 3"

    assert [n["id"] for n in document["notes"]] == [n.pk for n in world["notes"]["alice"]]
    assert document["notes"][0]["body"] == "mine only"
    assert document["notes"][0]["shared"] is False

    assert [(m["direction"], m["peer"], m["text"]) for m in document["messages"]] == [
        ("sent", "drwho", "knee hurts"),
        ("received", "drwho", "rest it"),
    ]
    assert document["messages"][0]["timestamp"] == "2026-01-15T09:30:00-05:00"

    assert document["care_links"] == [
        {
            "id": world["links"]["alice"].pk,
            "my_role": "patient",
            "peer": "drwho",
            "status": "active",
            "created": document["care_links"][0]["created"],
            "responded": document["care_links"][0]["responded"],
            "ended": None,
        }
    ]
    assert document["care_links"][0]["created"].endswith("-05:00")

    assert document["access_log"] == {
        "reads_of_my_data": [
            {"at": "2026-01-15T09:30:00-05:00", "viewer": "drwho", "what": "diary page"}
        ],
        "my_reads_of_others_data": [],
    }


def test_nothing_of_anyone_else_is_in_it(world):
    _, document = download(world["alice"])
    text = json.dumps(document)
    for foreign in ("bob", "bob's secret", "bob writes", "bob is answered", "bob-digest-page"):
        assert foreign not in text


def test_a_doctors_export_labels_the_reads_they_made_and_holds_no_patient_diary(world):
    _, document = download(world["doctor"])
    assert document["time_zone"] == "Asia/Tokyo"
    assert document["profile"]["role"] == "Doctor"
    assert document["pain_entries"] == []
    assert document["notes"] == []
    assert document["access_log"]["reads_of_my_data"] == []
    assert document["access_log"]["my_reads_of_others_data"] == [
        {"at": "2026-01-15T23:30:00+09:00", "patient": "alice", "what": "diary page"},
        {"at": "2026-01-15T23:30:00+09:00", "patient": "bob", "what": "bob-digest-page"},
    ]
    assert [(link_["my_role"], link_["peer"]) for link_ in document["care_links"]] == [
        ("doctor", "alice"),
        ("doctor", "bob"),
    ]
    assert len(document["messages"]) == 4
    assert {m["peer"] for m in document["messages"]} == {"alice", "bob"}


def test_a_deleted_peer_is_a_deleted_user_in_the_export(world):
    services.delete_account(user=world["alice"])
    _, document = download(world["doctor"])
    assert [m["peer"] for m in document["messages"]] == [DELETED_USER, "bob", "bob"]
    assert document["care_links"][0]["peer"] == DELETED_USER
    assert document["care_links"][0]["status"] == "ended"
    # The reads of her diary went with her account (the log about her is hers).
    assert [r["patient"] for r in document["access_log"]["my_reads_of_others_data"]] == ["bob"]


def test_the_site_zone_when_none_is_chosen(other_patient, settings):
    settings.TIME_ZONE = "Europe/Paris"
    entry(other_patient)
    document = account_export(other_patient)
    assert document["time_zone"] == "Europe/Paris"
    assert document["profile"]["time_zone"] == ""
    assert document["pain_entries"][0]["date_recorded"] == "2026-01-15T15:30:00+01:00"


def test_the_page_is_a_dated_attachment_that_is_never_cached(world):
    response, _ = download(world["alice"])
    today = timezone.now().astimezone(timezone.get_fixed_timezone(-300)).date()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="painmap-alice-account-{today.isoformat()}.json"'
    )
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_is_get_only(alice, client):
    client.force_login(alice)
    assert client.post(PAGE).status_code == 405


def test_the_api_gives_the_same_document(world):
    api = token_client(world["alice"])
    response = api.get(API)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="painmap-alice-')
    document = json.loads(response.content)
    _, from_page = download(world["alice"])
    for whole in (document, from_page):
        whole.pop("exported_at")
        whole["profile"].pop("last_login")  # the page's sign-in sets it
    assert document == from_page


def test_the_api_needs_a_token(api_client):
    response = api_client.get(API)
    assert response.status_code == 401
    assert "error" in response.json()


def test_nobody_exports_someone_else(world):
    """There is no parameter naming whose export: a user always gets their own."""
    api = token_client(world["bob"])
    for query in ("?username=alice", "?patient=alice", "?user=1"):
        document = json.loads(api.get(API + query).content)
        assert document["profile"]["username"] == "bob"
        assert "alice" not in json.dumps(document["pain_entries"])


def _add_rows(world, how_many: int) -> None:
    alice, doctor = world["alice"], world["doctor"]
    for number in range(how_many):
        entry(alice, number % 11)
        diary.create_note(owner=alice, title=f"note {number}")
        message(alice, doctor, f"hello {number}")
        message(doctor, alice, f"answer {number}")
        DiaryAccess.objects.create(viewer=doctor, patient=alice, what="diary page")
        DiaryAccess.objects.create(viewer=alice, patient=world["bob"], what="odd but possible")
        other = make_user(f"dr{number}", role="doctor")
        CareLink.objects.create(patient=alice, doctor=other, status=CareLink.Status.DECLINED)


def test_the_number_of_queries_does_not_grow_with_the_data(world, django_assert_max_num_queries):
    client = Client()
    client.force_login(world["alice"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(PAGE).status_code == 200
    _add_rows(world, 15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(PAGE)
    document = json.loads(response.content)
    assert len(document["pain_entries"]) == 17
    assert len(document["messages"]) == 32
    assert len(document["care_links"]) == 16
    assert len(document["access_log"]["my_reads_of_others_data"]) == 15


def test_the_api_number_of_queries_does_not_grow_with_the_data(
    world, django_assert_max_num_queries
):
    api = token_client(world["alice"])
    with CaptureQueriesContext(connection) as small:
        assert api.get(API).status_code == 200
    _add_rows(world, 15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get(API).status_code == 200


def test_notes_and_entries_are_oldest_first(alice):
    later = entry(alice, 1, MOMENT + timedelta(days=1))
    earlier = entry(alice, 2, MOMENT)
    first = diary.create_note(owner=alice, title="first")
    second = diary.create_note(owner=alice, title="second")
    Note.objects.filter(pk=first.pk).update(last_modified=MOMENT + timedelta(days=3))
    document = account_export(alice)
    assert [e["id"] for e in document["pain_entries"]] == [earlier.pk, later.pk]
    assert [n["id"] for n in document["notes"]] == [first.pk, second.pk]
