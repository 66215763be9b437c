"""A doctor's side: My patients, and a linked patient's diary read-only."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from accounts.models import User
from diary.digest import patients_by_attention
from diary.views import HtmxHttpRequest
from diary.views.entries import entry_list_context, map_context

# A doctor lands on My patients and reloads it between appointments: one row an hour per patient.
PATIENT_LIST_LOGGED_ONCE_PER = timedelta(hours=1)


def _require_doctor(request: HtmxHttpRequest) -> None:
    if not request.user.is_doctor:
        raise Http404(_("Only doctors have patients."))


def linked_patient(request: HtmxHttpRequest, username: str, *, what: str) -> User:
    """The patient a doctor opens from "My patients" (an active link), the read logged as
    `what`; a 404 for anyone else, with no hint whether the patient exists."""
    _require_doctor(request)
    patient = access.readable_patient(request.user, username)
    if patient is None or patient.pk == request.user.pk:
        raise Http404(_("No such patient among yours."))
    access.record_diary_access(viewer=request.user, patient=patient, what=what)
    return patient


@require_GET
@login_required
def patients(request: HtmxHttpRequest) -> HttpResponse:
    _require_doctor(request)
    rows = patients_by_attention(request.user)
    # Each row shows that patient's worst pain and trend: a read of their diary, like any other.
    access.record_diary_reads(
        viewer=request.user,
        patient_ids=[row.patient.pk for row in rows],
        what="patient list",
        once_per=PATIENT_LIST_LOGGED_ONCE_PER,
    )
    return render(request, "diary/patients.html", {"rows": rows})


@require_GET
@login_required
def patient_diary(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """A linked patient's diary, read-only: the notes they shared first (their questions for the
    visit), then the map and the entries, drawn by the patient's own diary's partials.

    Times are in the PATIENT's zone, labelled: "woke at 3 with pain" and which day an entry
    belongs to only mean something in the patient's day, not the reader's. The page says which
    zone that is and, when it differs, the doctor's own.
    """
    patient = linked_patient(request, username, what="diary page")
    zone = patient.tzinfo
    # Rendered inside the override: every date in the template is in the patient's zone.
    with timezone.override(zone):
        # Not cached (a doctor's read is rarer than the patient's own): the list's rows also
        # colour the map, so the page stays within its queries.
        entries = entry_list_context(patient, readonly=True)
        context = {
            **entries,
            **map_context(patient, entries["listing"].recent_levels()),
            "patient": patient,
            "patient_zone": zone.key,
            "viewer_zone": request.user.tzinfo.key,
            "patient_now": timezone.now(),  # the zone note's clock
            "shared_notes": patient.notes.filter(shared=True),
            "readonly": True,
        }
        return render(request, "diary/patient_diary.html", context)
