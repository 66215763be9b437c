"""A database error during a request: retried once where that is safe, otherwise a 503.

When PostgreSQL restarts or a backend is terminated, the request whose query was in flight fails
with OperationalError. That is no bug of the request, and nothing about it is a 500: a GET or
HEAD (which only reads, bar the access log) runs once more on a fresh connection, and anything
else is answered 503 with `Retry-After` ({"error"} under /api/, a page otherwise) and nothing
half done (each write is its own transaction). Pooled connections are checked before use
(core/postgresql/base.py), so after the database is back no request meets a dead one.

Django turns exceptions into responses inside every middleware layer, so no middleware above
sees the exception itself. Two hooks catch it instead: `process_exception` for views (and
their templates), and `server_error`, the project's handler500, for the middleware layers that
query (the session and the user are loaded there). Both say so to the middleware through the
request, and the middleware decides: retry, or keep the 503.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from core.middleware import BothModesMiddleware

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds: a restarting PostgreSQL is usually back by then
SAFE_METHODS = frozenset({"GET", "HEAD"})
# English message ids: said with gettext() in the request's language (_language).
UNAVAILABLE = gettext_noop(
    "The database is unavailable just now. Please try again in a few seconds."
)
SERVER_ERROR = gettext_noop("Something went wrong on our side. Please try again in a moment.")


def transient(exc: BaseException) -> bool:
    """A lost or refused connection (worth another try), not a bug in a query."""
    return isinstance(exc, (OperationalError, InterfaceError))


def _drop_connections() -> None:
    """Close this thread's connections: a broken one goes back to the pool, which discards it,
    and the next query gets a checked one."""
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(DatabaseError):
            conn.close()


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 for a database error: JSON under /api/, the friendly page otherwise."""
    with translation.override(_language(request)):
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"error": gettext(UNAVAILABLE)}, status=503)
        else:
            # A template of its own, without base.html: its context processors query the database.
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    _drop_connections()
    request._database_error = exc  # type: ignore[attr-defined]  # read by the middleware
    if transient(exc):
        logger.warning("Database error on %s %s: %s", request.method, request.path, exc)
    else:  # a query the database refused: a bug to look at, still no 500 for the client
        logger.error("Database error on %s %s", request.method, request.path, exc_info=exc)
    response = unavailable(request)
    response._has_been_logged = True  # type: ignore[attr-defined]  # no second line with a trace
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database error raised in a middleware layer is a 503; anything else is the
    friendly 500 ({"error"} under /api/)."""
    exc = sys.exception()
    if isinstance(exc, DatabaseError):
        return _database_error(request, exc)
    with translation.override(_language(request)):
        if request.path.startswith("/api/"):
            return JsonResponse({"error": gettext(SERVER_ERROR)}, status=500)
        return HttpResponse(loader.render_to_string("500.html"), status=500)


def _language(request: HttpRequest) -> str:
    """The page's language when the language middleware ran (the profile's), else the
    browser's: an error in a layer above it (the session, the user) has no other."""
    return getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)


class DatabaseFaultMiddleware(BothModesMiddleware):
    """Near the top of the stack: retries a safe request once after a transient database error.

    A retry runs the whole stack below again (session, user, view) on a fresh connection. A GET
    that wrote an access-log row before failing may write it twice; nothing else a GET does
    writes.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self._retry(request):
            return self.get_response(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        if self._retry(request):
            return await self.get_response(request)
        return response

    @staticmethod
    def _retry(request: HttpRequest) -> bool:
        exc = getattr(request, "_database_error", None)
        if exc is None or request.method not in SAFE_METHODS or not transient(exc):
            return False
        del request._database_error  # type: ignore[attr-defined]
        logger.warning("Retrying %s %s once after a database error", request.method, request.path)
        return True

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DatabaseError):
            return _database_error(request, exc)
        return None
