"""The diary as FHIR R4: a collection Bundle of the patient, their pain entries and whatever the
apps below the diary add (medications and PEG check-ins: clinical.fhir, registered at start-up).

Each pain entry is a symptom as the HL7 FHIR Symptoms IG (STU 1, http://hl7.org/fhir/uv/symptoms,
profile SymptomObservation) codes one: category "symptom", code LOINC 75325-1 "Symptom", value
SNOMED CT 22253000 "Pain", the patient as performer (self-reported), the body site, and the
details as components: the quality (LOINC 56823-8 with a SNOMED CT code from the IG's
QualityCodes value set), the 0-10 rating (LOINC 72514-3, which the export used before as the
Observation's own code: an open slice of the profile, because the IG's own severity slice takes
a mild/moderate/severe code and mapping a 0-10 rating onto those would invent cut-offs), and the
factors the patient tied to the entry (the IG's triggersOrExacerbatingFactors slice, LOINC
100752-5 "Exacerbating factors - Reported"). Factors are components rather than notes because
the IG has a slot for them and a receiving system can then count them per factor; their values
are text only, since they are the patient's words (or a preset word) with no verified code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.utils import translation

from accounts.models import User
from diary.bodymap import LEFT, PARTS_BY_NAME, RIGHT, SNOMED_STRUCTURES
from diary.models import PainEntry, PainType

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYMPTOM_PROFILE = "http://hl7.org/fhir/uv/symptoms/StructureDefinition/SymptomObservation"
SYMPTOM_CATEGORY = {
    "system": "http://hl7.org/fhir/uv/symptoms/CodeSystem/SymptomTemporary",
    "code": "symptom",
    "display": "Symptom",
}
SYMPTOM_CODE = {"system": LOINC, "code": "75325-1", "display": "Symptom"}
# SNOMED CT 22253000 "Pain": one of the IG's CommonSymptomCodes (its preferred binding).
PAIN = {"system": SNOMED, "code": "22253000", "display": "Pain"}
QUALITY_CODE = {"system": LOINC, "code": "56823-8", "display": "Problem quality or description"}
PAIN_SEVERITY_CODE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
FACTOR_CODE = {"system": LOINC, "code": "100752-5", "display": "Exacerbating factors - Reported"}
# The laterality qualifiers (SNOMED CT "Left" / "Right", qualifier values under "Side"), as
# BodyStructure.locationQualifier carries them in R4.
LATERALITY: dict[str, dict[str, str]] = {
    LEFT: {"system": SNOMED, "code": "7771000", "display": "Left"},
    RIGHT: {"system": SNOMED, "code": "24028007", "display": "Right"},
}
# R4's extension for a body site kept as a BodyStructure resource (Observation.bodySite is a
# CodeableConcept with no room for a qualifier of its own).
BODY_SITE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/bodySite"

# Pain qualities as SNOMED CT codes, each checked against a published HL7 value set (looked up
# for this code, December 2026):
# - burning 36349006 "Burning pain" and cutting 162503007 "Cutting pain": in the Symptoms IG's
#   QualityCodes value set (http://hl7.org/fhir/uv/symptoms/ValueSet/QualityCodes), code and
#   display both shown there;
# - throbbing 29695002 "Throbbing pain": in QualityCodes, and with the same meaning in the
#   CDS4CPM IG's pain-types value set (http://fhir.org/guides/cqf/cds4cpm/ValueSet/pain-types).
# - stabbing: NOT verified. CDS4CPM's pain-types lists "Stabbing" as 55145008, while
#   QualityCodes holds 279097006 where an alphabetical list would put "Stabbing pain" but its
#   display could not be read; with two candidates and no authoritative display, stabbing is
#   exported as text only, as a receiving system can still read it. Replace it with the code
#   once checked in a SNOMED CT browser.
PAIN_QUALITIES: dict[str, tuple[str, str] | None] = {
    PainType.BURNING: ("36349006", "Burning pain"),
    PainType.STABBING: None,
    PainType.CUTTING: ("162503007", "Cutting pain"),
    PainType.THROBBING: ("29695002", "Throbbing pain"),
}


def fhir_urn(name: str) -> str:
    """A stable id: exporting twice gives the same fullUrls, so importers can de-duplicate."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'painmap:{name}')}"


def fhir_datetime(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def coded(coding: dict[str, str], text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return concept


def pain_quality(pain_type: str) -> dict[str, Any]:
    """The quality as a CodeableConcept: coded where the code is verified, else text only."""
    # The export's text stays English, as its codes and displays (PainType's label is lazy).
    with translation.override("en"):
        label = str(PainType(pain_type).label)
    code = PAIN_QUALITIES[pain_type]
    if code is None:
        return {"text": label}
    return coded({"system": SNOMED, "code": code[0], "display": code[1]}, label)


def body_structure_url(patient: User, part_name: str) -> str:
    return fhir_urn(f"bodystructure:{patient.pk}:{part_name}")


def body_site(entry: PainEntry, patient: User) -> dict[str, Any]:
    """Where it hurts: the SNOMED CT body structure where one clearly fits (else the label
    only) and, for a part on one side, a reference to its BodyStructure with the laterality."""
    part = PARTS_BY_NAME[entry.body_part.name]
    site: dict[str, Any] = {"text": part.label}
    if part.snomed:
        site["coding"] = [
            {"system": SNOMED, "code": part.snomed, "display": SNOMED_STRUCTURES[part.snomed]}
        ]
    if part.side in LATERALITY:
        site["extension"] = [
            {
                "url": BODY_SITE_EXTENSION,
                "valueReference": {"reference": body_structure_url(patient, part.name)},
            }
        ]
    return site


def body_structure(part_name: str, patient_url: str) -> dict[str, Any]:
    """A sided body part: its structure and its laterality (BodyStructure.locationQualifier)."""
    part = PARTS_BY_NAME[part_name]
    location: dict[str, Any] = {"text": part.label}
    if part.snomed:
        location["coding"] = [
            {"system": SNOMED, "code": part.snomed, "display": SNOMED_STRUCTURES[part.snomed]}
        ]
    return {
        "resourceType": "BodyStructure",
        "description": part.label,
        "location": location,
        "locationQualifier": [coded(LATERALITY[part.side])],
        "patient": {"reference": patient_url},
    }


def pain_observation(
    entry: PainEntry, patient: User, patient_url: str, tz: tzinfo
) -> dict[str, Any]:
    components: list[dict[str, Any]] = [
        {
            "code": coded(QUALITY_CODE, "Pain quality"),
            "valueCodeableConcept": pain_quality(entry.pain_type),
        },
        {
            "code": coded(PAIN_SEVERITY_CODE, "Pain intensity (0-10)"),
            "valueInteger": entry.intensity,
        },
    ]
    components += [
        {"code": coded(FACTOR_CODE, "Factor"), "valueCodeableConcept": {"text": factor}}
        for factor in entry.factors or ()
    ]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"painentry-{entry.pk}",
        "meta": {"profile": [SYMPTOM_PROFILE]},
        "status": "final",
        "category": [coded(SYMPTOM_CATEGORY)],
        "code": coded(SYMPTOM_CODE),
        "subject": {"reference": patient_url},
        "effectiveDateTime": fhir_datetime(entry.date_recorded, tz),
        "performer": [{"reference": patient_url}],
        "valueCodeableConcept": coded(PAIN, "Pain"),
        "bodySite": body_site(entry, patient),
        "component": components,
    }
    if entry.description:
        observation["note"] = [{"text": entry.description}]
    return observation


# What the apps below the diary add to a patient's bundle: fn(patient, patient_url, tz) ->
# bundle entries. The diary cannot import them (they import the diary); they register here
# from their AppConfig.ready().
FhirSection = Callable[[User, str, tzinfo], list[dict[str, Any]]]
_sections: list[FhirSection] = []


def register_fhir_section(section: FhirSection) -> None:
    if section not in _sections:
        _sections.append(section)


def fhir_bundle(patient: User, entries: Iterable[PainEntry]) -> dict[str, Any]:
    """A FHIR R4 collection Bundle: the patient, one Observation per pain entry (and a
    BodyStructure per sided body part they mention), then the registered sections."""
    tz = patient.tzinfo
    patient_url = fhir_urn(f"user:{patient.pk}")
    patient_resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:painmap:username", "value": patient.username}],
    }
    if patient.get_full_name():
        patient_resource["name"] = [{"text": patient.get_full_name()}]
    bundle_entries = [{"fullUrl": patient_url, "resource": patient_resource}]
    sided: dict[str, None] = {}
    for entry in entries:
        bundle_entries.append(
            {
                "fullUrl": fhir_urn(f"entry:{entry.pk}"),
                "resource": pain_observation(entry, patient, patient_url, tz),
            }
        )
        if PARTS_BY_NAME[entry.body_part.name].side in LATERALITY:
            sided.setdefault(entry.body_part.name, None)
    bundle_entries += [
        {
            "fullUrl": body_structure_url(patient, name),
            "resource": body_structure(name, patient_url),
        }
        for name in sided
    ]
    for section in _sections:
        bundle_entries += section(patient, patient_url, tz)
    return {"resourceType": "Bundle", "type": "collection", "entry": bundle_entries}
