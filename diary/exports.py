"""A patient's data for other programs: CSV for spreadsheets, FHIR R4 for health records
(built in diary.fhir)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.http import HttpResponse

from accounts import access
from accounts.models import User
from diary.fhir import fhir_bundle
from diary.models import Note, PainEntry

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FACTOR_SEPARATOR = "; "


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
            "factors",
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
                # One cell, "; " between factors, for people reading a spreadsheet. A factor may
                # itself hold a ";" (rarely): a program that needs the exact list reads the
                # FHIR export (one component per factor) or the API's "factors".
                FACTOR_SEPARATOR.join(entry.factors or ()),
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
