"""Medications, doses and PEG check-ins in the FHIR export: shape, numbers, validity, privacy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from clinical import services
from clinical.fhir import PEG_QUESTIONNAIRE, clinical_fhir_entries
from clinical.tests.conftest import record
from conftest import token_client
from diary.fhir import fhir_bundle, fhir_urn
from diary.models import PainEntry

pytestmark = pytest.mark.django_db

EXPORT = "/api/diary/export/"
MONDAY = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def bundle_of(patient) -> dict:
    bundle = fhir_bundle(patient, PainEntry.objects.for_user(patient).select_related("body_part"))
    for item in bundle["entry"]:
        resource = item["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    Bundle.model_validate(bundle)
    return bundle


def of_type(bundle: dict, kind: str) -> list[dict]:
    return [i["resource"] for i in bundle["entry"] if i["resource"]["resourceType"] == kind]


@pytest.fixture
def history(patient, rescue):
    """Ibuprofen 400 mg as needed (two doses, one for a knee entry with relief 7), and a
    stopped preventive 2.5 mg drug; two PEG check-ins a week apart."""
    entry = record(patient, intensity=8)
    services.take_dose(
        medication=rescue,
        taken_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        entry=entry,
        relief=7,
    )
    services.take_dose(
        medication=rescue, taken_at=datetime(2026, 3, 3, 21, 45, tzinfo=UTC), dose=Decimal("200")
    )
    preventive = services.add_medication(
        patient=patient,
        name="Amitriptyline",
        usual_dose=Decimal("2.5"),
        unit="mg",
        kind="preventive",
    )
    services.set_medication_active(medication=preventive, active=False)
    services.record_checkin(patient=patient, average=3, enjoyment=5, activity=7, now=MONDAY)
    services.record_checkin(patient=patient, average=4, enjoyment=5, activity=5, now=NEXT_MONDAY)
    return {"entry": entry, "preventive": preventive}


def test_one_statement_per_medication(patient, rescue, history):
    bundle = bundle_of(patient)
    statements = of_type(bundle, "MedicationStatement")
    lists = [s for s in statements if "partOf" not in s]
    assert [s["medicationCodeableConcept"]["text"] for s in lists] == ["Ibuprofen", "Amitriptyline"]
    ibuprofen, amitriptyline = lists
    assert ibuprofen["status"] == "active"
    assert ibuprofen["dosage"][0]["asNeededBoolean"] is True
    assert ibuprofen["dosage"][0]["text"] == "400 mg as needed"
    assert ibuprofen["dosage"][0]["doseAndRate"][0]["doseQuantity"] == {
        "value": 400,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert "end" not in ibuprofen["effectivePeriod"]
    assert amitriptyline["status"] == "stopped"
    assert amitriptyline["dosage"][0]["asNeededBoolean"] is False
    assert amitriptyline["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 2.5
    assert amitriptyline["effectivePeriod"]["end"] >= amitriptyline["effectivePeriod"]["start"]
    patient_url = bundle["entry"][0]["fullUrl"]
    for statement in statements:
        assert statement["subject"] == statement["informationSource"] == {"reference": patient_url}
        assert statement["category"]["coding"][0]["code"] == "patientspecified"


def test_each_dose_is_a_completed_statement_part_of_its_medication(patient, rescue, history):
    bundle = bundle_of(patient)
    doses = [s for s in of_type(bundle, "MedicationStatement") if "partOf" in s]
    assert [d["effectiveDateTime"] for d in doses] == [
        "2026-03-02T09:00:00+00:00",
        "2026-03-03T21:45:00+00:00",
    ]
    assert [d["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] for d in doses] == [400, 200]
    assert {d["status"] for d in doses} == {"completed"}
    rescue_url = fhir_urn(f"medication:{rescue.pk}")
    assert all(d["partOf"] == [{"reference": rescue_url}] for d in doses)
    urls = {item["fullUrl"] for item in bundle["entry"]}
    assert rescue_url in urls
    first, second = doses
    entry_url = fhir_urn(f"entry:{history['entry'].pk}")
    assert first["reasonReference"] == [{"reference": entry_url}]
    assert entry_url in urls  # the pain entry it was taken for is in the same bundle
    assert first["note"][0]["text"].startswith("Relief reported after this dose: 7/10")
    assert "reasonReference" not in second
    assert "note" not in second


def test_each_peg_checkin_is_a_questionnaire_response_with_its_score(patient, history):
    bundle = bundle_of(patient)
    responses = of_type(bundle, "QuestionnaireResponse")
    assert len(responses) == 2
    first, second = responses
    assert first["questionnaire"] == PEG_QUESTIONNAIRE == "http://loinc.org/q/91148-7"
    assert first["status"] == "completed"
    assert first["authored"] == "2026-03-02T18:30:00+00:00"
    answers = {item["linkId"]: item["answer"][0] for item in first["item"]}
    assert answers == {
        "75893-8": {"valueInteger": 3},
        "91145-3": {"valueInteger": 5},
        "91146-1": {"valueInteger": 7},
        "91147-9": {"valueDecimal": 5},  # (3 + 5 + 7) / 3
    }
    second_score = {item["linkId"]: item["answer"][0] for item in second["item"]}["91147-9"]
    assert second_score == {"valueDecimal": 4.67}  # (4 + 5 + 5) / 3 = 4.666... -> 4.67
    scores = [
        obs
        for obs in of_type(bundle, "Observation")
        if obs["code"]["coding"][0]["code"] == "91147-9"
    ]
    assert [s["valueQuantity"]["value"] for s in scores] == [5, 4.67]
    response_urls = [
        item["fullUrl"]
        for item in bundle["entry"]
        if item["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert [s["derivedFrom"] for s in scores] == [[{"reference": url}] for url in response_urls]
    assert scores[0]["category"][0]["coding"][0]["code"] == "survey"


def test_times_are_in_the_patients_zone(patient, history):
    patient.timezone = "Europe/Paris"
    patient.save()
    bundle = bundle_of(patient)
    doses = [s for s in of_type(bundle, "MedicationStatement") if "partOf" in s]
    assert doses[0]["effectiveDateTime"] == "2026-03-02T10:00:00+01:00"
    assert of_type(bundle, "QuestionnaireResponse")[0]["authored"] == "2026-03-02T19:30:00+01:00"


def test_units_outside_ucum_are_text_only(patient):
    drops = services.add_medication(
        patient=patient, name="Drops", usual_dose=Decimal("3"), unit="drops"
    )
    services.take_dose(medication=drops)
    statements = of_type(bundle_of(patient), "MedicationStatement")
    quantities = [s["dosage"][0]["doseAndRate"][0]["doseQuantity"] for s in statements]
    assert quantities == [{"value": 3, "unit": "drops"}] * 2


def test_another_patients_medications_and_checkins_stay_out(
    patient, other_patient, bobs_medication, history
):
    services.take_dose(medication=bobs_medication)
    services.record_checkin(patient=other_patient, average=9, enjoyment=9, activity=9)
    alices = json.dumps(bundle_of(patient))
    assert "Secretol" not in alices
    assert '"valueInteger": 9' not in alices
    bobs = bundle_of(other_patient)
    assert [
        s["medicationCodeableConcept"]["text"] for s in of_type(bobs, "MedicationStatement")
    ] == [
        "Secretol",
        "Secretol",
    ]
    assert len(of_type(bobs, "QuestionnaireResponse")) == 1


def test_the_section_is_registered_and_a_linked_doctor_exports_the_same(
    patient, linked_doctor, history
):
    own = json.loads(token_client(patient).get(EXPORT, {"format": "fhir"}).content)
    doctors = token_client(linked_doctor).get(EXPORT, {"format": "fhir", "patient": "alice"})
    assert doctors.status_code == 200
    assert json.loads(doctors.content) == own
    kinds = [item["resource"]["resourceType"] for item in own["entry"]]
    assert kinds.count("MedicationStatement") == 4  # 2 medications + 2 doses
    assert kinds.count("QuestionnaireResponse") == 2
    section = clinical_fhir_entries(patient, own["entry"][0]["fullUrl"], patient.tzinfo)
    assert own["entry"][-len(section) :] == section  # what clinical registered, at the end


def test_an_unlinked_doctor_gets_none_of_it(patient, doctor, history):
    response = token_client(doctor).get(EXPORT, {"format": "fhir", "patient": "alice"})
    assert response.status_code == 404
    assert b"Ibuprofen" not in response.content
