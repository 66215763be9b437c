"""Who is on the other end of a WebSocket: a session cookie or an API token.

A token comes as `?token=<key>` (the original API's way) or in the `Sec-WebSocket-Protocol`
header as the pair of subprotocols `token, <key>` (browsers cannot set other headers). A consumer
must then accept with the subprotocol `token` echoed, or browsers close the socket:
`await self.accept(subprotocol=self.scope.get("auth_subprotocol"))`.
"""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern
from django.utils.crypto import constant_time_compare

from accounts.authentication import plausible_key
from accounts.middleware import LAST_ACTIVITY, session_idle
from accounts.models import User
from accounts.services import check_token
from config.db import on_database_thread

TOKEN_SUBPROTOCOL = "token"


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


@on_database_thread
def user_for_token(key: str) -> Any:
    if not plausible_key(key):
        return AnonymousUser()
    token = check_token(key)  # an idle token is refused (and deleted) here too
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Replaces the session's user with the token's when a token is presented.

    A presented but unknown token means anonymous: it never falls back to the session.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key, subprotocol = token_from_scope(scope)
        if key is not None:
            scope = dict(scope)
            scope["user"] = await user_for_token(key)
            scope["auth_subprotocol"] = subprotocol
            # Which credential the socket stands on: a close event names it (accounts.sockets).
            scope["auth_via_token"] = True
        elif _session_idle(scope):
            scope = dict(scope)
            scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


def _session_idle(scope: dict[str, Any]) -> bool:
    """A session signed out for idleness on the next page is refused here too (the channels
    auth middleware has loaded it already: no query)."""
    user, session = scope.get("user"), scope.get("session")
    if user is None or session is None or not user.is_authenticated:
        return False
    return session_idle(session, time.time())


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
        key, _ = token_from_scope(scope)
        token = check_token(key) if key and plausible_key(key) else None
        return token is not None and token.user_id == user.pk and token.user.is_active
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
        session.save()
    return True


still_signed_in = on_database_thread(credentials_valid)


def websocket_application(routes: list[URLPattern]) -> Any:
    """The WebSocket stack every route goes through: origin check, session, token, router."""
    return AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(routes))))
