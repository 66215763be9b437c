"""accounts/ws_auth.py, the edge of every socket: the Origin check compares scheme, host and port,
a path no route takes is refused cleanly (issue #10, finding 8), and a database error no
consumer handled ends the socket without a trace (finding 7). The token and session parts of
ws_auth are in test_ws_auth.py."""

from __future__ import annotations

import logging

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.urls import path

from accounts.ws_auth import origin_allowed, websocket_application
from conftest import SOCKET_TIMEOUT


class Open(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()


application = websocket_application([path("ws/open/", Open.as_asgi())])


def scope(origin: str | None, host: str | None = "127.0.0.1:8000", **extra) -> dict:
    headers = []
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    for name, value in extra.items():
        headers.append((name.replace("_", "-").encode(), value.encode()))
    return {"type": "websocket", "path": "/ws/open/", "headers": headers}


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "painmap.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = []


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:8000",
        "HTTP://127.0.0.1:8000",  # scheme and host are case-insensitive
    ],
)
def test_the_sockets_own_origin_is_allowed(origin):
    assert origin_allowed(scope(origin))


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9000",  # another port of the same host: another site
        "http://127.0.0.1",  # port 80
        "https://127.0.0.1:8000",  # another scheme
        "http://localhost:8000",  # another host
        "http://evil.example",
        "null",  # sandboxed frames, file:// pages
        "ftp://127.0.0.1:8000",
        "http://127.0.0.1:notaport",
        "",
    ],
)
def test_any_other_origin_is_refused(origin):
    assert not origin_allowed(scope(origin))


def test_a_socket_without_origin_is_refused():
    assert not origin_allowed(scope(None))


def test_default_ports_are_the_same_origin():
    assert origin_allowed(scope("http://painmap.example.org", host="painmap.example.org"))
    assert origin_allowed(scope("http://painmap.example.org:80", host="painmap.example.org"))
    assert not origin_allowed(scope("https://painmap.example.org", host="painmap.example.org"))


def test_a_host_outside_allowed_hosts_is_refused_even_when_origin_matches_it():
    # DNS rebinding: the attacker's name points at our address, Host and Origin both say it.
    assert not origin_allowed(scope("http://evil.example:8000", host="evil.example:8000"))


def test_wss_and_a_tls_proxy_make_the_own_origin_https():
    host = "painmap.example.org"
    assert origin_allowed({**scope(f"https://{host}", host=host), "scheme": "wss"})
    behind_proxy = scope(f"https://{host}", host=host, x_forwarded_proto="https")
    assert origin_allowed(behind_proxy)
    assert not origin_allowed(scope(f"http://{host}", host=host, x_forwarded_proto="https"))


def test_csrf_trusted_origins_are_allowed_with_their_port(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.clinic.example"]
    assert origin_allowed(scope("https://app.example.org"))
    assert origin_allowed(scope("https://ward.clinic.example"))
    assert not origin_allowed(scope("https://app.example.org:8443"))
    assert not origin_allowed(scope("http://app.example.org"))
    assert not origin_allowed(scope("https://clinic.example.evil"))


@pytest.mark.asyncio
async def test_a_socket_from_another_port_is_refused_at_the_handshake():
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:9000")]
    communicator = WebsocketCommunicator(application, "/ws/open/", headers=headers)
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert not connected  # closed before accept: Daphne answers the handshake with 403
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    communicator = WebsocketCommunicator(application, "/ws/open/", headers=headers)
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("url", ["/ws/nope/", "/ws/", "/ws/chat/", "/ws/open/extra/", "/elsewhere"])
async def test_an_unknown_path_is_refused_with_a_warning(url, caplog):
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    communicator = WebsocketCommunicator(application, url, headers=headers)
    with caplog.at_level(logging.INFO):
        # This raised "No route found" before.
        connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert not connected  # closed before accept: Daphne answers the handshake with 403
    assert [r.levelname for r in caplog.records if "no route" in r.getMessage()] == ["WARNING"]
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


class Broken(AsyncWebsocketConsumer):
    """Its database is away: on connect (?when=connect) or on the first frame."""

    async def connect(self) -> None:
        if self.scope["query_string"] == b"when=connect":
            raise OperationalError("terminating connection due to administrator command")
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        raise OperationalError("terminating connection due to administrator command")


broken_application = websocket_application([path("ws/broken/", Broken.as_asgi())])
SAME_ORIGIN = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


@pytest.mark.asyncio
async def test_a_database_error_before_the_handshake_refuses_it_cleanly(caplog):
    communicator = WebsocketCommunicator(
        broken_application, "/ws/broken/?when=connect", headers=SAME_ORIGIN
    )
    with caplog.at_level(logging.WARNING):
        # This raised out of the application before.
        connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert not connected
    assert "ended by a database error" in caplog.text


@pytest.mark.asyncio
async def test_a_database_error_no_consumer_handled_closes_with_try_again_later():
    communicator = WebsocketCommunicator(broken_application, "/ws/broken/", headers=SAME_ORIGIN)
    connected, _ = await communicator.connect(timeout=SOCKET_TIMEOUT)
    assert connected
    await communicator.send_to(text_data="{}")
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1013}
