"""Request checks that hold for every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_ERROR = "Addresses must not contain NUL characters."
ADMIN_NUL_ERROR = "Searches and filters must not contain NUL characters."


class RejectNulMiddleware:
    """A 400 for an address holding a NUL character (`/chat/a%00b/`), before any view runs.

    No route takes one, and PostgreSQL cannot compare text with one: psycopg raises, so the
    username lookups behind such paths were 500s there (SQLite just found nothing). Query
    parameters are left to the views, which ignore the ones they do not know (an API client
    may send extra ones) and refuse or clean the ones they use; only the admin's are checked
    here. Form fields and serializers refuse NUL in bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse({"error": NUL_ERROR}, status=400)
            return HttpResponseBadRequest(NUL_ERROR, content_type="text/plain; charset=utf-8")
        if request.path.startswith("/admin/") and _nul_in_query(request):
            # The admin's search (?q=) and filters send every value to the database.
            return HttpResponseBadRequest(ADMIN_NUL_ERROR, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _nul_in_query(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )
