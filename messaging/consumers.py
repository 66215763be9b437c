"""The chat and inbox sockets. Thin: authenticate, authorize, accept, delegate to services.

One chat socket speaks one of two dialects, chosen when it connects: JSON Messages for API
clients (the default, the original backend's contract), or server-rendered HTML fragments with
`hx-swap-oob` for the browser's htmx ws extension (`?html=1`). Whatever the dialect, every frame
a client sends is {"message": "...", "client_id": "<uuid>"} (client_id optional).

The machinery under them (the database thread, batching, the outbox, the socket base class) is
core.realtime's; here are only the chat's rules.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts import access
from accounts.models import User
from accounts.sockets import (
    CREDENTIALS_ENDED,
    credentials_group,
    event_matches,
    session_fingerprint,
)
from accounts.ws_auth import credentials_valid, still_signed_in
from core import client_json
from core.i18n import request_language
from core.prepared import PreparedQuery
from core.realtime import SocketConsumer, on_database_thread, store_message
from core.realtime.auth import cookies
from core.realtime.consumer import replays_groups
from messaging import services
from messaging.models import Message, conversations_for, pair_group, user_group

# How many messages a browser gets back on reconnect before it is simply sent the whole list.
HTML_CATCH_UP = 50
# How many of the newest history ids a socket remembers to drop their copies from the group.
RACE_WINDOW = 200
# A socket that sends checks its credential again at most this often (seconds), in case a
# close event was lost (the channel layer is best effort).
CREDENTIALS_RECHECK = 60.0
# Error frames' texts: English message ids, said in the socket's language (socket_language).
STORE_FAILED = gettext_noop("Your message could not be stored just now. Please send it again.")
FRAME_TOO_LARGE = gettext_noop("The frame is too large.")
TOO_MANY = gettext_noop("Too many messages: slow down a little.")
NOT_JSON = gettext_noop('Frames must be JSON: {"message": "..."}.')
NOT_AN_OBJECT = gettext_noop('Frames must be JSON objects with a "message".')

logger = logging.getLogger(__name__)


def _query(scope: dict[str, Any]) -> dict[str, str]:
    parsed = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return {key: values[0] for key, values in parsed.items()}


def socket_language(scope: dict[str, Any], user: User) -> str:
    """The language a socket's fragments and error texts are in, chosen once when it connects.

    The rule of the pages (core.i18n.request_language): the profile's language, else the
    browser's: the header switcher's cookie, then Accept-Language, both in the handshake's
    headers (a browser sends the page's cookies and Accept-Language with the socket). So the
    chat page and the fragments pushed into it are in the same language, also for a person who
    chose none; an API client gets its profile's language, else its Accept-Language, like the
    token API. It is read from the scope, never the database: no cost on the chat path. A
    language changed while the socket is open applies from its next connection.

    Every socket renders its own frames (a message pushed to a pair is rendered by each of
    their sockets, in the viewer's time zone already), so a Russian and an English participant
    each get their own words, and the work per socket is the same as before.
    """
    accept = ""
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            accept = value.decode("latin-1")
    handshake = SimpleNamespace(
        COOKIES=cookies(scope), META={"HTTP_ACCEPT_LANGUAGE": accept}, path_info="/"
    )
    return request_language(handshake, user)  # type: ignore[arg-type]


def user_timezone(user: User) -> AbstractContextManager[None]:
    """Render times in the user's own zone, by the one rule the pages use (`User.tzinfo`)."""
    return timezone.override(user.tzinfo)


class RateLimit:
    """A token bucket per socket: `burst` frames at once, then `rate` frames a second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# The peer, its roles and the care link in one query (the handshake's only one besides the
# history; the user and its roles come from the socket's auth, cached while its token lives).
_chat_peer = on_database_thread(access.chat_peer)
_NOT_LOOKED_UP = object()


def _all_after(one: int, other: int, after: int) -> QuerySet[Message]:
    return Message.objects.between(one, other).filter(pk__gt=after).order_by("id")


def _newest_after(one: int, other: int, after: int) -> QuerySet[Message]:
    return Message.objects.between(one, other).filter(pk__gt=after).order_by("-id")


# The history query of every handshake, compiled once (core.prepared); a LIMIT is part of the
# SQL, so one per limit a dialect asks for.
_SAMPLES = {"one": -7_350_101, "other": -7_350_102, "after": -7_350_103}
_history_all = PreparedQuery(_all_after, **_SAMPLES)
_history_newest: dict[int, PreparedQuery[Message]] = {}


def _history_query(limit: int) -> PreparedQuery[Message]:
    if limit not in _history_newest:
        _history_newest[limit] = PreparedQuery(
            lambda **values: _newest_after(**values)[:limit], **_SAMPLES
        )
    return _history_newest[limit]


@on_database_thread
def _history(user: User, peer: User, after: int, limit: int | None) -> list[Message]:
    """Everything after `after`, or the newest `limit` of it, oldest first: one query."""
    values = {"one": user.pk, "other": peer.pk, "after": after}
    if limit is None:
        rows = _history_all.fetch(**values)
    else:
        rows = list(reversed(_history_query(limit).fetch(**values)))
    people = {user.pk: user, peer.pk: peer}
    for row in rows:  # both people are known: no join, no lookups
        row.sender = people[row.sender_id]
        row.receiver = people[row.receiver_id]
    return rows


_store_read = on_database_thread(services.mark_read)


@on_database_thread
def _call(function: Callable[[], None]) -> None:
    function()


@on_database_thread
def _check_credentials(scope: dict[str, Any], then: Callable[[], None] | None) -> bool:
    """`credentials_valid(scope)`, and `then()` right after if they are (one trip)."""
    valid = credentials_valid(scope)
    if valid and then is not None:
        then()
    return valid


class SignedInConsumer(SocketConsumer):
    """A socket of a signed-in user that ends when what it was opened with ends.

    It joins the user's close group (accounts.sockets) before its credential is checked, takes
    no frame and passes no event on once that credential ended (a message sent after a sign-out
    is not stored), and checks the credential again at most every CREDENTIALS_RECHECK seconds
    while it sends, in case a close event was lost (the channel layer is best effort).
    """

    credentials_ended = False
    # When the credential was last checked (time.monotonic()); 0 before the socket connected.
    credentials_checked = 0.0
    # When its credential was read, just before it joined its close group (time.time()): older
    # close events are not for it (that read already found their credential ended).
    opened_at = 0.0

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            # The credential was read at `read_at` (core.realtime.auth). A close event sent
            # after that must reach this socket, one sent before it found the credential ended.
            self.opened_at, read_at = self.scope.get(
                "credentials_read_at", (time.time(), time.monotonic())
            )
            missed = await self.join_since(credentials_group(user.pk), read_at)
            if missed is not None:
                # What the group was sent since the read is known: no second read. A close
                # event among it refuses the socket, as a second read would have; so does
                # one about what `look_up` found with the read (before the join).
                prefetched = self.scope.get("prefetched")
                if prefetched is not None:
                    self.adopt(prefetched["found"])
                for event in missed:
                    await self.dispatch(event)
                if self.credentials_ended:
                    return
                self.credentials_checked = read_at
                if prefetched is None:  # served without the per-route socket auth
                    with contextlib.suppress(DatabaseError):  # `connect` asks again
                        await _call(self._look_up_and_adopt)
            else:
                # Joined, so check again: a credential that ended since the read is either
                # seen ended here or closes the socket through the group.
                if not await self._credentials_still_valid(then=self._look_up_and_adopt):
                    await self.close(code=CREDENTIALS_ENDED)
                    return
        await self.connect()

    @classmethod
    def look_up(cls, scope: dict[str, Any]) -> Any:
        """What `connect` needs from the database (a subclass's; nothing here), found on the
        database thread in a trip the handshake makes anyway: with its credential read when
        the channel layer replays close events (`prefetch`), else with the second read after
        the socket joined its close group. `adopt` stores it; `connect` must still work when
        neither ran (a database error in that trip)."""
        return None

    @classmethod
    def prefetch(cls, scope: dict[str, Any]) -> dict[str, Any] | None:
        """`look_up` with the handshake's credential read (core.realtime.auth), when the layer
        replays close events: one that a change between the lookup and the join sends then
        still reaches the socket. Without replay, the lookup waits for the join."""
        user = scope.get("user")
        if user is None or not user.is_authenticated or not replays_groups(get_channel_layer()):
            return None
        return {"found": cls.look_up(scope)}

    def adopt(self, found: Any) -> None:
        """Store what `look_up` found (before the missed close events are matched)."""

    def _look_up_and_adopt(self) -> None:
        self.adopt(self.look_up(self.scope))

    async def _credentials_still_valid(self, then: Callable[[], None] | None = None) -> bool:
        try:
            if then is None:
                valid = await still_signed_in(self.scope)
            else:
                valid = await _check_credentials(self.scope, then)
        except DatabaseError:
            # Not known now (the database is away); the next frame asks again.
            self.credentials_checked = 1.0
            return True
        self.credentials_checked = time.monotonic()
        self.credentials_ended = not valid
        return valid

    async def admit(self, message: dict[str, Any]) -> bool:
        if self.credentials_ended and message["type"] != "websocket.disconnect":
            return False
        if (
            message["type"] == "websocket.receive"
            and self.credentials_checked
            and time.monotonic() - self.credentials_checked > CREDENTIALS_RECHECK
            and not await self._credentials_still_valid()
        ):
            await self.close(code=CREDENTIALS_ENDED)
            return False
        return True

    async def sockets_close(self, event: dict[str, Any]) -> None:
        """What the socket was opened with ended, or what it may do changed: close (4401/4403)."""
        session = self.scope.get("session")
        peer = getattr(self, "peer", None)
        if not event_matches(
            event,
            via_token=bool(self.scope.get("auth_via_token")),
            session=session_fingerprint(session.session_key if session is not None else None),
            peer_id=peer.pk if peer is not None else None,
            opened_at=self.opened_at,
        ):
            return
        self.credentials_ended = True
        await self.close(code=event["code"])


class JsonDialect:
    """The original backend's contract: one Message object per frame, errors as {"error"}."""

    marks_read = False  # an API client says what it read (the REST API)

    def __init__(self, user: User, peer: User, language: str) -> None:
        self.user, self.peer, self.language = user, peer, language

    def history(self, messages: list[Message]) -> list[str]:
        return [json.dumps(services.message_data(m)) for m in messages]

    def history_limit(self, after: int) -> int | None:
        return None  # everything after `after`

    def message(self, message: Message) -> str:
        return json.dumps(services.message_data(message))

    def pushed(self, data: dict[str, Any], event: dict[str, Any]) -> str:
        return json.dumps(data)

    def read(self, event: dict[str, Any]) -> str | None:
        return None

    def cleared(self) -> str | None:
        return None

    def error(self, text: str, client_id: uuid.UUID | None) -> str:
        if client_id is None:
            return json.dumps({"error": text})
        return json.dumps({"error": text, "client_id": str(client_id)})


class HtmlDialect:
    """The browser's htmx ws extension: server-rendered fragments with `hx-swap-oob`."""

    marks_read = True  # an open chat box counts as seen

    def __init__(self, user: User, peer: User, language: str) -> None:
        self.user, self.peer, self.language = user, peer, language

    def history_limit(self, after: int) -> int | None:
        # The page already shows the latest messages; a reconnect catches up to HTML_CATCH_UP.
        return HTML_CATCH_UP + 1 if after else 0

    def history(self, messages: list[Message]) -> list[str]:
        if not messages:
            return []
        if len(messages) > HTML_CATCH_UP:
            # Too far behind to append: replace the list with the latest messages.
            return [
                self._render(
                    "messaging/chat.html#message-list",
                    {"messages": messages[1:], "has_older": True, "oob": True},
                )
            ]
        return [self._render("messaging/chat.html#new-messages", {"messages": messages})]

    def message(self, message: Message) -> str:
        return self._render("messaging/chat.html#new-messages", {"messages": [message]})

    def pushed(self, data: dict[str, Any], event: dict[str, Any]) -> str:
        client_id = data.get("client_id")
        message = Message(
            id=data["id"],
            sender_id=event["sender_id"],
            receiver_id=event["receiver_id"],
            text=data["message"],
            timestamp=datetime.fromisoformat(data["timestamp"]),
            client_id=uuid.UUID(client_id) if client_id else None,
        )
        return self.message(message)

    def read(self, event: dict[str, Any]) -> str | None:
        if event["reader_id"] == self.user.pk:
            return None
        return self._render("messaging/chat.html#read-ticks", event)

    def cleared(self) -> str | None:
        return self._render("messaging/chat.html#message-list", {"messages": [], "oob": True})

    def error(self, text: str, client_id: uuid.UUID | None) -> str:
        return self._render(
            "messaging/chat.html#chat-error", {"error": text, "client_id": client_id}
        )

    def _render(self, template: str, context: dict[str, Any]) -> str:
        # In the viewer's zone and language (socket_language): each socket renders its own.
        with user_timezone(self.user), translation.override(self.language):
            return render_to_string(template, {"viewer": self.user, "peer": self.peer, **context})


class ChatConsumer(SignedInConsumer):
    """`/ws/chat/<peer>/`: history on connect, then every message of the pair, live.

    Frames from the client: {"message": "...", "client_id": "<uuid>"} (client_id optional; htmx
    adds a "HEADERS" key, which is ignored). The dialect (JSON or HTML, `?html=1`) is chosen once
    here and renders every frame the socket sends.
    """

    user: User
    peer: User
    dialect: JsonDialect | HtmlDialect

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        peer = self.__dict__.pop("prepared_peer", _NOT_LOOKED_UP)
        if peer is _NOT_LOOKED_UP:
            peer = await _chat_peer(user, self.scope["url_route"]["kwargs"]["peer"])
        if peer is None:
            await self.close()
            return
        self.user, self.peer = user, peer
        query = _query(self.scope)
        dialect = HtmlDialect if query.get("html") == "1" else JsonDialect
        self.language = socket_language(self.scope, user)
        self.dialect = dialect(user, peer, self.language)
        try:
            after = max(0, int(query.get("after", "0")))
        except ValueError:
            after = 0
        self.sent_ids: set[int] = set()
        self.rate_limit = RateLimit(settings.CHAT_RATE_PER_SECOND, settings.CHAT_RATE_BURST)
        # Join before reading the history: a message stored in between is then both in the
        # history and in the group, and sent_ids drops the second copy.
        await self.join(pair_group(user.pk, peer.pk))
        await self.accept(subprotocol=self.scope.get("auth_subprotocol"))
        limit = self.dialect.history_limit(after)
        if limit == 0:
            return
        history = await _history(user, peer, after, limit)
        # Only messages stored while we connected can come twice: the newest few.
        self.sent_ids.update(m.pk for m in history[-RACE_WINDOW:])
        for frame in self.dialect.history(history):
            await self.send(text_data=frame)
        if history and self.dialect.marks_read:
            await self._mark_read(history[-1].pk)

    @classmethod
    def look_up(cls, scope: dict[str, Any]) -> User | None:
        # The peer, its roles and the care link: one query (accounts.access.chat_peer).
        return access.chat_peer(scope["user"], scope["url_route"]["kwargs"]["peer"])

    def adopt(self, found: User | None) -> None:
        self.prepared_peer = found
        if found is not None:
            self.peer = found  # what a close event about the care link is matched with

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.rate_limit.allow():
            await self._error(TOO_MANY)
            return
        raw = text_data if text_data is not None else bytes_data or b""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # a request body's limit holds for frames
        if limit is not None and len(raw) > limit:
            await self._error(FRAME_TOO_LARGE)
            return
        try:
            frame = client_json.loads(raw)
        except client_json.BadJSON:  # too deep, not UTF-8 or not JSON: this frame only
            await self._error(NOT_JSON)
            return
        if not isinstance(frame, dict) or "message" not in frame:
            await self._error(NOT_AN_OBJECT)
            return
        client_id = None
        try:
            client_id = services.clean_client_id(frame.get("client_id"))
            sent: services.Sent = await store_message(
                sender=self.user,
                receiver=self.peer,
                text=frame["message"],  # validated once, by the service
                client_id=client_id,
            )
        except services.MessageError as exc:
            await self._error(exc, client_id)
            return
        except DatabaseError:
            # Only this message failed (the batcher stored the rest of its batch); the socket
            # stays open and the sender may simply send it again.
            logger.warning("Chat message from user %s not stored: database error", self.user.pk)
            await self._error(STORE_FAILED, client_id)
            return
        if not sent.created:
            # A resend: nothing was pushed, so answer this socket with what is stored.
            self.sent_ids.add(sent.message.pk)
            await self.send(text_data=self.dialect.message(sent.message))

    async def _error(
        self, text: str | services.MessageError, client_id: uuid.UUID | None = None
    ) -> None:
        """An error frame; it names the frame's client_id when it had one, so that a client
        knows which message it is about and does not send it again. `text` is an English
        message id (or a MessageError): its words are in the socket's language, the frame's
        keys ("error", "client_id") never change."""
        with translation.override(self.language):
            said = str(text) if isinstance(text, services.MessageError) else gettext(text)
            frame = self.dialect.error(said, client_id)
        await self.send(text_data=frame)

    async def _mark_read(self, up_to_id: int) -> None:
        try:
            await _store_read(reader=self.user, peer=self.peer, up_to_id=up_to_id)
        except DatabaseError:  # the ticks catch up with the next read; the socket stays open
            logger.warning("Could not mark messages read for user %s", self.user.pk)

    # Channel-layer events (sent by messaging.services).

    async def chat_message(self, event: dict[str, Any]) -> None:
        data = event["message"]
        if data["id"] in self.sent_ids:
            self.sent_ids.discard(data["id"])  # sent already; later ids never repeat
            return
        await self.send(text_data=self.dialect.pushed(data, event))
        if self.dialect.marks_read and event["receiver_id"] == self.user.pk:
            await self._mark_read(data["id"])

    async def chat_read(self, event: dict[str, Any]) -> None:
        frame = self.dialect.read(event)
        if frame is not None:
            await self.send(text_data=frame)

    async def chat_cleared(self, event: dict[str, Any]) -> None:
        self.sent_ids.clear()
        frame = self.dialect.cleared()
        if frame is not None:
            await self.send(text_data=frame)


@on_database_thread
def _inbox_context(user: User, with_list: bool) -> dict[str, Any]:
    context: dict[str, Any] = {"unread_count": Message.objects.unread_for(user).count()}
    if with_list:
        context["conversations"] = conversations_for(user)
    return context


class InboxConsumer(SignedInConsumer):
    """`/ws/inbox/`: the header's unread badge (and, with `?list=1`, the inbox rows), live."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        self.user: User = user
        self.with_list = _query(self.scope).get("list") == "1"
        self.language = socket_language(self.scope, user)
        await self.join(user_group(user.pk))
        await self.accept(subprotocol=self.scope.get("auth_subprotocol"))
        await self.inbox_changed({})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients have nothing to say on this socket."""

    async def inbox_changed(self, event: dict[str, Any]) -> None:
        try:
            context = await _inbox_context(self.user, self.with_list)
        except DatabaseError:  # the next change refreshes the badge; the socket stays open
            logger.warning("Could not refresh the inbox of user %s", self.user.pk)
            return
        with user_timezone(self.user), translation.override(self.language):
            html = render_to_string("messaging/nav.html#unread-badge", {"oob": True, **context})
            if self.with_list:
                html += render_to_string(
                    "messaging/inbox.html#conversation-list",
                    {"oob": True, "user": self.user, **context},
                )
        await self.send(text_data=html)
