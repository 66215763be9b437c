"""A patient's data for other programs: CSV for spreadsheets, FHIR R4 for health records."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.http import HttpResponse

from accounts import access
from accounts.models import User
from diary.bodymap import PARTS_BY_NAME, SNOMED_STRUCTURES
from diary.models import Note, PainEntry

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SNOMED = "http://snomed.info/sct"
LOINC_PAIN_SEVERITY = {
    "system": "http://loinc.org",
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs: a leading formula character is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _iso(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    # A byte-order mark makes spreadsheets read the file as UTF-8 (accents, non-Latin text).
    return "\ufeff" + buffer.getvalue()


def entries_csv(entries: Iterable[PainEntry], tz: tzinfo) -> str:
    return _csv(
        [
            "id",
            "date_recorded",
            "body_part_id",
            "body_part",
            "body_part_label",
            "pain_type",
            "intensity",
            "description",
        ],
        (
            [
                entry.pk,
                _iso(entry.date_recorded, tz),
                entry.body_part_id,
                entry.body_part.name,
                entry.body_part.label,
                entry.pain_type,
                entry.intensity,
                entry.description,
            ]
            for entry in entries
        ),
    )


def notes_csv(notes: Iterable[Note], tz: tzinfo) -> str:
    return _csv(
        ["id", "created_on", "last_modified", "title", "body", "shared"],
        (
            [
                note.pk,
                _iso(note.created_on, tz),
                _iso(note.last_modified, tz),
                note.title,
                note.body,
                "yes" if note.shared else "no",
            ]
            for note in notes
        ),
    )


def _observation(entry: PainEntry, patient_ref: str) -> dict[str, Any]:
    # SNOMED CT body structures where one clearly fits (diary.bodymap.parts); laterality stays in
    # the text, and regions without a clear match carry their label only.
    body_site: dict[str, Any] = {"text": entry.body_part.label}
    code = PARTS_BY_NAME[entry.body_part.name].snomed
    if code:
        body_site["coding"] = [
            {"system": "http://snomed.info/sct", "code": code, "display": SNOMED_STRUCTURES[code]}
        ]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"painentry-{entry.pk}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {"coding": [LOINC_PAIN_SEVERITY], "text": "Pain severity (0-10)"},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": entry.date_recorded.isoformat(timespec="seconds"),
        "valueInteger": entry.intensity,
        "bodySite": body_site,
        "component": [
            {
                "code": {"text": "Pain type"},
                "valueCodeableConcept": {"text": entry.get_pain_type_display()},
            }
        ],
    }
    if entry.description:
        observation["note"] = [{"text": entry.description}]
    return observation


def _urn(name: str) -> str:
    # Stable ids: exporting twice gives the same fullUrls, so importers can de-duplicate.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'painmap:{name}')}"


def fhir_bundle(patient: User, entries: Iterable[PainEntry]) -> dict[str, Any]:
    """A FHIR R4 collection Bundle: the patient, then one Observation per pain entry."""
    patient_url = _urn(f"user:{patient.pk}")
    patient_resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:painmap:username", "value": patient.username}],
    }
    if patient.get_full_name():
        patient_resource["name"] = [{"text": patient.get_full_name()}]
    bundle_entries = [{"fullUrl": patient_url, "resource": patient_resource}]
    for entry in entries:
        bundle_entries.append(
            {
                "fullUrl": _urn(f"entry:{entry.pk}"),
                "resource": _observation(entry, patient_url),
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": bundle_entries}


def export_filename(patient: User, kind: str, extension: str) -> str:
    return f"painmap-{patient.username}-{kind}.{extension}"


EXPORT_FORMATS = {"csv": "pain entries (CSV)", "csv-notes": "notes (CSV)", "fhir": "FHIR export"}


def export_response(*, viewer: User, patient: User, fmt: str) -> HttpResponse:
    """The download itself, for the page and the API alike; a read by someone else is logged.

    Times are stamped in the patient's zone (`User.tzinfo`) whoever downloads and through which
    door, so the same data exports identically. `viewer` must already be allowed to read
    `patient` (accounts.access.readable_patient)."""
    tz = patient.tzinfo
    access.record_diary_access(viewer=viewer, patient=patient, what=EXPORT_FORMATS[fmt])
    if fmt == "fhir":
        entries = PainEntry.objects.for_user(patient).select_related("body_part")
        body = json.dumps(fhir_bundle(patient, entries), ensure_ascii=False)
        response = HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
        filename = export_filename(patient, "fhir", "json")
    else:
        if fmt == "csv":
            entries = PainEntry.objects.for_user(patient).select_related("body_part")
            body, kind = entries_csv(entries, tz), "entries"
        else:
            notes = (
                patient.notes.all()
                if viewer.pk == patient.pk
                else patient.notes.filter(shared=True)
            )
            body, kind = notes_csv(notes, tz), "notes"
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        filename = export_filename(patient, kind, "csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
