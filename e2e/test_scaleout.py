"""Painmap scaled out, as compose.yml runs it but without Docker: deploy/nginx.conf in front
of three Daphne processes on one PostgreSQL database and one Redis (issue #14).

Through the proxy, two users on two different processes chat both ways; one process is killed
with `kill -9` mid-conversation, its client reconnects through the proxy and resyncs with
`?after=` (the last id it saw), and every message arrives at both clients exactly once; HTTP
requests keep answering; nginx's logs never hold a token.

Every wait polls for an outcome with a bounded deadline. Nothing here depends on when nginx
tries a dead upstream again: a client simply retries its connection until one succeeds.

Only on PostgreSQL + Redis: several processes need a database and a channel layer they share
(SQLite and the in-memory layer are per machine and per process).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

if not (
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    and os.environ.get("REDIS_URL", "").startswith("redis")
):
    pytest.skip(
        "scale-out needs PostgreSQL and Redis shared by several processes: "
        "set DATABASE_URL=postgres://... and REDIS_URL=redis://...",
        allow_module_level=True,
    )

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from e2e.live_server import LiveServer, run_async
from e2e.nginx_proxy import UPSTREAM_HEADER, NginxProxy

PROCESSES = 3
METRICS_TOKEN = "scale-metrics-token"
DEADLINE = 20.0  # seconds any one outcome may take to show; they take well under one

SETUP = """
import json
from accounts import services as s
pat = s.register_user(username="scale_pat", email="pat@example.com", password="pw-long-4242")
doc = s.register_user(username="scale_doc", email="doc@example.com", password="pw-long-4242")
s.set_role(users=[doc], role="doctor")
s.change_link(link=s.request_link(patient=pat, doctor=doc), by=doc, status="active")
tokens = {"scale_pat": s.issue_token(user=pat).key, "scale_doc": s.issue_token(user=doc).key}
print(json.dumps(tokens))
"""


@dataclass
class Stack:
    proxy: NginxProxy
    servers: list[LiveServer]
    tokens: dict[str, str]

    def server_on(self, port: int) -> LiveServer:
        return next(server for server in self.servers if server.port == port)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("scaleout")
    # One database (migrated once, as compose's `migrate` service does) for three processes.
    database = LiveServer(
        tmp, extra_env={"TRUSTED_PROXIES": "127.0.0.1", "METRICS_TOKEN": METRICS_TOKEN}
    )
    servers = [LiveServer(tmp, same_database_as=database) for _ in range(PROCESSES)]
    proxy = None
    try:
        database.manage("migrate", "--noinput", "-v0")
        # No collectstatic (the slowest step of the setup): these tests use the API, sockets
        # and health checks, which render no page and link no static file.
        start_all(servers)
        tokens = json.loads(database.shell(SETUP).strip().splitlines()[-1])
        proxy_dir = tmp / "nginx"
        proxy_dir.mkdir()
        proxy = NginxProxy(proxy_dir, [server.port for server in servers])
        proxy.start()
        yield Stack(proxy, servers, tokens)
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.stop()
        database.stop()  # drops the database


def start_all(servers: list[LiveServer]) -> None:
    """Start the processes side by side (each waits for its own /healthz)."""
    errors: list[BaseException] = []

    def start(server: LiveServer) -> None:
        try:
            server.start()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """The status and the body (parsed when it is JSON) of a GET."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            body = response.read()
            if response.headers.get_content_type() == "application/json":
                return response.status, json.loads(body)
            return response.status, {"text": body.decode()}
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@dataclass
class ChatClient:
    """One user's chat socket through the proxy, and every message it was sent."""

    stack: Stack
    user: str
    peer: str
    ws: ClientConnection | None = None
    upstream_port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_id(self) -> int:
        return max((m["id"] for m in self.received), default=0)

    async def connect(self, avoid_port: int = 0) -> None:
        """Connect through the proxy, retrying whatever fails (a 502 while nginx learns a process
        is gone, a refused connection) until DEADLINE; with `avoid_port`, until the proxy puts
        this socket on another process than that one."""
        url = (
            f"{self.stack.proxy.ws_url}/ws/chat/{self.peer}/"
            f"?token={self.stack.tokens[self.user]}&after={self.last_id}"
        )
        deadline = time.monotonic() + DEADLINE
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                ws = await connect(url, origin=self.stack.proxy.url, open_timeout=5)
            except (OSError, InvalidStatus, ConnectionClosed, TimeoutError) as exc:
                last_error = exc
                await asyncio.sleep(0.2)
                continue
            port = int(ws.response.headers[UPSTREAM_HEADER].rsplit(":", 1)[1])
            if avoid_port and port == avoid_port:
                await ws.close()  # round robin: the next try goes to another process
                continue
            self.ws, self.upstream_port = ws, port
            return
        raise AssertionError(f"{self.user} could not connect through the proxy: {last_error!r}")

    async def send(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"message": text}))

    async def wait_for(self, *texts: str) -> None:
        """Read frames until every text has arrived (once each is checked at the end)."""
        assert self.ws is not None
        deadline = time.monotonic() + DEADLINE
        while not set(texts) <= {m["message"] for m in self.received}:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.user} never got {texts}; got {self.received}")
            try:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            except TimeoutError:
                continue  # the deadline check above says what was missing
            assert "error" not in frame, frame
            self.received.append(frame)

    async def wait_closed(self) -> None:
        """The socket's process died: the proxy must close it (the client then reconnects)."""
        assert self.ws is not None
        deadline = time.monotonic() + DEADLINE
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.user}'s socket stayed open after the kill")
            try:
                frame = await asyncio.wait_for(self.ws.recv(), remaining)
            except ConnectionClosed:
                return
            self.received.append(json.loads(frame))


async def pair_on_two_processes(stack: Stack) -> tuple[ChatClient, ChatClient]:
    patient = ChatClient(stack, "scale_pat", "scale_doc")
    doctor = ChatClient(stack, "scale_doc", "scale_pat")
    await patient.connect()
    await doctor.connect(avoid_port=patient.upstream_port)
    assert patient.upstream_port != doctor.upstream_port
    # Both sockets joined their group before they were accepted: a message sent now reaches
    # both. The history of earlier tests arrives first; only `tag`'s messages are checked.
    return patient, doctor


def assert_each_once(client: ChatClient, texts: list[str], tag: str) -> None:
    mine = [m["message"] for m in client.received if m["message"].split()[0] == tag]
    assert sorted(mine) == sorted(texts), f"{client.user} got {mine}, expected {texts} once each"


def test_chat_between_processes_through_the_proxy(stack: Stack):
    async def scenario() -> None:
        tag = f"cross-{time.monotonic_ns()}"
        patient, doctor = await pair_on_two_processes(stack)
        try:
            await patient.send(f"{tag} from patient")
            await asyncio.gather(
                patient.wait_for(f"{tag} from patient"), doctor.wait_for(f"{tag} from patient")
            )
            await doctor.send(f"{tag} from doctor")
            await asyncio.gather(
                patient.wait_for(f"{tag} from doctor"), doctor.wait_for(f"{tag} from doctor")
            )
        finally:
            await patient.ws.close()
            await doctor.ws.close()
        expected = [f"{tag} from patient", f"{tag} from doctor"]
        assert_each_once(patient, expected, tag)
        assert_each_once(doctor, expected, tag)

    run_async(scenario())


def test_a_killed_process_loses_nothing(stack: Stack):
    """kill -9 the patient's process mid-conversation: the doctor keeps writing, the patient
    reconnects through the proxy (to a live process) and resyncs from the last id it saw."""

    async def scenario() -> list[str]:
        tag = f"kill-{time.monotonic_ns()}"
        patient, doctor = await pair_on_two_processes(stack)
        sent: list[str] = []

        async def say(client: ChatClient, text: str, *readers: ChatClient) -> None:
            sent.append(text)
            await client.send(text)
            await asyncio.gather(*(reader.wait_for(text) for reader in (client, *readers)))

        await say(patient, f"{tag} p1", doctor)
        await say(doctor, f"{tag} d1", patient)

        # Not started again: the tests after this one need two live processes, not three.
        killed = stack.server_on(patient.upstream_port)
        os.kill(killed.pid, signal.SIGKILL)
        killed.process.wait(timeout=DEADLINE)
        # The doctor's process is alive: the conversation goes on while the patient is away.
        for n in (2, 3, 4):
            await say(doctor, f"{tag} d{n}")
        await patient.wait_closed()

        await patient.connect()  # ?after= the last id the patient saw
        assert patient.upstream_port != killed.port
        await patient.wait_for(*(f"{tag} d{n}" for n in (2, 3, 4)))
        await say(patient, f"{tag} p2", doctor)
        await say(doctor, f"{tag} d5", patient)
        await patient.ws.close()
        await doctor.ws.close()
        assert_each_once(patient, sent, tag)
        assert_each_once(doctor, sent, tag)
        return sent

    sent = run_async(scenario())
    # HTTP keeps answering with one process dead: every request reaches a live one (the
    # requests start after the kill, so none is cut off half-answered by it).
    for _ in range(2 * PROCESSES):
        status, body = http_get(f"{stack.proxy.url}/healthz")
        assert (status, body.get("status")) == (200, "ok")
    # The database is the truth: each message stored once, in the order it was sent.
    status, stored = http_get(
        f"{stack.proxy.url}/api/chat/conversations/scale_doc/",
        {"Authorization": f"Token {stack.tokens['scale_pat']}"},
    )
    assert status == 200
    tag = sent[0].split()[0]
    assert [m["message"] for m in stored if m["message"].split()[0] == tag] == sent


def test_nginx_logs_never_hold_a_token(stack: Stack):
    """Sockets and requests with `?token=` in every spelling: the logs show the path only."""
    tokens = stack.tokens

    async def open_and_close() -> None:
        client = ChatClient(stack, "scale_pat", "scale_doc")
        await client.connect()
        await client.ws.close()

    run_async(open_and_close())
    mistyped = "f00dfeedc0ffee"  # most of a key is still worth hiding
    for query in (
        f"token={tokens['scale_doc']}",
        f"format=json&Token={tokens['scale_pat']}",
        f"access_token={mistyped}&x=1",
        f"x=1&%74oken={tokens['scale_doc']}",  # the app decodes it to token=
    ):
        http_get(f"{stack.proxy.url}/api/auth/profile/?{query}")

    def logged() -> str:
        return stack.proxy.access_log.read_text(errors="replace")

    deadline = time.monotonic() + DEADLINE
    # nginx writes a socket's line when it closes and a request's when it is answered.
    while logged().count("/api/auth/profile/?[redacted]") < 4 or "/ws/chat/" not in logged():
        assert time.monotonic() < deadline, f"nginx never logged the requests:\n{logged()}"
        time.sleep(0.1)
    everything = stack.proxy.logs()
    for secret in (*tokens.values(), mistyped):
        assert secret not in everything
    assert "/ws/chat/scale_doc/?[redacted]" in logged()


def raw_status(stack: Stack, request: bytes) -> int:
    """Send one raw HTTP request to the proxy and return the status it answers with."""
    with socket.create_connection(("127.0.0.1", stack.proxy.port), timeout=DEADLINE) as sock:
        sock.sendall(request)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def test_the_proxy_enforces_its_limits(stack: Stack):
    """Too large a body or header is refused by nginx itself, before any process spends on it;
    per-process /metrics are not offered through the proxy."""
    host = f"Host: 127.0.0.1:{stack.proxy.port}\r\n".encode()
    # Only the headers are sent: nginx answers from the declared length, so no race with a
    # body still being written.
    oversized_body = (
        b"POST /api/auth/login/ HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
        b"Content-Length: 4000000\r\n\r\n"
    )
    assert raw_status(stack, oversized_body) == 413
    oversized_header = (
        b"GET /healthz HTTP/1.1\r\n" + host + b"X-Filler: " + b"a" * 20_000 + b"\r\n\r\n"
    )
    assert raw_status(stack, oversized_header) == 400
    normal = b"GET /healthz HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
    assert raw_status(stack, normal) == 200
    # A replica shows its metrics to the scraper's token; the proxy never does.
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    live = next(server for server in stack.servers if server.process.poll() is None)
    status, body = http_get(f"{live.url}/metrics", bearer)
    assert status == 200
    assert "painmap_http_responses_total" in body["text"]
    assert http_get(f"{stack.proxy.url}/metrics", bearer)[0] == 404
