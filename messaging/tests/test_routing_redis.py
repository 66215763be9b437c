"""Two Daphne processes on one Redis: a message sent through one reaches a socket on the other.

This is what REDIS_URL is for (several processes or machines behind one address); the in-memory
layer cannot do it. The test uses REDIS_URL's server (host, port, credentials), or a local Redis
when none is set, so it runs in both CI passes; only on a machine without any Redis is it
skipped. Its two servers get a database of their own: REDIS_URL's number plus 8 (modulo 16), so
that the unit tests of the same pass, which empty their database between tests, never empty the
servers' one, and two passes given different databases do not share one here either.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from e2e.live_server import LiveServer

REDIS_DATABASES = 16  # Redis's default `databases`
OWN_DATABASE_OFFSET = 8


def servers_redis_url(configured: str) -> str:
    """REDIS_URL with its database number moved by OWN_DATABASE_OFFSET (0 when it names none)."""
    parts = urlsplit(configured or "redis://127.0.0.1:6379/0")
    query = parse_qs(parts.query)
    path = parts.path.strip("/")
    number = int(path) if path.isdigit() else int(query.pop("db", ["0"])[0])
    own = (number + OWN_DATABASE_OFFSET) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{own}", query=urlencode(query, doseq=True)))


REDIS_URL = servers_redis_url(os.environ.get("REDIS_URL", ""))


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not redis_reachable(REDIS_URL),
    reason="no Redis here: two server processes only share messages through Redis",
)

SETUP = """
import json
from accounts import services as s
ann = s.register_user(username="ann", email="ann@example.com", password="pw-long-4242")
ben = s.register_user(username="ben", email="ben@example.com", password="pw-long-4242")
s.set_role(users=[ben], role="doctor")
s.change_link(link=s.request_link(patient=ann, doctor=ben), by=ben, status="active")
print(json.dumps({u.username: s.issue_token(user=u).key for u in (ann, ben)}))
"""


@pytest.fixture
def two_servers(tmp_path):
    first = LiveServer(tmp_path, extra_env={"REDIS_URL": REDIS_URL})
    second = LiveServer(tmp_path, same_database_as=first)
    try:
        first.start()
        second.start()
        tokens = json.loads(first.shell(SETUP).strip().splitlines()[-1])
        yield (first.port, second.port), tokens
    finally:
        second.stop()
        first.stop()


def chat(port: int, peer: str, token: str) -> Any:
    """A token chat socket with `peer` on the server at `port`."""
    # Each socket's Origin is its own server's: scheme, host and port are checked.
    return connect(
        f"ws://127.0.0.1:{port}/ws/chat/{peer}/?token={token}", origin=f"http://127.0.0.1:{port}"
    )


@pytest.mark.asyncio
async def test_message_crosses_server_processes(two_servers):
    (port_a, port_b), tokens = two_servers
    async with (
        chat(port_a, "ben", tokens["ann"]) as ann,
        chat(port_b, "ann", tokens["ben"]) as ben,
    ):
        await ann.send(json.dumps({"message": "across processes"}))
        on_a = json.loads(await asyncio.wait_for(ann.recv(), 10))
        on_b = json.loads(await asyncio.wait_for(ben.recv(), 10))
        assert on_a == on_b
        assert on_b["message"] == "across processes"
        assert on_b["sender"] == "ann"
        await ben.send(json.dumps({"message": "and back"}))
        assert json.loads(await asyncio.wait_for(ann.recv(), 10))["message"] == "and back"
        assert json.loads(await asyncio.wait_for(ben.recv(), 10))["message"] == "and back"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ben.recv(), 0.3)  # exactly once


def sign_out(port: int, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/logout/",
        method="POST",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.asyncio
async def test_a_sign_out_through_one_process_closes_the_sockets_on_the_other(two_servers):
    """Close groups are one pattern subscription per process (core.realtime.layers): the event
    sent by the process that signed the user out reaches the sockets of every process, and only
    the signed-out user's."""
    (port_a, port_b), tokens = two_servers
    async with (
        chat(port_a, "ben", tokens["ann"]) as ann_on_a,
        chat(port_b, "ben", tokens["ann"]) as ann_on_b,
        chat(port_a, "ann", tokens["ben"]) as ben_on_a,
    ):
        assert await asyncio.to_thread(sign_out, port_b, tokens["ann"]) == 204
        for socket_ in (ann_on_a, ann_on_b):
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket_.recv(), 10)
            assert closed.value.rcvd.code == 4401
        await ben_on_a.send(json.dumps({"message": "still here"}))
        assert json.loads(await asyncio.wait_for(ben_on_a.recv(), 10))["message"] == "still here"


@pytest.mark.parametrize(
    ("configured", "servers"),
    [
        ("redis://127.0.0.1:6379/6", "redis://127.0.0.1:6379/14"),
        ("redis://:secret@cache.internal:6380/12", "redis://:secret@cache.internal:6380/4"),
        ("redis://cache.internal", "redis://cache.internal/8"),
        ("redis://cache.internal:6379?db=3", "redis://cache.internal:6379/11"),
        ("", "redis://127.0.0.1:6379/8"),
    ],
)
def test_the_servers_redis_follows_redis_url_in_a_database_of_their_own(configured, servers):
    assert servers_redis_url(configured) == servers
