"""SocketConsumer: the base of every WebSocket consumer of the project.

It is a small ASGI consumer of its own, not a subclass of Channels' AsyncConsumer. Channels
(4.2+) calls `aclose_old_connections()` before every event it dispatches and in
`websocket_disconnect`: a hop to the one shared database thread each time, which also closed
the connection core.realtime.db keeps there (and on SQLite checkpointed the WAL with an fsync),
three times per chat message. Overriding Channels' `dispatch` to leave that out meant keeping a
copy of Channels' code in step with it; instead, nothing in this class hierarchy calls it, and
every query a consumer makes goes through `core.realtime.on_database_thread`.

The surface is the one of Channels' AsyncWebsocketConsumer that the project uses: `connect()`,
`accept(subprotocol)`, `receive(text_data, bytes_data)`, `send(text_data | bytes_data)`,
`close(code)`, `disconnect(code)`, `self.groups` (left on disconnect; `join(group)` and
`join_since(group, since)` add to it), `self.channel_layer` and
`self.channel_name`, and channel-layer events dispatched to methods by type ("chat.message" ->
`chat_message`). Channels' routing, middleware and WebsocketCommunicator work with it as usual.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

type Receive = Callable[[], Awaitable[dict[str, Any]]]
type Send = Callable[[dict[str, Any]], Awaitable[None]]


def replays_groups(layer: Any) -> bool:
    """Whether `layer` can hand a joining channel what its group was sent since a moment
    (core.realtime.layers.RedisPubSubLayer, for its pattern groups): see `join_since`."""
    return getattr(layer, "group_add_since", None) is not None


class SocketConsumer:
    """One instance per socket (see `as_asgi`)."""

    scope: dict[str, Any]
    channel_layer: Any
    channel_name: str

    def __init__(self) -> None:
        self.groups: list[str] = []

    @classmethod
    def as_asgi(cls) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
        """The ASGI application for a route: a new consumer per socket."""

        async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await cls()(scope, receive, send)

        app.consumer_class = cls  # type: ignore[attr-defined]  # as Channels' routing expects
        functools.update_wrapper(app, cls, updated=())
        return app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer()
        sources: list[Receive] = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            sources.append(functools.partial(self.channel_layer.receive, self.channel_name))
        with contextlib.suppress(StopConsumer):  # a disconnect ends the loop
            await await_many_dispatch(sources, self.dispatch)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand a message (from the client or the channel layer) to the method of its type."""
        if not await self.admit(message):
            return
        kind = message.get("type", "")
        if not isinstance(kind, str) or not kind or kind.startswith((".", "_")):
            raise ValueError(f"Malformed message type {kind!r}")
        handler = getattr(self, kind.replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {kind}")
        await handler(message)

    async def admit(self, message: dict[str, Any]) -> bool:
        """Whether to handle `message` at all (subclasses may refuse events, e.g. after the
        credentials a socket was opened with ended)."""
        return True

    # The WebSocket protocol.

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        await self.connect()

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        if message.get("text") is not None:
            await self.receive(text_data=message["text"])
        else:
            await self.receive(bytes_data=message.get("bytes") or b"")

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.channel_layer is not None:
            for group in self.groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer

    # What subclasses implement.

    @classmethod
    def prefetch(cls, scope: dict[str, Any]) -> Any:
        """What the socket needs from the database, looked up on the database thread in the
        same trip as its credential (core.realtime.auth.SocketAuthMiddleware, given the scope
        with `user`), or None for nothing. It reaches the consumer as `scope["prefetched"]`. It
        runs before the socket joined any group: whatever may change in between is the
        consumer's to check (messaging.consumers.SignedInConsumer does)."""
        return None

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """A frame from the client."""

    async def disconnect(self, code: int) -> None:
        """The socket closed (either end); its groups are left already."""

    # What subclasses call.

    async def join(self, group: str) -> None:
        """Join a channel-layer group, left again when the socket closes."""
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)

    async def join_since(self, group: str, since: float) -> list[dict[str, Any]] | None:
        """Join `group` (left again when the socket closes), and return what was sent to it
        since `since` (time.monotonic()) before the socket joined, if the layer keeps that
        (core.realtime.layers.RedisPubSubLayer, for its pattern groups); None when it does not,
        and only what is sent from now on is received, as with `join`."""
        if not replays_groups(self.channel_layer):
            await self.join(group)
            return None
        missed = await self.channel_layer.group_add_since(group, self.channel_name, since)
        self.groups.append(group)
        return missed

    async def accept(self, subprotocol: str | None = None) -> None:
        await self.base_send({"type": "websocket.accept", "subprotocol": subprotocol})

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.base_send({"type": "websocket.send", "text": text_data})
        elif bytes_data is not None:
            await self.base_send({"type": "websocket.send", "bytes": bytes_data})
        else:
            raise ValueError("Send text_data or bytes_data.")

    async def close(self, code: int | None = None) -> None:
        """Close the socket; before `accept()` this refuses the handshake (403)."""
        message: dict[str, Any] = {"type": "websocket.close"}
        if code is not None:
            message["code"] = code
        await self.base_send(message)
