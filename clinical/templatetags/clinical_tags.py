"""Template tags through which diary pages show this app's parts without importing it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import template
from django.utils import timezone

from clinical.brief import brief_context, brief_from_digest
from clinical.digest import (
    AROUND,
    DoseRow,
    PegSummary,
    build_clinical_digest,
    doses_and_checkins,
    latest_pegs,
)
from clinical.models import week_start
from clinical.panels import diary_panels_context, notes_and_medications
from diary.digest import Digest, user_timezone

register = template.Library()


@register.inclusion_tag("clinical/_diary_panels.html", takes_context=True)
def clinical_panels(context: template.Context) -> dict[str, Any]:
    """The diary page's medication and check-in panels, for the signed-in patient."""
    request = context["request"]
    return {
        **diary_panels_context(request.user),
        "request": request,
    }


def _digest_clinical_rows(digest: Digest) -> tuple[list[DoseRow], list]:
    """The doses and check-ins of a digest page's sections, read once per page (kept on the
    digest): on a doctor's digest, which read the period before too (`since`, for the printed
    brief), every dose from that day and the check-ins before it; else the period's rescue
    doses and check-ins."""
    if "clinical" not in digest.section_rows:
        tz = user_timezone(digest.patient)
        period = digest.period
        first = digest.since if digest.since is not None else period.start
        end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
        digest.section_rows["clinical"] = doses_and_checkins(
            digest.patient,
            datetime.combine(first, time.min, tzinfo=tz),
            end,
            week_start(first),
            period.end,
            rescue_only=digest.since is None,
        )
    return digest.section_rows["clinical"]


@register.inclusion_tag("clinical/_digest_section.html", takes_context=True)
def clinical_digest(context: template.Context) -> dict[str, Any]:
    """The digest page's medication and PEG section, for the digest's patient and period (the
    page itself decided who may read it, and logged the read)."""
    patient = context["patient"]
    digest = context["digest"]
    # The digest read the entries around its period already when it read far enough.
    readings = digest.readings if digest.margin >= AROUND else None
    return {
        "clinical": build_clinical_digest(
            patient=patient,
            period=digest.period,
            tz=user_timezone(patient),
            readings=readings,
            rows=_digest_clinical_rows(digest),
        ),
        "as_doctor": context.get("as_doctor", False),
        "period_label": context.get("period_label", ""),
        "around_hours": int(AROUND.total_seconds() // 3600),
    }


@register.inclusion_tag("clinical/_brief_print.html", takes_context=True)
def clinical_brief_print(context: template.Context) -> dict[str, Any]:
    """The doctor's brief as the first page of the printed digest, for the digest's period
    against the one before (hidden on screen). Only on a doctor's digest: the page decided who
    may read it and logged the read. No query of its own: the digest read the period before
    too, and the doses and check-ins serve the clinical section as well."""
    if not context.get("as_doctor"):
        return {}
    patient = context["patient"]
    digest = context["digest"]
    doses, checkins = _digest_clinical_rows(digest)
    brief = brief_from_digest(digest, doses, checkins, patient.tzinfo)
    return {**brief_context(brief), "patient_zone": context.get("patient_zone", "")}


@register.simple_tag
def clinical_notes_and_medications(patient: Any, notes: Any) -> dict[str, Any]:
    """For a doctor's view of a patient's diary: the page's `notes` (a queryset: those the
    doctor may read) and what the patient takes, in one query (`notes_and_medications`); the
    page decided who may read them, and logged the read."""
    note_list, medications = notes_and_medications(patient, notes)
    return {"notes": note_list, "medications": medications}


@register.inclusion_tag("clinical/_medications_readonly.html")
def clinical_medications(summary: dict[str, Any]) -> dict[str, Any]:
    """The doctor's read-only view of what a patient takes (the medications of
    `clinical_notes_and_medications`)."""
    return summary


class _PegRow:
    """A row of My patients with the patient's latest PEG (the row's own fields pass through)."""

    def __init__(self, row: Any, peg: PegSummary) -> None:
        self._row = row
        self.peg = peg

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


@register.simple_tag(takes_context=True)
def with_peg(context: template.Context, rows: list[Any]) -> list[_PegRow]:
    """My patients' rows with each patient's latest PEG; `?sort=peg` puts a rise of 1 point or
    more first, then the highest scores (patients without a check-in last)."""
    tz = user_timezone(context["request"].user)
    pegs = latest_pegs([row.patient.pk for row in rows], timezone.now().astimezone(tz).date())
    result = [_PegRow(row, pegs[row.patient.pk]) for row in rows]
    if context["request"].GET.get("sort") == "peg":
        result.sort(key=lambda r: (not r.peg.rose, r.peg.latest is None, -(r.peg.latest or 0)))
    return result
