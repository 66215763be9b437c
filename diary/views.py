"""The diary's pages: the body map, pain entries and notes, with htmx fragments for each change.

Every form also works without JavaScript: a plain POST redirects back, and every fragment has a
page of its own. Rows are always fetched through the signed-in user's own queryset, so another
user's entry or note is a 404, whichever door the request came through. Views answering a
fragment to htmx and a page otherwise at one URL send `Vary: HX-Request`, or the browser's Back
button could show a cached fragment as the page.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from accounts import access
from accounts.models import User
from diary import services
from diary.bodymap import LABELS, map_views, part_choices
from diary.digest import patients_by_attention
from diary.exports import EXPORT_FORMATS, export_response
from diary.forms import NoteForm, PainEntryForm, add_service_errors, now_to_the_minute
from diary.models import INTENSITY_MAX, INTENSITY_MIN, Note, PainEntry

# The map shows how much each part hurt lately, not ever.
RECENT = timedelta(days=7)
# Enough for months of daily entries; older ones are one filter away.
ENTRY_LIST_LIMIT = 200
DIARY = "diary/diary.html"
NOTES = "diary/notes.html"
PAGE = "diary/page.html"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User


# --- context builders ---------------------------------------------------------------------------


def _map_context(user: User) -> dict[str, Any]:
    levels = PainEntry.objects.for_user(user).since(timezone.now() - RECENT).max_intensity_by_part()
    return {"map_views": map_views(levels), "levels": range(INTENSITY_MIN, INTENSITY_MAX + 1)}


def _day_label(day: date, today: date) -> str:
    """Today or Yesterday; an empty label lets the template spell the date out."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return ""


def _entry_list_context(user: User, part: str = "") -> dict[str, Any]:
    """The entries newest first, grouped by day in the user's time zone; `part` filters."""
    entries = PainEntry.objects.for_user(user).select_related("body_part")
    if part:
        entries = entries.filter(body_part__name=part)
    rows = list(entries[: ENTRY_LIST_LIMIT + 1])
    today = timezone.localdate()
    days = [
        {"label": _day_label(day, today), "date": day, "entries": list(group)}
        for day, group in groupby(
            rows[:ENTRY_LIST_LIMIT], key=lambda e: timezone.localtime(e.date_recorded).date()
        )
    ]
    return {
        "days": days,
        "truncated": len(rows) > ENTRY_LIST_LIMIT,
        "part": part,
        "part_label": LABELS.get(part, ""),
        "part_choices": part_choices(),
    }


def _entry_form(part: str = "") -> PainEntryForm:
    return PainEntryForm(initial={"body_part": part, "date_recorded": now_to_the_minute()})


def _fragments(request: HttpRequest, *parts: tuple[str, dict[str, Any]]) -> str:
    return "".join(render_to_string(name, context, request) for name, context in parts)


def _after_entry_change(request: HtmxHttpRequest, panel: str = "") -> HttpResponse:
    """The refreshed entry list and map after a change, the map swapped out of band.

    With `panel` (a save from the entry panel, which is the request's target) the panel is the
    main content and the list comes out of band too; otherwise the list is the target.
    """
    html = _fragments(
        request,
        (f"{DIARY}#entry-list", {**_entry_list_context(request.user), "oob": bool(panel)}),
        (f"{DIARY}#body-map", {**_map_context(request.user), "oob": True}),
    )
    return HttpResponse(panel + html)


def _get_entry(request: HtmxHttpRequest, pk: int) -> PainEntry:
    try:
        return PainEntry.objects.for_user(request.user).select_related("body_part").get(pk=pk)
    except PainEntry.DoesNotExist:
        raise Http404("No such entry in your diary.") from None


def _get_note(request: HtmxHttpRequest, pk: int) -> Note:
    try:
        return request.user.notes.get(pk=pk)
    except Note.DoesNotExist:
        raise Http404("No such note.") from None


def _page(
    request: HttpRequest, title: str, fragment: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A fragment on a page of its own, for browsers without JavaScript."""
    back = "diary:notes" if fragment.startswith(NOTES) else "diary:diary"
    return render(
        request,
        PAGE,
        {**context, "title": title, "fragment": fragment, "back": back, "page": True},
        status=status,
    )


# --- the diary page -----------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def diary(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_doctor:
        # A doctor keeps no diary here (the nav offers none): their work is their patients.
        return redirect("diary:patients")
    part = request.GET.get("part", "")
    status = 200
    unknown_part = ""
    if part and part not in LABELS:
        unknown_part, part, status = part, "", 400
    context = {**_entry_list_context(request.user, part), "unknown_part": unknown_part}
    if request.htmx and request.htmx.target == "entry-list":
        return render(request, f"{DIARY}#entry-list", context, status=status)
    context.update(_map_context(request.user))
    return render(request, DIARY, context, status=status)


# --- pain entries -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def entry_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        part = request.GET.get("part", "")
        form = _entry_form(part if part in LABELS else "")
        context = {"form": form, "unknown_part": part if part and part not in LABELS else ""}
        if request.htmx:
            # From a map click: the part is fixed and named in the heading.
            context["chosen_part"] = part if part in LABELS else ""
            return render(request, f"{DIARY}#entry-panel", context)
        # Without JavaScript the part stays a (preselected) <select> the user can see and change.
        return _page(request, "Record pain", f"{DIARY}#entry-panel", context)

    form = PainEntryForm(request.POST)
    # The form from a map click hides the part; it shows the list again only to a no-JS user.
    chosen_part = request.POST.get("chosen_part", "")
    if form.is_valid():
        try:
            entry = services.record_pain(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                panel = render_to_string(f"{DIARY}#entry-panel", {"saved": entry}, request)
                return _after_entry_change(request, panel)
            messages.success(request, f"Saved: {entry.body_part.label}, {entry.intensity}/10.")
            return redirect("diary:diary")
    context = {"form": form, "chosen_part": chosen_part if chosen_part in LABELS else ""}
    if request.htmx:
        return render(request, f"{DIARY}#entry-panel", context, status=422)
    return _page(request, "Record pain", f"{DIARY}#entry-panel", context, status=422)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def entry_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    if request.htmx:
        return render(request, f"{DIARY}#entry-item", {"entry": entry})
    return redirect(f"{reverse('diary:diary')}#entry-{entry.pk}")


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def entry_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    auto_id = f"entry-{entry.pk}-%s"
    if request.method == "GET":
        form = PainEntryForm(
            auto_id=auto_id,
            initial={
                "body_part": entry.body_part.name,
                "pain_type": entry.pain_type,
                "intensity": entry.intensity,
                "date_recorded": entry.date_recorded,
                "description": entry.description,
            },
        )
        context = {"form": form, "entry": entry}
        if request.htmx:
            return render(request, f"{DIARY}#entry-edit", context)
        return _page(request, "Edit entry", f"{DIARY}#entry-edit", context)

    form = PainEntryForm(request.POST, auto_id=auto_id)
    if form.is_valid():
        try:
            services.update_pain_entry(entry=entry, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                return _after_entry_change(request)
            messages.success(request, "The entry was saved.")
            return redirect("diary:diary")
    entry.refresh_from_db()
    context = {"form": form, "entry": entry}
    if request.htmx:
        # The form went out aimed at the list; an error goes back into the form instead.
        response = render(request, f"{DIARY}#entry-edit", context, status=422)
        return reswap(retarget(response, f"#entry-{entry.pk}"), "outerHTML")
    return _page(request, "Edit entry", f"{DIARY}#entry-edit", context, status=422)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def entry_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    entry = _get_entry(request, pk)
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{DIARY}#entry-delete", {"entry": entry})
        return _page(request, "Delete entry", f"{DIARY}#entry-delete", {"entry": entry})
    services.delete_pain_entry(entry=entry)
    if request.htmx:
        return _after_entry_change(request)
    messages.success(request, "The entry was deleted.")
    return redirect("diary:diary")


# --- notes --------------------------------------------------------------------------------------


def _note_list_context(user: User) -> dict[str, Any]:
    return {"notes": list(user.notes.all())}


@require_GET
@login_required
def notes(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, NOTES, {**_note_list_context(request.user), "form": NoteForm()})


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def note_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{NOTES}#note-form", {"form": NoteForm()})
        return _page(request, "New note", f"{NOTES}#note-form", {"form": NoteForm()})
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            note = services.create_note(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                html = _fragments(
                    request,
                    (f"{NOTES}#note-form", {"form": NoteForm(), "saved": note}),
                    (f"{NOTES}#note-list", {**_note_list_context(request.user), "oob": True}),
                )
                return HttpResponse(html)
            messages.success(request, f"Note “{note.title}” saved.")
            return redirect("diary:notes")
    if request.htmx:
        return render(request, f"{NOTES}#note-form", {"form": form}, status=422)
    return _page(request, "New note", f"{NOTES}#note-form", {"form": form}, status=422)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def note_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    if request.htmx:
        return render(request, f"{NOTES}#note-item", {"note": note})
    return redirect(f"{reverse('diary:notes')}#note-{note.pk}")


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def note_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    auto_id = f"note-{note.pk}-%s"
    if request.method == "GET":
        initial = {"title": note.title, "body": note.body, "shared": note.shared}
        form = NoteForm(auto_id=auto_id, initial=initial)
        context = {"form": form, "note": note}
        if request.htmx:
            return render(request, f"{NOTES}#note-edit", context)
        return _page(request, "Edit note", f"{NOTES}#note-edit", context)
    form = NoteForm(request.POST, auto_id=auto_id)
    if form.is_valid():
        try:
            services.update_note(note=note, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.htmx:
                return render(request, f"{NOTES}#note-item", {"note": note})
            messages.success(request, "The note was saved.")
            return redirect("diary:notes")
    note.refresh_from_db()
    context = {"form": form, "note": note}
    if request.htmx:
        return render(request, f"{NOTES}#note-edit", context, status=422)
    return _page(request, "Edit note", f"{NOTES}#note-edit", context, status=422)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def note_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{NOTES}#note-delete", {"note": note})
        return _page(request, "Delete note", f"{NOTES}#note-delete", {"note": note})
    services.delete_note(note=note)
    if request.htmx:
        return render(request, f"{NOTES}#note-list", _note_list_context(request.user))
    messages.success(request, "The note was deleted.")
    return redirect("diary:notes")


# --- doctors: their patients, and a patient's diary read-only ----------------------------------


def _require_doctor(request: HtmxHttpRequest) -> None:
    if not request.user.is_doctor:
        raise Http404("Only doctors have patients.")


def linked_patient(request: HtmxHttpRequest, username: str, *, what: str) -> User:
    """The patient a doctor opens from "My patients" (an active link), the read logged as
    `what`; a 404 for anyone else, with no hint whether the patient exists."""
    _require_doctor(request)
    patient = access.readable_patient(request.user, username)
    if patient is None or patient.pk == request.user.pk:
        raise Http404("No such patient among yours.")
    access.record_diary_access(viewer=request.user, patient=patient, what=what)
    return patient


# A doctor lands on My patients and reloads it between appointments: one row an hour per patient.
PATIENT_LIST_LOGGED_ONCE_PER = timedelta(hours=1)


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
    visit), then the map and the entries.

    Times are in the PATIENT's zone, labelled: "woke at 3 with pain" and which day an entry
    belongs to only mean something in the patient's day, not the reader's. The page says which
    zone that is and, when it differs, the doctor's own.
    """
    patient = linked_patient(request, username, what="diary page")
    patient_zone = patient.tzinfo
    with timezone.override(patient_zone):
        entries = list(
            PainEntry.objects.for_user(patient).select_related("body_part")[: ENTRY_LIST_LIMIT + 1]
        )
        today = timezone.localdate()
        days = [
            {"label": _day_label(day, today), "date": day, "entries": list(group)}
            for day, group in groupby(
                entries[:ENTRY_LIST_LIMIT], key=lambda e: timezone.localtime(e.date_recorded).date()
            )
        ]
        # Rendered inside the override: every date in the template is in the patient's zone.
        return render(
            request,
            "diary/patient_diary.html",
            {
                **_map_context(patient),
                "patient": patient,
                "patient_zone": patient_zone.key,
                "viewer_zone": request.user.tzinfo.key,
                "days": days,
                "truncated": len(entries) > ENTRY_LIST_LIMIT,
                "shared_notes": patient.notes.filter(shared=True),
                "readonly": True,
            },
        )


@require_GET
@login_required
def export(request: HtmxHttpRequest) -> HttpResponse:
    """The digest page's download buttons (`?format=csv|csv-notes|fhir`, a doctor adds
    `&patient=<username>`)."""
    fmt = request.GET.get("format", "")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse("Unknown export format.", status=400, content_type="text/plain")
    patient = access.readable_patient(request.user, request.GET.get("patient", ""))
    if patient is None:
        raise Http404("No such patient among yours.")
    return export_response(viewer=request.user, patient=patient, fmt=fmt)
