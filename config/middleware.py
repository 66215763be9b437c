"""Request checks that hold for every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_ERROR = "Addresses must not contain NUL characters."


class RejectNulMiddleware:
    """A 400 for an address holding a NUL character (`/chat/a%00b/`), before any view runs.

    No route takes one, and PostgreSQL cannot compare text with one: psycopg raises, so the
    username lookups behind such paths were 500s there (SQLite just found nothing). Query
    parameters are left to the views, which ignore the ones they do not know (an API client
    may send extra ones) and refuse or clean the ones they use; form fields and serializers
    refuse NUL in bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse({"error": NUL_ERROR}, status=400)
            return HttpResponseBadRequest(NUL_ERROR, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
