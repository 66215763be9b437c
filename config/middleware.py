"""Request checks that hold for every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL_ERROR = "Addresses and query parameters must not contain NUL characters."


class RejectNulMiddleware:
    """A 400 for a path or query parameter holding a NUL character, before any view runs.

    No route takes one, and PostgreSQL cannot compare text with one: psycopg raises, so a
    lookup such as `?patient=a%00b` or `/chat/a%00b/` was a 500 there (SQLite just found
    nothing). Form fields and API serializers refuse NUL in bodies themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": NUL_ERROR}, status=400)
            return HttpResponseBadRequest(NUL_ERROR, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
