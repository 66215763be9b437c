"""core/realtime/consumer.py and auth.py: a socket's life (handshake by session or token, frames,
events, disconnect) never closes the database thread's kept connection, and never calls
Channels' close_old_connections at all."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.consumer import AsyncConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from accounts.models import User
from config.asgi import application
from conftest import SOCKET_TIMEOUT
from core.realtime import SocketConsumer, on_database_thread
from messaging.tests.conftest import link
from messaging.tests.test_consumers import ORIGIN, cookie_for, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@on_database_thread
def kept_connection() -> object:
    User.objects.exists()
    return connections["default"].connection


@pytest.fixture
def count_closes(monkeypatch):
    """How often Channels' close_old_connections ran (it would close the kept connection)."""
    calls: list[None] = []
    monkeypatch.setattr("channels.db.close_old_connections", lambda: calls.append(None))
    return calls


async def test_the_base_is_not_channels_consumer():
    # Structural: Channels' AsyncConsumer.dispatch calls aclose_old_connections before every
    # event; nothing in our hierarchy inherits it.
    assert not issubclass(SocketConsumer, AsyncConsumer)


@pytest.mark.parametrize("credential", ["session", "token"])
async def test_a_chat_never_closes_the_kept_connection(patient, doctor, count_closes, credential):
    await sync_to_async(link)(patient, doctor)
    if credential == "session":
        path = "/ws/chat/drwho/?html=1"
        headers = [ORIGIN, (b"cookie", await cookie_for(patient))]
    else:
        path = f"/ws/chat/drwho/?token={await token_for(patient)}"
        headers = [ORIGIN]
    count_closes.clear()  # the test's own helpers (database_sync_to_async) ran it
    before = await kept_connection()
    assert before is not None
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    await socket.send_to(text_data=json.dumps({"message": "hello"}))
    assert "hello" in await socket.receive_from(SOCKET_TIMEOUT)
    await socket.disconnect()
    assert await kept_connection() is before
    assert count_closes == []


class Echo(SocketConsumer):
    async def connect(self) -> None:
        await self.join("echo")
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.channel_layer.group_send("echo", {"type": "echo.back", "text": text_data})

    async def echo_back(self, event) -> None:
        await self.send(text_data=event["text"])


async def test_events_reach_their_handler_and_groups_are_left_on_disconnect():
    socket = WebsocketCommunicator(Echo.as_asgi(), "/")
    connected, _ = await socket.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    await socket.send_to(text_data="ping")
    assert await socket.receive_from(SOCKET_TIMEOUT) == "ping"
    await socket.disconnect()
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # Redis keeps no local view of groups
        assert not layer.groups.get("echo")


async def test_a_refused_handshake_is_a_close_before_accept():
    class Refuse(SocketConsumer):
        async def connect(self) -> None:
            await self.close()

    socket = WebsocketCommunicator(Refuse.as_asgi(), "/")
    connected, _ = await socket.connect(timeout=SOCKET_TIMEOUT)
    assert not connected
