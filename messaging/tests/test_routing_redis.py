"""Two Daphne processes on one Redis: a message sent through one reaches a socket on the other.

This is what REDIS_URL is for (several processes or machines behind one address); the
in-memory layer cannot do it, so the test only runs when REDIS_URL is set (CI sets it).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
DAPHNE_APP = "config.asgi:application"

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs REDIS_URL: two server processes only share messages through Redis",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_servers(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "1",
        "SQLITE_PATH": str(tmp_path / "shared.sqlite3"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)  # both processes share this SQLite file

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    manage("migrate", "--noinput", "-v0")
    output = manage(
        "shell",
        "-c",
        "import json; from accounts import services as s; "
        "u = [s.register_user(username=n, email=n + '@example.com', password='pw-long-42') "
        "for n in ('ann', 'ben')]; "
        "print(json.dumps({x.username: s.issue_token(user=x).key for x in u}))",
    )
    tokens = json.loads(output.strip().splitlines()[-1])
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), DAPHNE_APP],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield ports, tokens
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.asyncio
async def test_message_crosses_server_processes(two_servers):
    (port_a, port_b), tokens = two_servers
    origin = "http://127.0.0.1"
    async with (
        connect(
            f"ws://127.0.0.1:{port_a}/ws/chat/ben/?token={tokens['ann']}", origin=origin
        ) as ann,
        connect(
            f"ws://127.0.0.1:{port_b}/ws/chat/ann/?token={tokens['ben']}", origin=origin
        ) as ben,
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
