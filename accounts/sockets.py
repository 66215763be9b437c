"""Closing a user's open WebSockets when what they were opened with ends.

Every socket of a signed-in user joins `credentials_group(user id)` (messaging.consumers'
SocketConsumer does it). `close_sockets` sends one "sockets.close" event there after the commit;
each socket decides from the event whether it is meant, stops taking frames at once and closes
with the event's code:

- 4401 CREDENTIALS_ENDED: what the socket was opened with (the session, the API token) is no
  longer valid: a sign-out, a password change, "sign out everywhere", a deactivated account.
  Sign in again before reconnecting.
- 4403 ACCESS_CHANGED: the user is still signed in, but what the socket was allowed to do was
  decided by something that changed (their role, the care link of the conversation).
  Reconnecting checks again, and is refused if it is no longer allowed.

htmx's ws extension reconnects only after 1006/1011/1012/1013, so the browser does not retry.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

from core.realtime.db import call_on_server_loop

logger = logging.getLogger(__name__)

CREDENTIALS_ENDED = 4401
ACCESS_CHANGED = 4403
CLOSE_EVENT = "sockets.close"


def credentials_group(user_id: int) -> str:
    """The channel-layer group every socket of one user joins, whatever its route."""
    return f"credentials.{user_id}"


def session_fingerprint(session_key: str | None) -> str | None:
    """What a socket remembers of its session, and what a close event names: never the key
    itself, which would travel through Redis."""
    if not session_key:
        return None
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def close_event(
    *,
    code: int,
    reason: str,
    session_key: str | None = None,
    token: bool = False,
    peer_id: int | None = None,
) -> dict[str, Any]:
    """The event; with no session_key, token or peer_id, it means every socket of the user."""
    return {
        "type": CLOSE_EVENT,
        "code": code,
        "reason": reason,
        "session": session_fingerprint(session_key),
        "token": token,
        "peer": peer_id,
    }


def event_matches(
    event: dict[str, Any],
    *,
    via_token: bool,
    session: str | None,
    peer_id: int | None,
    opened_at: float = 0.0,
) -> bool:
    """Whether a socket opened with this token / session (fingerprint), talking with `peer_id`
    (chat sockets), at `opened_at` (time.time() before its credential was read), is one the close
    event is meant for.

    An event sent before the socket opened is not: the socket read its credential after
    `opened_at`, so what ended before that refused it already. Without this, a page
    loaded right after a password change could lose its new socket to the event meant for the
    old ones, which a busy channel layer can deliver late.
    """
    if event.get("at", opened_at) < opened_at:
        return False
    narrowed = event.get("session") or event.get("token") or event.get("peer")
    if not narrowed:
        return True
    if event.get("token") and via_token:
        return True
    if event.get("session") and not via_token and event["session"] == session:
        return True
    return bool(event.get("peer")) and event["peer"] == peer_id


def close_sockets(
    *,
    user_ids: Iterable[int],
    reason: str,
    code: int = CREDENTIALS_ENDED,
    session_key: str | None = None,
    token: bool = False,
    peer_id: int | None = None,
) -> None:
    """Close open sockets of these users once the current transaction commits (at once when
    there is none). All of them, or only those opened with `session_key`, those opened with the
    API token (`token=True`), or the chat sockets whose peer is `peer_id`.

    `code`: CREDENTIALS_ENDED (4401) or ACCESS_CHANGED (4403), see the module docstring.
    """
    event = close_event(
        code=code, reason=reason, session_key=session_key, token=token, peer_id=peer_id
    )
    groups = [credentials_group(user_id) for user_id in user_ids]
    transaction.on_commit(lambda: _send(groups, event))


def _send(groups: list[str], event: dict[str, Any]) -> None:
    """Sent after the commit and before the request answers (a Redis round trip each, on a
    rare path), stamped with the time it left (see event_matches)."""
    layer = get_channel_layer()
    if layer is None:
        return
    event = {**event, "at": time.time()}
    for group in groups:
        try:
            call_on_server_loop(layer.group_send, group, event)
        except Exception:  # the credentials did end; an open socket finds out at a send
            logger.exception("Could not close the sockets of %s", group)
