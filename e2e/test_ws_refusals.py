"""The real server refuses sockets cleanly: a /ws/ path no route takes, and an Origin of another
port, are 403 handshakes, never a 500 (issue #10, finding 8)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from e2e.live_server import run_async

SETUP = """
import json
from accounts import services as s
user = s.register_user(username="origin_pat", email="op@example.com", password="pw-long-4242")
print(json.dumps({"token": s.issue_token(user=user).key}))
"""


@pytest.fixture(scope="module")
def token(daphne_server) -> str:
    return json.loads(daphne_server.shell(SETUP).strip().splitlines()[-1])["token"]


def handshake_status(url: str, origin: str) -> int:
    async def attempt() -> int:
        try:
            async with connect(url, origin=origin, open_timeout=10):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    return run_async(attempt())


@pytest.mark.parametrize("path", ["/ws/nope/", "/ws/", "/ws/chat/"])
def test_an_unknown_socket_path_is_a_403(daphne_server, path):
    log_start = len(daphne_server.logs())
    assert handshake_status(f"{daphne_server.ws_url}{path}", daphne_server.url) == 403
    assert "Traceback" not in daphne_server.logs()[log_start:]


def test_the_origin_must_match_scheme_host_and_port(daphne_server, token):
    url = f"{daphne_server.ws_url}/ws/inbox/?token={token}"
    assert handshake_status(url, daphne_server.url) == 101
    other_port = f"http://127.0.0.1:{daphne_server.port + 1}"
    assert handshake_status(url, other_port) == 403
    assert handshake_status(url, "http://127.0.0.1") == 403
    assert handshake_status(url, f"https://127.0.0.1:{daphne_server.port}") == 403
