"""Admin pages that show people's diary data or messages leave a trace in their access log.

A patient's "Who viewed my diary" would otherwise miss the one reader with access to
everything: an administrator. Every admin page that shows such rows (the list, one row, its
history and its delete confirmation) writes one access-log row per person shown, in one insert.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from accounts import access


class LogsReadsAdmin(admin.ModelAdmin):
    """A ModelAdmin whose pages write to the access log of the people whose data they show."""

    # What the access log says was read: "notes" is logged as "administrator: notes".
    read_what = ""

    def read_people(self, obj: Model) -> Iterable[int]:
        """The ids of the people whose data `obj` is (the owner of an entry; both sides of a
        message)."""
        return [obj.owner_id]

    def _log_reads(self, request: HttpRequest, objects: Iterable[Model]) -> None:
        people = {pk for obj in objects for pk in self.read_people(obj)}
        access.record_admin_reads(admin=request.user, patient_ids=people, what=self.read_what)

    @staticmethod
    def _context(response: HttpResponse) -> dict[str, Any]:
        # A TemplateResponse still holds its context; a redirect (after a save, an action) has none.
        return getattr(response, "context_data", None) or {}

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = self._context(response)
        if (changelist := context.get("cl")) is not None:
            # The page's own rows: evaluating them here fills the cache the template reads.
            self._log_reads(request, changelist.result_list)
        elif (selected := context.get("queryset")) is not None and selected.model is self.model:
            # "Delete selected": the confirmation page lists the selected rows.
            self._log_reads(request, selected)
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = self._context(response).get("original")
        if shown is not None:
            self._log_reads(request, [shown])
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        self._log_shown_object(request, response)
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().delete_view(request, object_id, extra_context)
        self._log_shown_object(request, response)
        return response

    def _log_shown_object(self, request: HttpRequest, response: HttpResponse) -> None:
        shown = self._context(response).get("object")
        if isinstance(shown, self.model):
            self._log_reads(request, [shown])
