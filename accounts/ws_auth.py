"""Who is on the other end of a WebSocket: a session cookie or an API token.

A token comes as `?token=<key>` (the original API's way) or in the `Sec-WebSocket-Protocol`
header as the pair of subprotocols `token, <key>` (browsers cannot set other headers). A consumer
must then accept with the subprotocol `token` echoed, or browsers close the socket:
`await self.accept(subprotocol=self.scope.get("auth_subprotocol"))`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern

from accounts.authentication import plausible_key
from accounts.middleware import session_idle
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


def websocket_application(routes: list[URLPattern]) -> Any:
    """The WebSocket stack every route goes through: origin check, session, token, router."""
    return AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(routes))))
