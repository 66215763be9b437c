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
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from accounts import services as accounts
from accounts.models import DiaryAccess
from conftest import make_user, token_client
from diary import services
from diary.exports import entries_csv, fhir_bundle, safe_cell
from diary.fhir import SYMPTOM_PROFILE, pain_quality
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
            factors=["poor sleep", "Lifting"],
            date_recorded=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        ),
        services.record_pain(
            owner=patient,
            body_part=nape,
            pain_type="burning",
            intensity=3,
            description="=HYPERLINK(1)",
            factors=["=cmd"],
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
    assert knee["date_recorded"] == "2026-03-02T09:15:00+00:00"
    assert knee["factors"] == "poor sleep; lifting"  # presets stored in their own case
    formula = next(row for row in rows if row["body_part"] == "nape")
    assert formula["description"] == "'=HYPERLINK(1)"
    assert formula["factors"] == "'=cmd"  # a factor is neutralised like any cell
    genitals = next(row for row in rows if row["body_part"] == "genitalia")
    assert genitals["factors"] == ""
    assert list(rows[0]) == [
        "id",
        "date_recorded",
        "body_part_id",
        "body_part",
        "body_part_label",
        "pain_type",
        "intensity",
        "description",
        "factors",
    ]


def resources(bundle: dict, kind: str) -> list[dict]:
    return [
        item["resource"] for item in bundle["entry"] if item["resource"]["resourceType"] == kind
    ]


def validate_every_resource(bundle: dict) -> Bundle:
    """Each resource against its own fhir.resources model (R4B, the R4 line this library
    ships), then the bundle as a whole."""
    for item in bundle["entry"]:
        resource = item["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return Bundle.model_validate(bundle)


def component(observation: dict, loinc: str) -> list[dict]:
    return [c for c in observation["component"] if c["code"]["coding"][0]["code"] == loinc]


def test_fhir_bundle_is_valid_r4_and_codes_symptoms_as_the_symptoms_ig(patient, entries):
    bundle = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    parsed = validate_every_resource(bundle)
    assert parsed.type == "collection"
    observations = resources(bundle, "Observation")
    assert len(observations) == 3
    patient_url = bundle["entry"][0]["fullUrl"]
    for observation in observations:
        assert observation["meta"]["profile"] == [SYMPTOM_PROFILE]
        assert observation["category"][0]["coding"][0]["code"] == "symptom"
        assert observation["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "75325-1",
            "display": "Symptom",
        }
        assert observation["valueCodeableConcept"]["coding"][0]["code"] == "22253000"
        assert observation["subject"] == {"reference": patient_url}
        assert observation["performer"] == [{"reference": patient_url}]
    knee = next(obs for obs in observations if obs["bodySite"]["text"] == "Left knee")
    assert knee["effectiveDateTime"] == "2026-03-02T09:15:00+00:00"
    assert component(knee, "72514-3")[0]["valueInteger"] == 7
    assert component(knee, "56823-8")[0]["valueCodeableConcept"] == {"text": "Stabbing"}
    assert [c["valueCodeableConcept"]["text"] for c in component(knee, "100752-5")] == [
        "poor sleep",
        "lifting",
    ]
    assert knee["bodySite"]["coding"][0]["code"] == "72696002"
    assert knee["note"] == [{"text": "Stairs, ouch"}]
    nape = next(obs for obs in observations if obs["bodySite"]["text"] == "Back of the neck")
    assert component(nape, "56823-8")[0]["valueCodeableConcept"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "36349006",
        "display": "Burning pain",
    }
    assert [c["valueCodeableConcept"]["text"] for c in component(nape, "100752-5")] == ["=cmd"]
    genitals = next(obs for obs in observations if obs["bodySite"]["text"] == "Genitals")
    assert "coding" not in genitals["bodySite"]  # no clear SNOMED code: the label only
    assert component(genitals, "72514-3")[0]["valueInteger"] == 0
    assert component(genitals, "56823-8")[0]["valueCodeableConcept"]["coding"][0]["code"] == (
        "162503007"
    )
    assert component(genitals, "100752-5") == []


@pytest.mark.parametrize(
    ("pain_type", "expected"),
    [
        ("burning", ("36349006", "Burning pain")),
        ("cutting", ("162503007", "Cutting pain")),
        ("throbbing", ("29695002", "Throbbing pain")),
        ("stabbing", None),  # no verified code: text only
    ],
)
def test_pain_quality_codes(pain_type, expected):
    concept = pain_quality(pain_type)
    assert concept["text"] == pain_type.capitalize()
    if expected is None:
        assert "coding" not in concept
    else:
        code, display = expected
        assert concept["coding"] == [
            {"system": "http://snomed.info/sct", "code": code, "display": display}
        ]


def test_laterality_is_a_body_site_qualifier_where_the_region_has_a_side(patient):
    for name in ["knee-left", "knee-left", "right-feet", "nape", "ribs-right"]:
        services.record_pain(
            owner=patient,
            body_part=BodyPart.objects.get(name=name),
            pain_type="throbbing",
            intensity=4,
        )
    bundle = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    validate_every_resource(bundle)
    structures = {
        item["fullUrl"]: item["resource"]
        for item in bundle["entry"]
        if item["resource"]["resourceType"] == "BodyStructure"
    }
    # One BodyStructure per sided part, however many entries mention it; none for the nape.
    assert sorted(s["description"] for s in structures.values()) == [
        "Left knee",
        "Right foot",
        "Right ribs",
    ]
    by_site = {obs["bodySite"]["text"]: obs["bodySite"] for obs in resources(bundle, "Observation")}
    assert "extension" not in by_site["Back of the neck"]
    expected = {
        "Left knee": ("72696002", "7771000", "Left"),
        "Right foot": ("56459004", "24028007", "Right"),
        "Right ribs": (None, "24028007", "Right"),
    }
    for label, (site_code, side_code, side) in expected.items():
        site = by_site[label]
        (extension,) = site["extension"]
        assert extension["url"] == "http://hl7.org/fhir/StructureDefinition/bodySite"
        structure = structures[extension["valueReference"]["reference"]]
        assert structure["locationQualifier"] == [
            {"coding": [{"system": "http://snomed.info/sct", "code": side_code, "display": side}]}
        ]
        assert structure["patient"] == {"reference": bundle["entry"][0]["fullUrl"]}
        if site_code:
            assert site["coding"][0]["code"] == structure["location"]["coding"][0]["code"]
            assert site["coding"][0]["code"] == site_code
        else:
            assert "coding" not in site
            assert "coding" not in structure["location"]


def test_fhir_times_are_in_the_patients_zone_and_urls_are_stable(patient, entries):
    patient.timezone = "America/New_York"
    patient.save()
    first = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    again = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    assert first == again
    knee = next(o for o in resources(first, "Observation") if o["bodySite"]["text"] == "Left knee")
    assert knee["effectiveDateTime"] == "2026-03-02T04:15:00-05:00"


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


# --- every error case of both doors --------------------------------------------------------------

FORMATS = ["csv", "csv-notes", "fhir"]


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("query", [{}, {"format": ""}, {"format": "pdf"}, {"format": "FHIR"}])
def test_bad_format_is_a_400_with_a_message_at_both_doors(patient, query):
    api = token_client(patient).get(EXPORT, query)
    assert api.status_code == 400
    assert api.json() == {"error": "format must be one of: csv, csv-notes, fhir"}
    page = page_client(patient).get(reverse("diary:export"), query)
    assert page.status_code == 400
    assert page.content.decode() == "Unknown export format."


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_format_is_refused_before_the_patient_is_looked_up(other_patient, fmt):
    # Nothing is said about whether "alice" exists: a bad format is the same 400 for anyone.
    response = token_client(other_patient).get(EXPORT, {"format": "xls", "patient": "alice"})
    assert response.status_code == 400


def test_anonymous_exports_are_refused(patient):
    assert Client().get(EXPORT, {"format": "csv"}).status_code == 401
    page = Client().get(reverse("diary:export"), {"format": "csv"})
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("login"))


def test_only_get_is_allowed(patient):
    assert token_client(patient).post(EXPORT, {"format": "csv"}).status_code == 405
    assert page_client(patient).post(reverse("diary:export"), {"format": "csv"}).status_code == 405


def _linked(patient, doctor, status):
    link = accounts.request_link(patient=patient, doctor=doctor)
    if status != "pending":
        accounts.change_link(link=link, by=doctor, status="active")
    if status == "ended":
        accounts.change_link(link=link, by=doctor, status="ended")
    return link


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "who", ["other_patient", "unlinked_doctor", "pending_doctor", "ended_doctor", "no_such_user"]
)
def test_no_one_else_gets_a_patients_export_at_either_door(
    patient, other_patient, entries, who, fmt
):
    target = "alice"
    if who == "other_patient":
        viewer = other_patient
    else:
        viewer = make_user("house", "doctor")
        if who in ("pending_doctor", "ended_doctor"):
            _linked(patient, viewer, who.removesuffix("_doctor"))
        if who == "no_such_user":
            target = "nobody"
    query = {"format": fmt, "patient": target}
    api = token_client(viewer).get(EXPORT, query)
    assert api.status_code == 404
    assert api.json() == {"error": "Patient not found"}
    assert page_client(viewer).get(reverse("diary:export"), query).status_code == 404
    assert not DiaryAccess.objects.exists()


def test_a_nul_in_the_patient_name_is_a_404_not_a_500(doctor):
    response = token_client(doctor).get(EXPORT, {"format": "csv", "patient": "ali\x00ce"})
    assert response.status_code == 404


def test_a_patients_own_export_never_holds_another_patients_data(patient, other_patient, entries):
    services.record_pain(
        owner=other_patient,
        body_part=BodyPart.objects.get(name="knee-right"),
        pain_type="burning",
        intensity=9,
        factors=["bob's secret"],
    )
    fhir = json.loads(token_client(other_patient).get(EXPORT, {"format": "fhir"}).content)
    observations = resources(fhir, "Observation")
    assert len(observations) == 1
    assert "Stairs, ouch" not in json.dumps(fhir)
    csv_rows = read_csv(token_client(patient).get(EXPORT, {"format": "csv"}).content.decode())
    assert "bob's secret" not in json.dumps(csv_rows)
    assert len(csv_rows) == 3


def test_a_linked_doctors_fhir_export_is_the_patients_own(patient, doctor, entries):
    _linked(patient, doctor, "active")
    own = json.loads(token_client(patient).get(EXPORT, {"format": "fhir"}).content)
    doctors = token_client(doctor).get(EXPORT, {"format": "fhir", "patient": "alice"})
    page = page_client(doctor).get(reverse("diary:export"), {"format": "fhir", "patient": "alice"})
    assert doctors.status_code == page.status_code == 200
    assert json.loads(doctors.content) == own == json.loads(page.content)
    validate_every_resource(own)
    assert (
        DiaryAccess.objects.filter(viewer=doctor, patient=patient, what="FHIR export").count() == 2
    )
