"""Medications, doses and PEG check-ins in the diary's FHIR export (diary.fhir registers this).

Medications and doses are MedicationStatements, not MedicationAdministrations. FHIR R4 draws
the line by who records it and how: a MedicationAdministration is the record of an actual
administration, "based on actual administration information from the person who administered
the medication" (typically in an institution, by a practitioner), whereas a MedicationStatement
records "a medication that is being consumed by a patient", "may come from the patient's
memory" and is "often, if not always, less specific" (R4 MedicationStatement, "Scope and
Usage"). Everything here is the patient's own report in an app: statements. So:
- one MedicationStatement per medication on the patient's list: status active or stopped,
  effectivePeriod from when it was added to when it was stopped, the usual dose (as needed for
  a rescue medication);
- one MedicationStatement per dose taken, status completed, effectiveDateTime the time taken,
  the dose taken, `partOf` the medication's statement, `reasonReference` the pain entry it was
  taken for (when the patient linked one) and the relief they reported as a note. One statement
  with an effectivePeriod cannot hold several dose times, and a dose time is what a doctor
  reading "did the rescue dose help?" needs.

A PEG check-in is a QuestionnaireResponse (LOINC panel 91148-7; codes, wording and sources in
clinical.peg) with an Observation for its mean score (91147-9) derived from it, because
decision support reads scores as Observations (AHRQ CDS Connect's Pain Management Summary looks
for an Observation "Mean score [PEG]" 91147-9).
"""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal
from typing import Any

from accounts.models import User
from clinical.models import CheckIn, DoseTaken, Medication
from clinical.peg import ITEMS, PANEL, SCORE
from diary.fhir import LOINC, UCUM, coded, fhir_datetime, fhir_urn

STATEMENT_CATEGORY = {
    "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
    "code": "patientspecified",
    "display": "Patient Specified",
}
SURVEY = {
    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
    "code": "survey",
    "display": "Survey",
}
# LOINC's canonical for its FHIR Questionnaire of a panel is http://loinc.org/q/<panel code>. The
# items' linkIds here are their LOINC codes (not checked against the linkIds of LOINC's form).
PEG_QUESTIONNAIRE = f"http://loinc.org/q/{PANEL[0]}"
# The units a patient types that are UCUM units (case as UCUM spells them); others are sent as
# text only.
UCUM_UNITS = {"mg": "mg", "g": "g", "ml": "mL", "mcg": "ug", "ug": "ug", "µg": "ug"}


def _number(value: Decimal) -> int | float:
    """A JSON number for a decimal: 400 rather than 400.0, 2.5 as 2.5."""
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(value), "unit": unit}
    code = UCUM_UNITS.get(unit.lower())
    if code:
        quantity |= {"system": UCUM, "code": code}
    return quantity


def _dose_text(value: Decimal, unit: str) -> str:
    return f"{value.normalize():f} {unit}"


def medication_url(medication: Medication) -> str:
    return fhir_urn(f"medication:{medication.pk}")


def medication_statement(medication: Medication, patient_url: str, tz: tzinfo) -> dict[str, Any]:
    rescue = medication.kind == Medication.Kind.RESCUE
    dosage: dict[str, Any] = {
        "text": _dose_text(medication.usual_dose, medication.unit)
        + (" as needed" if rescue else " on a schedule"),
        "asNeededBoolean": rescue,
        "doseAndRate": [{"doseQuantity": _quantity(medication.usual_dose, medication.unit)}],
    }
    period = {"start": fhir_datetime(medication.created, tz)}
    if not medication.active and medication.stopped:
        period["end"] = fhir_datetime(medication.stopped, tz)
    return {
        "resourceType": "MedicationStatement",
        "status": "active" if medication.active else "stopped",
        "category": coded(STATEMENT_CATEGORY),
        "medicationCodeableConcept": {"text": medication.name},
        "subject": {"reference": patient_url},
        "effectivePeriod": period,
        "informationSource": {"reference": patient_url},
        "dosage": [dosage],
        "note": [{"text": medication.get_kind_display()}],
    }


def dose_statement(dose: DoseTaken, patient_url: str, tz: tzinfo) -> dict[str, Any]:
    medication = dose.medication
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "partOf": [{"reference": medication_url(medication)}],
        "status": "completed",
        "category": coded(STATEMENT_CATEGORY),
        "medicationCodeableConcept": {"text": medication.name},
        "subject": {"reference": patient_url},
        "effectiveDateTime": fhir_datetime(dose.taken_at, tz),
        "informationSource": {"reference": patient_url},
        "dosage": [
            {
                "text": _dose_text(dose.dose, medication.unit),
                "doseAndRate": [{"doseQuantity": _quantity(dose.dose, medication.unit)}],
            }
        ],
    }
    if dose.entry_id:
        # The pain entry is the patient's own (clinical.services checks) and in the bundle.
        statement["reasonReference"] = [{"reference": fhir_urn(f"entry:{dose.entry_id}")}]
    if dose.relief is not None:
        statement["note"] = [
            {"text": f"Relief reported after this dose: {dose.relief}/10 (0 none, 10 complete)."}
        ]
    return statement


def checkin_response(checkin: CheckIn, patient_url: str, tz: tzinfo) -> dict[str, Any]:
    items = [
        {
            "linkId": code,
            "text": question,
            "answer": [{"valueInteger": getattr(checkin, field)}],
        }
        for field, code, question, _low, _high in ITEMS
    ]
    items.append(
        {"linkId": SCORE[0], "text": SCORE[1], "answer": [{"valueDecimal": _number(checkin.score)}]}
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": PEG_QUESTIONNAIRE,
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": fhir_datetime(checkin.answered_at, tz),
        "author": {"reference": patient_url},
        "source": {"reference": patient_url},
        "item": items,
    }


def checkin_score(checkin: CheckIn, patient_url: str, tz: tzinfo) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [coded(SURVEY)],
        "code": coded({"system": LOINC, "code": SCORE[0], "display": SCORE[1]}),
        "subject": {"reference": patient_url},
        "effectiveDateTime": fhir_datetime(checkin.answered_at, tz),
        "performer": [{"reference": patient_url}],
        "valueQuantity": {
            "value": _number(checkin.score),
            "system": UCUM,
            "code": "{score}",
            "unit": "score",
        },
        "derivedFrom": [{"reference": fhir_urn(f"checkin:{checkin.pk}")}],
    }


def clinical_fhir_entries(patient: User, patient_url: str, tz: tzinfo) -> list[dict[str, Any]]:
    """Bundle entries for a patient's medications, doses and check-ins (three queries)."""
    entries: list[dict[str, Any]] = []
    for medication in Medication.objects.for_user(patient).order_by("pk"):
        entries.append(
            {
                "fullUrl": medication_url(medication),
                "resource": medication_statement(medication, patient_url, tz),
            }
        )
    doses = DoseTaken.objects.for_user(patient).select_related("medication").order_by("pk")
    for dose in doses:
        entries.append(
            {
                "fullUrl": fhir_urn(f"dose:{dose.pk}"),
                "resource": dose_statement(dose, patient_url, tz),
            }
        )
    for checkin in CheckIn.objects.filter(patient=patient).order_by("week"):
        entries.append(
            {
                "fullUrl": fhir_urn(f"checkin:{checkin.pk}"),
                "resource": checkin_response(checkin, patient_url, tz),
            }
        )
        entries.append(
            {
                "fullUrl": fhir_urn(f"checkin-score:{checkin.pk}"),
                "resource": checkin_score(checkin, patient_url, tz),
            }
        )
    return entries
