from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import DiaryAccess
from clinical import services
from clinical.models import CheckIn, DoseTaken, Medication
from clinical.tests.conftest import record
from conftest import make_user, token_client

pytestmark = pytest.mark.django_db

MEDS = "/api/diary/medications/"
DOSES = "/api/diary/doses/"
CHECKINS = "/api/diary/checkins/"


@pytest.fixture
def bob_api(other_patient):
    return token_client(other_patient)


@pytest.mark.parametrize("url", [MEDS, DOSES, CHECKINS])
def test_every_route_needs_a_token(api_client, url):
    assert api_client.get(url).status_code == 401
    assert api_client.post(url, {}).status_code == 401


def test_medication_crud(patient_api, patient):
    created = patient_api.post(MEDS, {"name": "Ibuprofen", "usual_dose": 400})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Ibuprofen"
    assert body["usual_dose"] == 400
    assert (body["unit"], body["kind"], body["active"], body["stopped"]) == (
        "mg",
        "rescue",
        True,
        None,
    )
    pk = body["id"]
    listed = patient_api.get(MEDS).json()
    assert [row["id"] for row in listed] == [pk]

    changed = patient_api.patch(MEDS, {"medication_pk": pk, "usual_dose": "200.5", "active": False})
    assert changed.status_code == 200
    assert changed.json()["usual_dose"] == 200.5
    assert changed.json()["active"] is False
    assert changed.json()["stopped"] is not None
    restarted = patient_api.patch(MEDS, {"medication_pk": pk, "active": True}).json()
    assert restarted["active"] is True

    assert patient_api.delete(MEDS, {"medication_pk": pk}).status_code == 204
    assert not Medication.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"usual_dose": 1}, "name"),
        ({"name": "", "usual_dose": 1}, "name"),
        ({"name": 5, "usual_dose": 1}, "name"),
        ({"name": "X", "usual_dose": 0}, "usual_dose"),
        ({"name": "X", "usual_dose": "NaN"}, "usual_dose"),
        ({"name": "X", "usual_dose": 1e12}, "usual_dose"),
        ({"name": "X", "usual_dose": True}, "usual_dose"),
        ({"name": "X", "usual_dose": 1, "kind": "daily"}, "kind"),
        ({"name": "X\x00", "usual_dose": 1}, "name"),
        ({"name": "X", "usual_dose": 1, "unit": "x" * 17}, "unit"),
    ],
)
def test_bad_medication_is_a_field_error(patient_api, body, field):
    response = patient_api.post(MEDS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Medication.objects.exists()


def test_another_users_medication_is_404(patient_api, bobs_medication):
    pk = bobs_medication.pk
    assert patient_api.patch(MEDS, {"medication_pk": pk, "name": "Mine"}).status_code == 404
    assert patient_api.delete(MEDS, {"medication_pk": pk}).status_code == 404
    assert patient_api.delete(f"{MEDS}?medication_pk={pk}").status_code == 404
    assert patient_api.get(MEDS).json() == []
    bobs_medication.refresh_from_db()
    assert bobs_medication.name == "Secretol"


def test_medication_patch_and_delete_need_a_pk(patient_api):
    assert patient_api.patch(MEDS, {"name": "X"}).status_code == 400
    assert patient_api.delete(MEDS).status_code == 400
    assert patient_api.patch(MEDS, {"medication_pk": 2**64}).status_code == 400


def test_dose_create_list_since_patch_delete(patient_api, patient, rescue):
    entry = record(patient)
    now = timezone.now()
    first = patient_api.post(DOSES, {"medication": rescue.pk, "entry": entry.pk})
    assert first.status_code == 201
    body = first.json()
    assert body["dose"] == 400
    assert body["entry"] == entry.pk
    assert body["medication_name"] == "Ibuprofen"
    assert body["relief"] is None
    old = patient_api.post(
        DOSES,
        {
            "medication": rescue.pk,
            "taken_at": (now - timedelta(days=3)).isoformat(),
            "dose": "200",
            "relief": 6,
        },
    )
    assert old.status_code == 201
    assert DoseTaken.objects.get(pk=old.json()["id"]).relief_asked

    assert [row["id"] for row in patient_api.get(DOSES).json()] == [body["id"], old.json()["id"]]
    since = (now - timedelta(days=1)).isoformat()
    assert [row["id"] for row in patient_api.get(DOSES, {"since": since}).json()] == [body["id"]]
    day = (now - timedelta(days=5)).date().isoformat()
    assert len(patient_api.get(DOSES, {"since": day}).json()) == 2

    patched = patient_api.patch(DOSES, {"dose_pk": body["id"], "relief": 8, "entry": None})
    assert patched.status_code == 200
    assert patched.json()["relief"] == 8
    assert patched.json()["entry"] is None
    assert patient_api.delete(DOSES, {"dose_pk": body["id"]}).status_code == 204
    assert DoseTaken.objects.count() == 1


@pytest.mark.parametrize("since", ["yesterday", "2026-13-45", "2026-02-30T10:00:00", "\x00"])
def test_bad_since_is_400(patient_api, since):
    response = patient_api.get(DOSES, {"since": since})
    assert response.status_code == 400
    assert "since" in response.json()["error"]


def test_bad_doses_are_field_errors(patient_api, patient, rescue, bobs_medication, other_patient):
    cases = [
        ({}, "medication"),
        ({"medication": bobs_medication.pk}, "medication"),
        ({"medication": rescue.pk, "entry": record(other_patient).pk}, "entry"),
        ({"medication": rescue.pk, "relief": 11}, "relief"),
        ({"medication": rescue.pk, "dose": -1}, "dose"),
        (
            {
                "medication": rescue.pk,
                "taken_at": (timezone.now() + timedelta(hours=2)).isoformat(),
            },
            "taken_at",
        ),
        ({"medication": rescue.pk, "taken_at": "soon"}, "taken_at"),
    ]
    for body, field in cases:
        response = patient_api.post(DOSES, body)
        assert response.status_code == 400, body
        assert field in response.json(), body
    assert not DoseTaken.objects.exists()


def test_another_users_dose_is_404(patient_api, bob_api, rescue, bobs_medication):
    bobs = services.take_dose(medication=bobs_medication)
    assert patient_api.patch(DOSES, {"dose_pk": bobs.pk, "relief": 1}).status_code == 404
    assert patient_api.delete(DOSES, {"dose_pk": bobs.pk}).status_code == 404
    assert patient_api.get(DOSES).json() == []
    # Bob cannot hang his dose on Alice's medication either.
    assert bob_api.post(DOSES, {"medication": rescue.pk}).status_code == 400
    bobs.refresh_from_db()
    assert bobs.relief is None


def test_checkins(patient_api, patient):
    created = patient_api.post(CHECKINS, {"average": 6, "enjoyment": 7, "activity": 4})
    assert created.status_code == 201
    assert created.json()["score"] == 5.67
    again = patient_api.post(CHECKINS, {"average": 1, "enjoyment": 1, "activity": 1})
    assert again.status_code == 400
    assert "already" in again.json()["error"]
    listed = patient_api.get(CHECKINS).json()
    assert [row["score"] for row in listed] == [5.67]


@pytest.mark.parametrize(
    "body",
    [
        {"average": 6, "enjoyment": 7},
        {"average": 11, "enjoyment": 7, "activity": 4},
        {"average": -1, "enjoyment": 7, "activity": 4},
        {"average": "x", "enjoyment": 7, "activity": 4},
        {"average": True, "enjoyment": 7, "activity": 4},
    ],
)
def test_bad_checkins(patient_api, body):
    assert patient_api.post(CHECKINS, body).status_code == 400
    assert not CheckIn.objects.exists()


def test_linked_doctor_reads_with_patient_and_it_is_logged(patient, linked_doctor, rescue):
    services.take_dose(medication=rescue)
    services.record_checkin(patient=patient, average=3, enjoyment=3, activity=3)
    doctor_api = token_client(linked_doctor)
    for url, what in (
        (MEDS, "medications (API)"),
        (DOSES, "medication doses (API)"),
        (CHECKINS, "weekly check-ins (API)"),
    ):
        response = doctor_api.get(url, {"patient": patient.username})
        assert response.status_code == 200
        assert len(response.json()) == 1
        assert DiaryAccess.objects.filter(viewer=linked_doctor, patient=patient, what=what).exists()
    # Read-only: a doctor's write lands on their own (empty) list, never the patient's.
    assert doctor_api.get(MEDS).json() == []


def test_unlinked_doctor_and_other_patients_get_404(patient, rescue, patient_api, other_patient):
    stranger = make_user("drno", role="doctor")
    for client in (token_client(stranger), token_client(other_patient)):
        for url in (MEDS, DOSES, CHECKINS):
            response = client.get(url, {"patient": patient.username})
            assert response.status_code == 404
            assert response.json() == {"error": "Patient not found"}
    assert not DiaryAccess.objects.exists()


def test_a_patient_reading_their_own_is_not_logged(patient_api, patient, rescue):
    assert patient_api.get(MEDS, {"patient": patient.username}).status_code == 200
    assert not DiaryAccess.objects.exists()


def test_decimal_doses_round_trip(patient_api):
    pk = patient_api.post(MEDS, {"name": "Drops", "usual_dose": "2.5", "unit": "ml"}).json()["id"]
    assert Medication.objects.get(pk=pk).usual_dose == Decimal("2.50")
