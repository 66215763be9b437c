"""Browser journeys and API fuzzing against a live Daphne server running the whole app.

The server is a real `daphne` process (WebSockets included) on 127.0.0.1 with DEBUG off, on a
database of its own: a SQLite file, or a fresh PostgreSQL database when DATABASE_URL points at
PostgreSQL. REDIS_URL passes through, so the CI run on PostgreSQL + Redis covers that stack too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A Daphne process serving the app, and `manage.py` against the same database."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = os.environ.get("DATABASE_URL", "")
        self.pg_admin_url = ""
        env = {
            **os.environ,
            "DEBUG": "0",
            "HTTPS": "0",
            "SECRET_KEY": "e2e-" + uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": str(tmp / "static"),
            # The fuzzer registers many accounts from one address.
            "REGISTRATION_LIMIT": "100000",
            "LOG_LEVEL": "WARNING",
        }
        if self.database_url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(self.database_url)
            self.db_name = f"painmap_e2e_{uuid.uuid4().hex[:8]}"
            self.pg_admin_url = urlunsplit(parts._replace(path="/postgres"))
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.db_name}"))
            self._psql(f'CREATE DATABASE "{self.db_name}"')
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(tmp / "e2e.sqlite3")
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.log = open(self.tmp / "daphne.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer in 60 s:\n{self.logs()}")

    def logs(self) -> str:
        return (self.tmp / "daphne.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()
        if self.pg_admin_url:
            self._psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def daphne_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        artifacts = ROOT / "test-results"
        artifacts.mkdir(exist_ok=True)
        if (server.tmp / "daphne.log").exists():
            shutil.copy(server.tmp / "daphne.log", artifacts / "daphne.log")


@pytest.fixture(scope="session")
def base_url(daphne_server) -> str:
    # pytest-playwright's page.goto("/...") resolves against this.
    return daphne_server.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args) -> dict:
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if Path(CHROMIUM).exists():
        args["executable_path"] = CHROMIUM
    return args


@pytest.fixture(autouse=True)
def _page_timeouts(request) -> None:
    if "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.set_default_timeout(10_000)
