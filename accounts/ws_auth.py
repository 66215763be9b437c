"""Who is on the other end of a WebSocket: a session cookie or an API token.

A token comes as `?token=<key>` (the original API's way) or in the `Sec-WebSocket-Protocol`
header as the pair of subprotocols `token, <key>` (browsers cannot set other headers). A consumer
must then accept with the subprotocol `token` echoed, or browsers close the socket:
`await self.accept(subprotocol=self.scope.get("auth_subprotocol"))`.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.urls import URLPattern, re_path
from django.utils.crypto import constant_time_compare

from accounts.authentication_cache import resolve_token
from accounts.middleware import LAST_ACTIVITY, session_idle
from accounts.models import User
from core.realtime import SocketConsumer, on_database_thread
from core.realtime.auth import SocketAuthMiddleware, resolve_session, session_for

TOKEN_SUBPROTOCOL = "token"
TRY_AGAIN_LATER = 1013  # RFC 6455's close code for a server that is briefly unable to serve

logger = logging.getLogger(__name__)


def token_from_scope(scope: dict[str, Any]) -> tuple[str | None, str | None]:
    """The token key a client presented, and the subprotocol to echo when it came in the header."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], None
    subprotocols = list(scope.get("subprotocols") or [])
    if TOKEN_SUBPROTOCOL in subprotocols:
        index = subprotocols.index(TOKEN_SUBPROTOCOL)
        if index + 1 < len(subprotocols):
            return subprotocols[index + 1], TOKEN_SUBPROTOCOL
        return "", TOKEN_SUBPROTOCOL
    return None, None


def user_for_token(key: str) -> Any:
    """The active user of a live API token (roles loaded), or AnonymousUser: the resolution
    DRF uses too, at most one query and none while cached (database thread)."""
    found = resolve_token(key)  # an idle token is refused (and deleted) here too
    if found is None or not found[0].is_active:
        return AnonymousUser()
    return found[0]


def resolve_socket_user(scope: dict[str, Any]) -> dict[str, Any]:
    """Who opened the socket, for core.realtime's SocketAuthMiddleware (on the database thread).

    A presented token decides alone: an unknown one means anonymous, never a fallback to the
    session (which is then not even read). Otherwise the session cookie's user, unless the
    session is one the next page would sign out for idleness.
    """
    key, subprotocol = token_from_scope(scope)
    if key is not None:
        # Which credential the socket stands on: a close event names it (accounts.sockets).
        return {
            "session": session_for(scope),  # not loaded: no query
            "user": user_for_token(key),
            "auth_subprotocol": subprotocol,
            "auth_via_token": True,
        }
    found = resolve_session(scope)
    if found["user"].is_authenticated and session_idle(found["session"], time.time()):
        found["user"] = AnonymousUser()
    return found


def credentials_valid(scope: dict[str, Any]) -> bool:
    """Whether what the socket was opened with still holds: its token (live, not idle, of an
    active user) or its session (the same user, still signed in, not idle). A session whose
    socket is in use counts as active: its stamp is refreshed, at most once a minute.

    Sockets ask when they connect (after joining their close group, so that no end is missed
    between the handshake and the join) and again at most once a minute while they send, which
    bounds how long a socket outlives its credential if a close event was lost.
    """
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return False
    if scope.get("auth_via_token"):
        # The same resolution as the handshake's: a cache read while the token lives; an ended
        # token's entry is a tombstone by the time its close event is sent, so the database
        # answers then.
        key, _ = token_from_scope(scope)
        found = resolve_token(key)
        return found is not None and found[0].pk == user.pk and found[0].is_active
    session_key = getattr(scope.get("session"), "session_key", None)
    if not session_key:
        return False
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(session.get(SESSION_KEY)) != str(user.pk):
        return False  # signed out, flushed, or gone
    fresh = User.objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None or not constant_time_compare(
        session.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash()
    ):
        return False
    now = int(time.time())
    if session_idle(session, now):
        return False
    stamp = session.get(LAST_ACTIVITY)
    if not isinstance(stamp, int) or now - stamp >= settings.SESSION_ACTIVITY_RESOLUTION:
        session[LAST_ACTIVITY] = now
        try:
            session.save()
        except UpdateError:  # flushed meanwhile (a sign-out in another tab): it has ended
            return False
    return True


still_signed_in = on_database_thread(credentials_valid)


def websocket_application(routes: list[URLPattern]) -> Any:
    """The WebSocket stack every route goes through: origin check, router, session or token.

    The credential is resolved inside the router, around each route's consumer, so that the
    consumer's `prefetch` (its route's kwargs known) runs in the same trip to the database
    thread (core.realtime.auth). A path no route takes is refused like a foreign origin (403),
    not a 500 from the router, and reads no credential; a database error no consumer handled
    ends the socket cleanly (CloseOnDatabaseError).
    """
    signed_in = [
        URLPattern(
            route.pattern,
            SocketAuthMiddleware(route.callback, resolve_socket_user),
            route.default_args,
            route.name,
        )
        for route in routes
    ]
    fallback = re_path(r"", UnknownRouteConsumer.as_asgi())
    return CloseOnDatabaseError(SameOriginValidator(URLRouter([*signed_in, fallback])))


class CloseOnDatabaseError:
    """A database error no consumer handled ends its socket cleanly, with a warning.

    Before the handshake is accepted (the session, the token, the peer are looked up) the socket
    is refused; after it, it closes with 1013 (Try Again Later), not 1011 with a trace. A
    client reconnects when the database is back. Errors while sending are the consumer's own
    (an error frame, the socket stays open).
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        accepted = closed = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal accepted, closed
            accepted = accepted or message["type"] == "websocket.accept"
            closed = closed or message["type"] == "websocket.close"
            await send(message)

        try:
            return await self.application(scope, receive, tracking_send)
        except DatabaseError as exc:
            logger.warning("WebSocket %r ended by a database error: %s", scope["path"][:200], exc)
            if not closed:
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            return None


class UnknownRouteConsumer(SocketConsumer):
    """Every /ws/ path no route takes: the handshake is refused (403) with a warning."""

    async def connect(self) -> None:
        logger.warning("WebSocket refused: no route for %r", self.scope["path"][:200])
        await self.close()


DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]  # scheme, host, port


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, the default port filled in; None otherwise."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme]


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:  # as Django does for HTTP
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def own_origin(scope: dict[str, Any], host: str) -> Origin | None:
    """The socket's own origin: the Host it was asked for, http for ws and https for wss.

    Behind a TLS proxy the scheme comes from SECURE_PROXY_SSL_HEADER, as it does for HTTP.
    """
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    secure = scope.get("scheme") == "wss"
    if settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        name = header.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        forwarded = _header(scope, name)
        if forwarded is not None:
            secure = forwarded.split(",", 1)[0].strip() == value
    return parse_origin(f"{'https' if secure else 'http'}://{host}")


def trusted_origin(origin: Origin) -> bool:
    """Whether CSRF_TRUSTED_ORIGINS lists `origin` (`https://*.example.org` for subdomains)."""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        if "://*." in entry:
            pattern = parse_origin(entry.replace("://*.", "://", 1))
            if (
                pattern is not None
                and (scheme, port) == (pattern[0], pattern[2])
                and host.endswith("." + pattern[1])
            ):
                return True
        elif parse_origin(entry) == origin:
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Same origin (scheme, host and port) as the socket, or one of CSRF_TRUSTED_ORIGINS.

    Channels' AllowedHostsOriginValidator compared only the host with ALLOWED_HOSTS: a page
    on another port of the same host could open sockets with the user's cookies. A socket
    without an Origin header is refused as before (browsers always send one). Only an
    in-process test client leaves out the Host header; a browser never does, and a client
    that can leave it out can forge Origin too, so there the host check alone stays.
    """
    raw = _header(scope, b"origin")
    origin = parse_origin(raw) if raw else None
    if origin is None:
        return False
    if trusted_origin(origin):
        return True
    host = _header(scope, b"host")
    if host is None:
        return validate_host(origin[1], _allowed_hosts())
    return own_origin(scope, host) == origin


class SameOriginValidator:
    """Refuses (403) a socket whose Origin is not its own or a trusted one (origin_allowed)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        logger.info("WebSocket refused: origin not allowed for %r", scope.get("path", "")[:200])
        return await WebsocketDenier()(scope, receive, send)
