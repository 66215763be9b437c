"""Who is on the other end of a socket, found on the sockets' database thread.

Channels' AuthMiddlewareStack resolves the session user through `database_sync_to_async`, which
closes the database thread's kept connection (core.realtime.db) on every handshake, and its
session middleware does the same when it saves: the next query reconnected (10% of a handshake's
CPU). `SocketAuthMiddleware` does the same work in one call on that thread, through
`on_database_thread`, and leaves the connection alone.

The middleware is generic: `resolve(scope)` (synchronous, run on the database thread) returns
what to add to the scope. `resolve_session` is the default (the session cookie's user, checked as
`django.contrib.auth.get_user` checks it); an app passes its own to add other credentials (the
project's API tokens: accounts.ws_auth).

Wrapped around one route's consumer (inside the URL router, so that the route's kwargs are in the
scope), it also runs the consumer's `prefetch(scope)` in that trip (core.realtime.consumer): a
chat socket's peer is looked up with its credential, one hop to the database thread less per
handshake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http.cookie import parse_cookie
from django.utils.crypto import constant_time_compare

from core.realtime.db import on_database_thread

type Resolve = Callable[[dict[str, Any]], dict[str, Any]]


def cookies(scope: dict[str, Any]) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1"))
    return {}


def session_for(scope: dict[str, Any]) -> SessionBase:
    """The session the socket's cookie names (not loaded yet: no query)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store(cookies(scope).get(settings.SESSION_COOKIE_NAME))


def session_user(session: SessionBase) -> Any:
    """The session's user, or AnonymousUser: the checks of `django.contrib.auth.get_user` (a
    known backend, the user still active for it, the session hash still the user's), without
    flushing a stale session: the next page does that."""
    try:
        user_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return AnonymousUser()
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return AnonymousUser()
    return user


def resolve_session(scope: dict[str, Any]) -> dict[str, Any]:
    """`session` and `user` from the session cookie."""
    session = session_for(scope)
    return {"session": session, "user": session_user(session)}


class SocketAuthMiddleware:
    """Adds what `resolve(scope)` finds (at least `user`) to the scope, in one trip to the
    database thread per handshake, and `credentials_read_at`: (time.time(), time.monotonic())
    just before, the moment from which a close event may not have been seen by the lookup.
    Around a consumer with a `prefetch`, its result is `prefetched` (when not None)."""

    def __init__(self, application: Any, resolve: Resolve = resolve_session) -> None:
        self.application = application
        self.credentials = resolve
        consumer = getattr(application, "consumer_class", None)
        self.prefetch: Callable[[dict[str, Any]], Any] | None = getattr(consumer, "prefetch", None)
        self.resolve = on_database_thread(self._resolve)

    def _resolve(self, scope: dict[str, Any]) -> dict[str, Any]:
        found = self.credentials(scope)
        if self.prefetch is not None:
            prefetched = self.prefetch({**scope, **found})
            if prefetched is not None:
                found["prefetched"] = prefetched
        return found

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        read_at = (time.time(), time.monotonic())
        scope = {**scope, **await self.resolve(scope), "credentials_read_at": read_at}
        return await self.application(scope, receive, send)
