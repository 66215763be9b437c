"""A chat socket's handshake costs a fixed, small number of queries, whatever the history.

Token + user + roles (one query, none while the token is cached), the peer with its roles and
the care link (one), the history (one). Counted on the sockets' database thread, where every
query of a handshake runs, once the Redis layer vouches for the close events it hears (a
process's first second looks the peer up a second time: see SignedInConsumer).
"""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from config.asgi import application
from conftest import SOCKET_TIMEOUT
from core.realtime import on_database_thread
from messaging.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://localhost")
COLD = 3  # the token (with user and roles), the peer (with roles and link), the history
WARM = 2  # the token's answer comes from the cache


@pytest_asyncio.fixture(autouse=True)
async def layer_heard(monkeypatch):
    """With the Redis layer, its close-group pattern subscribed and heard, as in a server
    running for more than a second (core.realtime.layers.HEARD_MARGIN)."""
    layer = get_channel_layer()
    if hasattr(layer, "group_add_since"):
        monkeypatch.setattr("core.realtime.layers.HEARD_MARGIN", 0.05)
        channel = await layer.new_channel()
        await layer.group_add_since("credentials.0", channel, time.monotonic())
        await asyncio.sleep(0.2)
        yield
        await layer.group_discard("credentials.0", channel)
    else:
        yield


@on_database_thread
def _capture() -> CaptureQueriesContext:
    context = CaptureQueriesContext(connection)
    context.__enter__()
    return context


@on_database_thread
def _captured(context: CaptureQueriesContext) -> list[str]:
    context.__exit__(None, None, None)
    return [q["sql"] for q in context.captured_queries if "SAVEPOINT" not in q["sql"]]


@database_sync_to_async
def _chatter(patient, doctor, count: int) -> None:
    Message.objects.bulk_create(
        Message(sender=a, receiver=b, text=f"m{i}")
        for i in range(count)
        for a, b in ((patient, doctor), (doctor, patient))
    )


async def handshake_queries(key: str, peer: str, history: int) -> list[str]:
    """The queries of one JSON chat handshake (through to the last history frame)."""
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{peer}/?token={key}", headers=[ORIGIN]
    )
    context = await _capture()
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    for _ in range(history):
        await communicator.receive_from(timeout=SOCKET_TIMEOUT)
    queries = await _captured(context)
    await communicator.disconnect()
    return queries


async def test_a_handshake_is_three_queries_cold_two_warm_whatever_the_history(patient, doctor):
    key = (await database_sync_to_async(account_services.issue_token)(user=patient)).key
    await _chatter(patient, doctor, 1)
    cold = await handshake_queries(key, doctor.username, 2)
    warm = await handshake_queries(key, doctor.username, 2)
    await _chatter(patient, doctor, 40)
    warm_long = await handshake_queries(key, doctor.username, 82)
    cache.clear()  # as if the entry timed out
    cold_long = await handshake_queries(key, doctor.username, 82)
    assert (len(cold), len(warm)) == (COLD, WARM), (cold, warm)
    assert (len(cold_long), len(warm_long)) == (COLD, WARM), (cold_long, warm_long)
    assert "authtoken_token" in cold[0]
    assert "auth_group" in cold[0]
    assert "messaging_message" not in "".join(warm[:-1])  # the history, once, last


async def test_a_doctor_to_doctor_handshake_is_as_cheap(doctor):
    from conftest import make_user

    colleague = await database_sync_to_async(make_user)("drno", role="doctor")
    key = (await database_sync_to_async(account_services.issue_token)(user=doctor)).key
    assert len(await handshake_queries(key, colleague.username, 0)) == COLD
    assert len(await handshake_queries(key, colleague.username, 0)) == WARM
