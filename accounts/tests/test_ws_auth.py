from __future__ import annotations

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import path

from accounts import services
from accounts.ws_auth import websocket_application
from conftest import SOCKET_TIMEOUT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://localhost")


class WhoAmI(AsyncJsonWebsocketConsumer):
    """The tiny route: says who the socket belongs to, refuses anonymous users."""

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close()
            return
        await self.accept(subprotocol=self.scope.get("auth_subprotocol"))
        await self.send_json({"user": user.username})


application = websocket_application([path("ws/whoami/", WhoAmI.as_asgi())])


async def connect(url: str = "/ws/whoami/", headers=(ORIGIN,), subprotocols=None):
    communicator = WebsocketCommunicator(
        application, url, headers=list(headers), subprotocols=subprotocols
    )
    connected, subprotocol = await communicator.connect(timeout=SOCKET_TIMEOUT)
    return communicator, connected, subprotocol


@pytest.fixture
def token_key(patient) -> str:
    return services.issue_token(user=patient).key


@pytest.fixture
def session_cookie(patient) -> bytes:
    client = Client()
    client.force_login(patient)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_token_in_query_string(token_key):
    communicator, connected, _ = await connect(f"/ws/whoami/?token={token_key}")
    assert connected
    assert await communicator.receive_json_from() == {"user": "alice"}
    await communicator.disconnect()


async def test_token_in_subprotocol_header_is_echoed(token_key):
    communicator, connected, subprotocol = await connect(subprotocols=["token", token_key])
    assert connected
    assert subprotocol == "token"
    assert await communicator.receive_json_from() == {"user": "alice"}
    await communicator.disconnect()


async def test_session_cookie(session_cookie):
    communicator, connected, _ = await connect(headers=[ORIGIN, (b"cookie", session_cookie)])
    assert connected
    assert await communicator.receive_json_from() == {"user": "alice"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "url",
    [
        "/ws/whoami/?token=nope",
        "/ws/whoami/?token=",
        "/ws/whoami/",
        "/ws/whoami/?token=" + "a" * 500,
    ],
)
async def test_bad_or_missing_token_is_refused(url, patient):
    communicator, connected, _ = await connect(url)
    assert not connected
    await communicator.disconnect()


async def test_bad_token_does_not_fall_back_to_session(session_cookie):
    communicator, connected, _ = await connect(
        "/ws/whoami/?token=bogus", headers=[ORIGIN, (b"cookie", session_cookie)]
    )
    assert not connected
    await communicator.disconnect()


async def test_revoked_token_is_refused(patient, token_key):
    from channels.db import database_sync_to_async

    await database_sync_to_async(services.revoke_token)(user=patient)
    communicator, connected, _ = await connect(f"/ws/whoami/?token={token_key}")
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("origin", [None, b"http://evil.example"])
async def test_foreign_or_missing_origin_is_refused(token_key, origin):
    headers = [(b"origin", origin)] if origin else []
    communicator, connected, _ = await connect(f"/ws/whoami/?token={token_key}", headers=headers)
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("cookie", [b"sessionid=abcdefgh\x00ijklmnop", b"sessionid=short"])
async def test_a_session_key_no_session_can_have_is_anonymous(cookie):
    # A NUL in the key crashed the handshake on PostgreSQL (it cannot compare such text).
    communicator, connected, _ = await connect(headers=[ORIGIN, (b"cookie", cookie)])
    assert not connected
    await communicator.disconnect()


async def test_a_session_key_with_a_nul_added_is_not_the_session(session_cookie):
    communicator, connected, _ = await connect(headers=[ORIGIN, (b"cookie", session_cookie)])
    assert connected
    await communicator.disconnect()
    communicator, connected, _ = await connect(
        headers=[ORIGIN, (b"cookie", session_cookie + b"\x00")]
    )
    assert not connected
    await communicator.disconnect()
