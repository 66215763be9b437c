"""Request checks that hold for every page and API route."""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from core.i18n import mark_language

# English message ids, said with gettext() in the browser's language (no user is loaded yet).
NUL_ERROR = gettext_noop("Addresses must not contain NUL characters.")
ADMIN_NUL_ERROR = gettext_noop("Searches and filters must not contain NUL characters.")


class BothModesMiddleware:
    """A middleware that runs in the mode of the chain around it, never hopping threads for it:
    Django adapts a sync-only middleware in an async chain (and the reverse) with a thread
    switch per request. Subclasses write `__call__`'s sync body as `handle(request)` and the
    async one as `__acall__(request)`.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError


class AcceptLanguageMiddleware(BothModesMiddleware):
    """The token API's language: its human-readable fields (a body part's `label`, error
    messages) follow Accept-Language; machine fields never change (core/i18n.py)."""

    def handle(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            return mark_language(self.get_response(request), language)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            return mark_language(await self.get_response(request), language)


class RejectNulMiddleware(BothModesMiddleware):
    """A 400 for an address holding a NUL character (`/chat/a%00b/`), before any view runs.

    No route takes one, and PostgreSQL cannot compare text with one: psycopg raises, so the
    username lookups behind such paths were 500s there (SQLite just found nothing). Query
    parameters are left to the views, which ignore the ones they do not know (an API client
    may send extra ones) and refuse or clean the ones they use; only the admin's are checked
    here. Form fields and serializers refuse NUL in bodies.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self._refuse(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return self._refuse(request) or await self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            text = _said(request, NUL_ERROR)
            if request.path.startswith("/api/"):
                return JsonResponse({"error": text}, status=400)
            return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
        if request.path.startswith("/admin/") and _nul_in_query(request):
            # The admin's search (?q=) and filters send every value to the database.
            return HttpResponseBadRequest(
                _said(request, ADMIN_NUL_ERROR), content_type="text/plain; charset=utf-8"
            )
        return None


def _said(request: HttpRequest, message: str) -> str:
    """A message in the browser's language (cookie, then Accept-Language): this runs before
    the language middleware, and the token API follows Accept-Language anyway."""
    with translation.override(translation.get_language_from_request(request)):
        return gettext(message)


def _nul_in_query(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


# Answers that carry nobody's data and may be cached (WhiteNoise's static files never reach
# this middleware: it answers them itself, before the rest of the stack).
CACHEABLE_PATHS = ("/api/schema/", "/api/docs/")
NO_STORE = "no-store, private"


class NoStoreMiddleware(BothModesMiddleware):
    """`Cache-Control: no-store, private` on every answer but a few public ones.

    Pages and API answers carry diaries, notes and messages, and every form carries a CSRF
    token, signed in or not: no shared proxy and no browser cache should keep them (the back
    button on a shared computer, a corporate proxy). One rule for everything is harder to get
    wrong than a decorator on each view. An ETag still works (the stats list answers 304 to
    an API client that kept its copy); a view that already said no-store keeps its own header.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self._mark(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return self._mark(request, await self.get_response(request))

    @staticmethod
    def _mark(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path == "/healthz" or request.path.startswith(CACHEABLE_PATHS):
            return response
        current = response.get("Cache-Control", "")
        if "no-store" not in current or "private" not in current:
            response["Cache-Control"] = NO_STORE
        return response


class HtmlGZipMiddleware(GZipMiddleware):
    """Django's GZip middleware (with its BREACH mitigation: random bytes in the gzip header
    so that compressed lengths leak nothing stable), for HTML only.

    Pages are large and compress ~5x. JSON answers stay plain: they are small, API clients
    cache them by ETag, and compressing each costs more server CPU than it saves on a fast
    link. Static files are compressed ahead of time by WhiteNoise.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
