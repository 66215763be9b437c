"""CSV and FHIR exports: their content, their validity, who may download them."""

from __future__ import annotations

import csv
import io
import json
import zoneinfo
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from accounts import services as accounts
from accounts.models import DiaryAccess
from conftest import make_user, token_client
from diary import services
from diary.exports import entries_csv, fhir_bundle, safe_cell
from diary.models import BodyPart, PainEntry

pytestmark = pytest.mark.django_db

EXPORT = "/api/diary/export/"
UTC = zoneinfo.ZoneInfo("UTC")


@pytest.fixture
def entries(patient):
    knee = BodyPart.objects.get(name="knee-left")
    nape = BodyPart.objects.get(name="nape")
    genitals = BodyPart.objects.get(name="genitalia")
    return [
        services.record_pain(
            owner=patient,
            body_part=knee,
            pain_type="stabbing",
            intensity=7,
            description="Stairs, ouch",
        ),
        services.record_pain(
            owner=patient,
            body_part=nape,
            pain_type="burning",
            intensity=3,
            description="=HYPERLINK(1)",
        ),
        services.record_pain(owner=patient, body_part=genitals, pain_type="cutting", intensity=0),
    ]


def read_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"), ("ok", "ok"), (5, 5)],
)
def test_formula_injection_is_neutralised(value, expected):
    assert safe_cell(value) == expected


def test_entries_csv(patient, entries):
    rows = read_csv(
        entries_csv(PainEntry.objects.for_user(patient).select_related("body_part"), UTC)
    )
    assert len(rows) == 3
    knee = next(row for row in rows if row["body_part"] == "knee-left")
    assert knee["body_part_label"] == "Left knee"
    assert (knee["pain_type"], knee["intensity"], knee["description"]) == (
        "stabbing",
        "7",
        "Stairs, ouch",
    )
    assert knee["date_recorded"].endswith("+00:00")
    formula = next(row for row in rows if row["body_part"] == "nape")
    assert formula["description"] == "'=HYPERLINK(1)"


def test_fhir_bundle_is_valid_r4(patient, entries):
    bundle = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    observations = [item.resource for item in parsed.entry[1:]]
    assert len(observations) == 3
    knee = next(obs for obs in observations if obs.bodySite.text == "Left knee")
    assert knee.code.coding[0].system == "http://loinc.org"
    assert knee.code.coding[0].code == "72514-3"
    assert knee.valueInteger == 7
    assert knee.bodySite.coding[0].system == "http://snomed.info/sct"
    assert knee.bodySite.coding[0].code == "72696002"
    assert knee.component[0].valueCodeableConcept.text == "Stabbing"
    assert knee.note[0].text == "Stairs, ouch"
    assert knee.subject.reference == parsed.entry[0].fullUrl
    genitals = next(obs for obs in observations if obs.bodySite.text == "Genitals")
    assert genitals.bodySite.coding is None  # no clear SNOMED code: the label only
    assert genitals.valueInteger == 0


def test_api_exports(patient, entries):
    api = token_client(patient)
    csv_response = api.get(EXPORT, {"format": "csv"})
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response["Content-Disposition"] == 'attachment; filename="painmap-alice-entries.csv"'
    assert len(read_csv(csv_response.content.decode())) == 3
    fhir = api.get(EXPORT, {"format": "fhir"})
    assert fhir["Content-Type"].startswith("application/fhir+json")
    Bundle.model_validate(json.loads(fhir.content))
    services.create_note(owner=patient, title="=cmd|' /C calc'!A0", body="fine")
    notes = read_csv(api.get(EXPORT, {"format": "csv-notes"}).content.decode())
    assert notes[0]["title"].startswith("'=")
    assert not DiaryAccess.objects.exists()  # a patient's own downloads are not "views"


@pytest.mark.parametrize("query", [{}, {"format": "pdf"}, {"format": "json"}])
def test_api_export_bad_format(patient, query):
    response = token_client(patient).get(EXPORT, query)
    assert response.status_code == 400
    assert "format" in response.json()["error"]


def test_linked_doctor_exports_and_is_logged(patient, doctor, entries):
    services.create_note(owner=patient, title="Shared", shared=True)
    services.create_note(owner=patient, title="Private")
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    api = token_client(doctor)
    assert (
        len(read_csv(api.get(EXPORT, {"format": "csv", "patient": "alice"}).content.decode())) == 3
    )
    notes = read_csv(api.get(EXPORT, {"format": "csv-notes", "patient": "alice"}).content.decode())
    assert [note["title"] for note in notes] == ["Shared"]
    assert DiaryAccess.objects.filter(viewer=doctor, patient=patient).count() == 2


@pytest.mark.parametrize("who", ["other_patient", "unlinked_doctor"])
def test_others_cannot_export(patient, other_patient, entries, who):
    viewer = other_patient if who == "other_patient" else make_user("house", "doctor")
    response = token_client(viewer).get(EXPORT, {"format": "csv", "patient": "alice"})
    assert response.status_code == 404
    assert not DiaryAccess.objects.exists()


def test_page_export(client, patient, other_patient, entries):
    client.force_login(patient)
    response = client.get(reverse("diary:export"), {"format": "csv"})
    assert response.status_code == 200
    assert len(read_csv(response.content.decode())) == 3
    assert client.get(reverse("diary:export"), {"format": "xls"}).status_code == 400
    client.force_login(other_patient)
    assert (
        client.get(reverse("diary:export"), {"format": "csv", "patient": "alice"}).status_code
        == 404
    )
    other = read_csv(client.get(reverse("diary:export"), {"format": "csv"}).content.decode())
    assert other == []  # bob's own, empty diary: nothing of alice's


def test_page_and_api_stamp_identical_times_in_the_patients_zone(patient, doctor):
    """A doctor in Tokyo and a patient in New York: both doors, both readers, one set of times."""
    patient.timezone = "America/New_York"
    patient.save()
    doctor.timezone = "Asia/Tokyo"
    doctor.save()
    link = accounts.request_link(patient=patient, doctor=doctor)
    accounts.change_link(link=link, by=doctor, status="active")
    moment = datetime(2026, 3, 4, 3, 29, tzinfo=UTC)  # 22:29 the day before in New York
    services.record_pain(
        owner=patient,
        body_part=BodyPart.objects.get(name="nape"),
        pain_type="burning",
        intensity=4,
        date_recorded=moment,
    )
    query = {"format": "csv", "patient": "alice"}
    client = Client()
    client.force_login(doctor)
    page = read_csv(client.get(reverse("diary:export"), query).content.decode())
    api = read_csv(token_client(doctor).get(EXPORT, query).content.decode())
    own = read_csv(token_client(patient).get(EXPORT, {"format": "csv"}).content.decode())
    assert page[0]["date_recorded"] == "2026-03-03T22:29:00-05:00"
    assert page == api == own
