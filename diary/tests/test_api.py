from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import token_client
from diary import services
from diary.bodymap import BODY_PARTS
from diary.models import BodyPart, Note, PainEntry
from diary.serializers import StatSerializer, stats_as_json

pytestmark = pytest.mark.django_db

STATS = "/api/diary/stats/"
NOTES = "/api/diary/notes/"
PARTS = "/api/diary/bodyparts/"


@pytest.fixture
def bob_api(other_patient):
    return token_client(other_patient)


def record(owner, part="knee-left", intensity=5, **extra):
    return services.record_pain(
        owner=owner,
        body_part=BodyPart.objects.get(name=part),
        pain_type=extra.pop("pain_type", "burning"),
        intensity=intensity,
        **extra,
    )


def raw(client, method, url, body: str):
    return client.generic(method, url, body, content_type="application/json")


# Body parts ---------------------------------------------------------------------------------


def test_body_parts(patient_api):
    response = patient_api.get(PARTS)
    assert response.status_code == 200
    parts = response.json()
    assert len(parts) == 44
    assert parts[0] == {"id": 1, "name": "head", "label": "Top of the head", "view": "front"}
    assert parts[43]["name"] == "back-left"


def test_body_parts_are_read_and_serialized_once_per_process(
    patient_api, django_assert_num_queries
):
    first = patient_api.get(PARTS)
    with django_assert_num_queries(0):  # the token's user is cached; the parts in memory
        again = patient_api.get(PARTS)
    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    assert again.json() == [
        {"id": pk, "name": name, "label": label, "view": view}
        for pk, name, label, view in BODY_PARTS
    ]


@pytest.mark.parametrize("url", [PARTS, NOTES, STATS])
def test_every_route_needs_a_token(api_client, url):
    assert api_client.get(url).status_code == 401
    assert api_client.post(url, {}).status_code == 401


# Stats --------------------------------------------------------------------------------------


def test_create_stat(patient_api, patient):
    response = patient_api.post(
        STATS, {"body_part": 21, "pain_type": "stabbing", "intensity": 7, "description": "stairs"}
    )
    assert response.status_code == 201
    body = response.json()
    entry = PainEntry.objects.get()
    assert entry.owner == patient
    assert body["id"] == entry.pk
    assert body["body_part"] == 21
    assert (body["pain_type"], body["intensity"], body["description"]) == ("stabbing", 7, "stairs")
    assert set(body) == {
        "id",
        "body_part",
        "pain_type",
        "intensity",
        "description",
        "date_recorded",
        "factors",
        "last_modified",
    }
    # A client that knows nothing of factors gets an entry without any.
    assert body["factors"] == []
    assert entry.factors == []


def test_create_stat_in_the_past(patient_api):
    when = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    response = patient_api.post(
        STATS,
        {"body_part": 1, "pain_type": "cutting", "intensity": 3, "date_recorded": when.isoformat()},
    )
    assert response.status_code == 201
    assert PainEntry.objects.get().date_recorded == when


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pain_type": "itching"}, "pain_type"),
        ({"intensity": 11}, "intensity"),
        ({"intensity": -1}, "intensity"),
        ({"intensity": 5.5}, "intensity"),
        ({"intensity": "high"}, "intensity"),
        ({"intensity": 10**30}, "intensity"),
        ({"intensity": None}, "intensity"),
        ({"body_part": 45}, "body_part"),
        ({"body_part": 0}, "body_part"),
        ({"body_part": 10**30}, "body_part"),
        ({"body_part": "knee"}, "body_part"),
        ({"body_part": True}, "body_part"),
        ({"body_part": [1]}, "body_part"),
        ({"description": "nul\x00"}, "description"),
        ({"description": "x" * 10_000}, "description"),
        ({"description": {"a": 1}}, "description"),
        ({"description": 5}, "description"),
        ({"pain_type": 1}, "pain_type"),
        ({"date_recorded": "2999-01-01T00:00:00Z"}, "date_recorded"),
        ({"date_recorded": "yesterday"}, "date_recorded"),
    ],
)
def test_create_stat_bad_input(patient_api, payload, field):
    data = {"body_part": 21, "pain_type": "burning", "intensity": 5, **payload}
    response = patient_api.post(STATS, data)
    assert response.status_code == 400
    assert field in response.json()
    assert not PainEntry.objects.exists()


@pytest.mark.parametrize("body", ["", "{", "[]", "null", '"text"', "1e999", '{"\\ud800": 1}'])
def test_create_stat_malformed_bodies(patient_api, body):
    response = raw(patient_api, "POST", STATS, body)
    assert response.status_code == 400
    assert not PainEntry.objects.exists()


def test_lone_surrogate_in_raw_json_is_refused(patient_api):
    body = '{"body_part": 21, "pain_type": "burning", "intensity": 5, "description": "\\udc00"}'
    response = raw(patient_api, "POST", STATS, body)
    assert response.status_code == 400
    assert not PainEntry.objects.exists()


def test_list_stats_only_mine(patient_api, patient, other_patient):
    mine = [record(patient, intensity=i) for i in range(3)]
    record(other_patient, intensity=9)
    response = patient_api.get(STATS)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [entry.pk for entry in reversed(mine)]


def test_fast_list_matches_the_serializer(patient):
    record(patient, description="a")
    record(patient, part="head", date_recorded=timezone.now() - timedelta(days=1))
    entries = list(PainEntry.objects.for_user(patient))
    assert stats_as_json(entries) == StatSerializer(entries, many=True).data


def test_list_runs_a_constant_number_of_queries(patient_api, patient):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert patient_api.get(STATS).status_code == 200
        return len(queries)

    record(patient)
    patient_api.get(PARTS)  # the token's user is cached from here on (not the list)
    few = count_queries()
    for index in range(30):
        record(patient, part=BodyPart.objects.get(pk=index % 44 + 1).name)
    assert count_queries() == few
    assert few <= 2  # the list's version, the entries (once per version); the token cached


def test_list_answers_304_to_its_etag_and_changes_with_every_write(patient_api, patient):
    entry = record(patient, intensity=3)
    first = patient_api.get(STATS)
    etag = first["ETag"]
    assert patient_api.get(STATS, HTTP_IF_NONE_MATCH=etag).status_code == 304
    seen = {etag}
    for change in (
        lambda: record(patient, part="head"),  # insert
        lambda: services.update_pain_entry(entry=entry, intensity=9),  # update
        lambda: services.delete_pain_entry(entry=entry),  # delete
    ):
        change()
        response = patient_api.get(STATS, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] not in seen
        seen.add(response["ETag"])
        etag = response["ETag"]
    assert [row["body_part"] for row in response.json()] == [1]


def test_cached_lists_are_per_patient(patient_api, patient, other_patient):
    record(patient)
    record(other_patient, part="head")
    assert [row["body_part"] for row in patient_api.get(STATS).json()] == [21]
    bob = token_client(other_patient).get(STATS).json()
    assert [row["body_part"] for row in bob] == [1]


def test_update_stat(patient_api, patient):
    entry = record(patient, description="keep me")
    response = patient_api.patch(STATS, {"stat_pk": entry.pk, "intensity": 9})
    assert response.status_code == 200
    assert response.json()["intensity"] == 9
    entry.refresh_from_db()
    assert (entry.intensity, entry.description, entry.body_part.name) == (9, "keep me", "knee-left")


@pytest.mark.parametrize(
    "payload",
    [{"intensity": 12}, {"pain_type": "x"}, {"body_part": 99}, {}, {"stat_pk": "abc"}],
)
def test_update_stat_bad_input(patient_api, patient, payload):
    entry = record(patient)
    data = {"stat_pk": entry.pk, **payload} if "stat_pk" not in payload else payload
    if payload == {}:
        data = {"intensity": 3}  # no stat_pk at all
    response = patient_api.patch(STATS, data)
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.intensity == 5


def test_cannot_touch_another_users_stat(bob_api, patient):
    entry = record(patient)
    for method in ("patch", "delete"):
        response = getattr(bob_api, method)(STATS, {"stat_pk": entry.pk, "intensity": 1})
        assert response.status_code == 404
        assert response.json() == {"error": "Stat not found"}
    assert bob_api.get(STATS).json() == []
    entry.refresh_from_db()
    assert entry.intensity == 5


def test_unknown_stat(patient_api):
    response = patient_api.delete(STATS, {"stat_pk": 123456})
    assert response.status_code == 404
    assert response.json() == {"error": "Stat not found"}


def test_delete_stat(patient_api, patient):
    entry = record(patient)
    assert patient_api.delete(STATS, {"stat_pk": entry.pk}).status_code == 204
    assert not PainEntry.objects.exists()


def test_delete_stat_with_query_parameter(patient_api, patient):
    entry = record(patient)
    assert patient_api.delete(f"{STATS}?stat_pk={entry.pk}").status_code == 204
    assert not PainEntry.objects.exists()


# Notes --------------------------------------------------------------------------------------


def test_note_lifecycle(patient_api, patient):
    created = patient_api.post(NOTES, {"title": "Sleep", "body": "Woke at 3"})
    assert created.status_code == 201
    note = created.json()
    assert set(note) == {"id", "title", "body", "shared", "created_on", "last_modified"}
    assert note["shared"] is False
    assert patient_api.get(NOTES).json() == [note]

    changed = patient_api.patch(NOTES, {"note_pk": note["id"], "title": "Sleep log"})
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["body"]) == ("Sleep log", "Woke at 3")

    assert patient_api.delete(NOTES, {"note_pk": note["id"]}).status_code == 204
    assert patient_api.get(NOTES).json() == []


def test_note_without_body(patient_api):
    response = patient_api.post(NOTES, {"title": "Only a title"})
    assert response.status_code == 201
    assert response.json()["body"] == ""


@pytest.mark.parametrize(
    "payload",
    [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 256}, {"title": "a\x00"}, {"title": [1]}],
)
def test_note_bad_input(patient_api, payload):
    response = patient_api.post(NOTES, payload)
    assert response.status_code == 400
    assert "title" in response.json()
    assert not Note.objects.exists()


@pytest.mark.parametrize("shared", [0, 1, "yes", None])
def test_note_shared_must_be_a_boolean(patient_api, shared):
    response = patient_api.post(NOTES, {"title": "ok", "shared": shared})
    assert response.status_code == 400
    assert "shared" in response.json()
    assert not Note.objects.exists()


def test_note_body_must_be_text(patient_api):
    response = patient_api.post(NOTES, {"title": "ok", "body": 0})
    assert response.status_code == 400
    assert "body" in response.json()
    assert not Note.objects.exists()


def test_note_update_blank_title_is_refused(patient_api, patient):
    note = services.create_note(owner=patient, title="Keep")
    response = patient_api.patch(NOTES, {"note_pk": note.pk, "title": " "})
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.title == "Keep"


def test_cannot_touch_another_users_note(bob_api, patient):
    note = services.create_note(owner=patient, title="Private")
    for method in ("patch", "delete"):
        response = getattr(bob_api, method)(NOTES, {"note_pk": note.pk, "title": "mine"})
        assert response.status_code == 404
        assert response.json() == {"error": "Note not found"}
    assert bob_api.get(NOTES).json() == []
    note.refresh_from_db()
    assert note.title == "Private"


@pytest.mark.parametrize("payload", [{}, {"note_pk": "x"}, {"note_pk": 10**30}, {"note_pk": -3}])
def test_note_delete_bad_pk(patient_api, payload):
    response = raw(patient_api, "DELETE", NOTES, json.dumps(payload))
    assert response.status_code == 400
    assert "note_pk" in response.json()


def test_notes_list_constant_queries(patient_api, patient):
    services.create_note(owner=patient, title="one")
    patient_api.get(PARTS)  # the token's user is cached from here on
    with CaptureQueriesContext(connection) as few:
        patient_api.get(NOTES)
    for index in range(20):
        services.create_note(owner=patient, title=f"n{index}")
    with CaptureQueriesContext(connection) as many:
        assert len(patient_api.get(NOTES).json()) == 21
    assert len(many) == len(few)


# A linked doctor reading a patient's diary ------------------------------------------------


@pytest.fixture
def linked_doctor(patient, doctor):
    from accounts import services as accounts

    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    return doctor


def test_linked_doctor_reads_entries_and_shared_notes(patient, linked_doctor):
    from accounts.models import DiaryAccess

    entry = record(patient)
    services.create_note(owner=patient, title="For my doctor", shared=True)
    services.create_note(owner=patient, title="Private")
    api = token_client(linked_doctor)
    stats = api.get(STATS, {"patient": "alice"})
    assert stats.status_code == 200
    assert [row["id"] for row in stats.json()] == [entry.pk]
    notes = api.get(NOTES, {"patient": "alice"})
    assert [note["title"] for note in notes.json()] == ["For my doctor"]
    reads = list(DiaryAccess.objects.values_list("viewer__username", "patient__username", "what"))
    assert sorted(reads) == [
        ("drwho", "alice", "pain entries (API)"),
        ("drwho", "alice", "shared notes (API)"),
    ]
    # The doctor's own writes stay the doctor's: ?patient= never writes into a patient's diary.
    api.post(f"{STATS}?patient=alice", {"body_part": 1, "pain_type": "burning", "intensity": 1})
    assert PainEntry.objects.filter(owner=patient).count() == 1


@pytest.mark.parametrize("who", ["other_patient", "unlinked_doctor", "ex_linked_doctor"])
def test_others_get_404_for_a_patients_diary(patient, other_patient, linked_doctor, who):
    from accounts import services as accounts
    from accounts.models import CareLink, DiaryAccess
    from conftest import make_user

    record(patient)
    if who == "other_patient":
        viewer = other_patient
    elif who == "unlinked_doctor":
        viewer = make_user("house", "doctor")
    else:
        viewer = linked_doctor
        accounts.change_link(link=CareLink.objects.get(), by=patient, status="ended")
    api = token_client(viewer)
    for url in (STATS, NOTES):
        response = api.get(url, {"patient": "alice"})
        assert response.status_code == 404
        assert response.json() == {"error": "Patient not found"}
    # No hint that a patient exists: an unknown name answers the same.
    assert api.get(STATS, {"patient": "nobody"}).json() == {"error": "Patient not found"}
    assert not DiaryAccess.objects.exists()
