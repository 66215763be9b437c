"""client_id: a recording sent twice (the offline outbox retrying, an API client that lost the
answer) is stored once, by the API and by the page's forms alike."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import token_client
from diary import services
from diary.models import BodyPart, Note, PainEntry

pytestmark = pytest.mark.django_db

STATS = "/api/diary/stats/"
NOTES = "/api/diary/notes/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def stat(client_id: str | None = None, **extra) -> dict:
    body = {"body_part": 21, "pain_type": "stabbing", "intensity": 7, **extra}
    if client_id is not None:
        body["client_id"] = client_id
    return body


# The API -------------------------------------------------------------------------------------


def test_a_repeat_answers_200_with_the_stored_entry(patient_api, patient):
    client_id = str(uuid.uuid4())
    first = patient_api.post(STATS, stat(client_id, description="stairs"))
    assert first.status_code == 201
    # The resend differs (a client bug or a later edit): the stored entry wins, nothing changes.
    again = patient_api.post(STATS, stat(client_id, description="other", intensity=2))
    assert again.status_code == 200
    assert again.json() == first.json()
    entry = PainEntry.objects.get()
    assert (entry.client_id, entry.description, entry.intensity) == (
        uuid.UUID(client_id),
        "stairs",
        7,
    )
    assert "client_id" not in first.json()  # the answer's shape is unchanged


def test_without_client_id_every_post_is_a_new_entry(patient_api):
    assert patient_api.post(STATS, stat()).status_code == 201
    assert patient_api.post(STATS, stat()).status_code == 201
    assert PainEntry.objects.count() == 2
    assert not PainEntry.objects.filter(client_id__isnull=False).exists()


def test_another_users_same_client_id_is_independent(patient_api, patient, other_patient):
    client_id = str(uuid.uuid4())
    mine = patient_api.post(STATS, stat(client_id))
    theirs = token_client(other_patient).post(STATS, stat(client_id, intensity=3))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["intensity"] == 3
    assert PainEntry.objects.filter(owner=other_patient, client_id=client_id).count() == 1
    # and neither sees the other's through a repeat
    again = token_client(other_patient).post(STATS, stat(client_id))
    assert (again.status_code, again.json()["id"]) == (200, theirs.json()["id"])


@pytest.mark.parametrize("bad", ["not-a-uuid", "", 12, ["a"], "0" * 40])
def test_a_bad_client_id_is_a_400_naming_it(patient_api, bad):
    response = patient_api.post(STATS, {**stat(), "client_id": bad}, format="json")
    assert response.status_code == 400
    assert "client_id" in response.json()
    assert "UUID" in " ".join(response.json()["client_id"])
    assert not PainEntry.objects.exists()


def test_bad_input_with_a_client_id_stores_nothing_and_can_be_corrected(patient_api):
    client_id = str(uuid.uuid4())
    assert patient_api.post(STATS, stat(client_id, intensity=11)).status_code == 400
    assert not PainEntry.objects.exists()
    assert patient_api.post(STATS, stat(client_id)).status_code == 201


def test_patch_takes_no_client_id(patient_api):
    entry_id = patient_api.post(STATS, stat()).json()["id"]
    response = patient_api.patch(STATS, {"stat_pk": entry_id, "client_id": str(uuid.uuid4())})
    assert response.status_code == 200  # an unknown field is ignored, as before
    assert PainEntry.objects.get().client_id is None


def test_notes_repeat_answers_200_with_the_stored_note(patient_api, other_patient):
    client_id = str(uuid.uuid4())
    first = patient_api.post(NOTES, {"title": "Slept badly", "client_id": client_id})
    again = patient_api.post(NOTES, {"title": "Slept badly", "client_id": client_id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Note.objects.count() == 1
    theirs = token_client(other_patient).post(NOTES, {"title": "x", "client_id": client_id})
    assert theirs.status_code == 201
    bad = patient_api.post(NOTES, {"title": "y", "client_id": "nope"})
    assert bad.status_code == 400
    assert "client_id" in bad.json()


@pytest.mark.django_db(transaction=True)
def test_two_racing_sends_store_one_entry(patient):
    """The constraint settles a race the first look-up cannot see (two processes at once)."""
    # An earlier transactional test may have flushed the data migration's parts.
    part, _ = BodyPart.objects.get_or_create(
        name="knee-left", defaults={"id": 21, "label": "Left knee", "view": "front"}
    )
    client_id = uuid.uuid4()
    results: list[services.Recorded] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        barrier.wait()
        try:
            results.append(
                services.record_pain_once(
                    owner=patient,
                    client_id=client_id,
                    body_parts=[part],
                    pain_type="burning",
                    intensity=4,
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert sorted(result.created for result in results) == [False, True]
    assert {result.entries[0].pk for result in results} == {PainEntry.objects.get().pk}


# The page's forms ----------------------------------------------------------------------------


@pytest.fixture
def client_a(client: Client, patient) -> Client:
    client.force_login(patient)
    return client


def form_data(client_id: str, **extra) -> dict:
    moment = timezone.localtime(timezone.now() - timedelta(hours=1))
    return {
        "body_part": ["knee-left", "knee-right"],
        "pain_type": "burning",
        "intensity": "6",
        "date_recorded": moment.strftime("%Y-%m-%dT%H:%M"),
        "client_id": client_id,
        **extra,
    }


def test_the_entry_form_carries_a_fresh_client_id(client_a):
    ids = []
    for _ in range(2):
        html = client_a.get("/diary/entries/new/?part=knee-left", **HTMX).content.decode()
        marker = 'name="client_id" value="'
        assert marker in html
        ids.append(uuid.UUID(html.split(marker)[1][:36]))
    assert ids[0] != ids[1]


def test_the_page_form_sent_twice_stores_once(client_a, patient):
    client_id = str(uuid.uuid4())
    first = client_a.post("/diary/entries/new/", form_data(client_id), **HTMX)
    assert first.status_code == 200
    assert PainEntry.objects.filter(owner=patient).count() == 2  # two parts, one recording
    again = client_a.post("/diary/entries/new/", form_data(client_id, intensity="2"), **HTMX)
    assert again.status_code == 200
    assert "Saved 2 entries" in again.content.decode()
    assert PainEntry.objects.filter(owner=patient).count() == 2
    assert set(PainEntry.objects.values_list("intensity", flat=True)) == {6}
    # Without JavaScript a resend redirects like a save.
    plain = client_a.post("/diary/entries/new/", form_data(client_id))
    assert plain.status_code == 302
    assert PainEntry.objects.count() == 2


def test_a_resend_is_answered_even_if_it_would_no_longer_validate(client_a):
    client_id = str(uuid.uuid4())
    assert client_a.post("/diary/entries/new/", form_data(client_id), **HTMX).status_code == 200
    bad = form_data(client_id, body_part=["no-such-part"])
    assert client_a.post("/diary/entries/new/", bad, **HTMX).status_code == 200
    assert PainEntry.objects.count() == 2


def test_the_page_form_refuses_a_bad_client_id_inline(client_a):
    response = client_a.post("/diary/entries/new/", form_data("nope"), **HTMX)
    assert response.status_code == 422
    assert "Recording id: Enter a valid UUID." in response.content.decode()
    assert not PainEntry.objects.exists()


def test_another_users_client_id_on_the_page_is_independent(client_a, other_patient):
    client_id = str(uuid.uuid4())
    services.record_pain_once(
        owner=other_patient,
        client_id=uuid.UUID(client_id),
        body_parts=[BodyPart.objects.get(name="elbow-left")],
        pain_type="throbbing",
        intensity=1,
    )
    response = client_a.post("/diary/entries/new/", form_data(client_id), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved 2 entries: Left knee and Right knee, burning, 6/10." in html
    assert PainEntry.objects.filter(client_id=client_id).count() == 3


def test_the_note_form_sent_twice_stores_once(client_a, patient):
    client_id = str(uuid.uuid4())
    for _ in range(2):
        response = client_a.post(
            "/diary/notes/new/", {"title": "Bad night", "client_id": client_id}, **HTMX
        )
        assert response.status_code == 200
    assert Note.objects.filter(owner=patient).count() == 1
    page = client_a.get("/diary/notes/").content.decode()
    assert 'name="client_id"' in page
