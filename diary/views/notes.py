"""Notes: the patient's own, private unless shared with their linked doctors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from diary import services
from diary.forms import NewNoteForm, NoteForm, add_service_errors
from diary.models import Note
from diary.views import NOTES, HtmxHttpRequest, answer


def _get_note(request: HtmxHttpRequest, pk: int) -> Note:
    try:
        return request.user.notes.get(pk=pk)
    except Note.DoesNotExist:
        raise Http404(_("No such note.")) from None


def _note_list_context(user: Any) -> dict[str, Any]:
    return {"notes": list(user.notes.all())}


@require_GET
@login_required
def notes(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, NOTES, {**_note_list_context(request.user), "form": NewNoteForm()})


@require_http_methods(["GET", "POST"])
@login_required
def note_new(request: HtmxHttpRequest) -> HttpResponse:
    form = NewNoteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        client_id = data.pop("client_id", None)
        try:
            if client_id is None:
                note = services.create_note(owner=request.user, **data)
            else:
                note, _created = services.create_note_once(
                    owner=request.user, client_id=client_id, **data
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("Note “%(title)s” saved.") % {"title": note.title})
                return redirect("diary:notes")
            html = render_to_string(
                f"{NOTES}#note-form", {"form": NewNoteForm(), "saved": note}, request
            ) + render_to_string(
                f"{NOTES}#note-list", {**_note_list_context(request.user), "oob": True}, request
            )
            return HttpResponse(html)
    status = 422 if form.is_bound else 200
    return answer(
        request,
        NOTES,
        {"form": form},
        fragment="note-form",
        alone=gettext_lazy("New note"),
        status=status,
    )


@require_GET
@login_required
@vary_on_headers("HX-Request")
def note_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    if request.htmx:
        return answer(request, NOTES, {"note": note}, fragment="note-item")
    return redirect(f"{reverse('diary:notes')}#note-{note.pk}")


@require_http_methods(["GET", "POST"])
@login_required
def note_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    data = request.POST if request.method == "POST" else None
    form = NoteForm(data, instance=note, auto_id=f"note-{note.pk}-%s")
    if form.is_bound and form.is_valid():
        try:
            services.update_note(note=note, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The note was saved."))
                return redirect("diary:notes")
            return answer(request, NOTES, {"note": note}, fragment="note-item")
    status = 422 if form.is_bound else 200
    context = {"form": form, "note": note}
    return answer(
        request,
        NOTES,
        context,
        fragment="note-edit",
        alone=gettext_lazy("Edit note"),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def note_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    note = _get_note(request, pk)
    if request.method == "GET":
        context = {"note": note}
        return answer(
            request, NOTES, context, fragment="note-delete", alone=gettext_lazy("Delete note")
        )
    services.delete_note(note=note)
    if not request.htmx:
        messages.success(request, _("The note was deleted."))
        return redirect("diary:notes")
    return answer(request, NOTES, _note_list_context(request.user), fragment="note-list")
