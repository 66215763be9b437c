"""A real Daphne process serving the whole app, for browser tests, API fuzzing and benchmarks.

It runs with DEBUG off on 127.0.0.1 and a database of its own: a SQLite file, or a fresh
PostgreSQL database when DATABASE_URL points at PostgreSQL. REDIS_URL passes through.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A Daphne process serving the app, and `manage.py` against the same database."""

    def __init__(
        self,
        tmp: Path,
        extra_env: dict[str, str] | None = None,
        same_database_as: LiveServer | None = None,
        daphne_args: list[str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.daphne_args = daphne_args or []  # more flags for daphne, e.g. the Dockerfile's
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.pg_admin_url = ""
        if same_database_as is not None:
            # A second process on the same database (and the same Redis): nothing to create.
            self.env = {**same_database_as.env, **(extra_env or {})}
            self.owns_database = False
            return
        self.owns_database = True
        database_url = os.environ.get("DATABASE_URL", "")
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
            **(extra_env or {}),
        }
        if database_url.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(database_url)
            self.db_name = f"painmap_e2e_{uuid.uuid4().hex[:8]}"
            self.pg_admin_url = urlunsplit(parts._replace(path="/postgres"))
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{self.db_name}"))
            self._psql(f'CREATE DATABASE "{self.db_name}"')
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(tmp / "e2e.sqlite3")
        self.env = env

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
        if self.owns_database:
            self.manage("migrate", "--noinput", "-v0")
            self.manage("collectstatic", "--noinput", "-v0")
        self.log = open(self.tmp / f"daphne-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                *self.daphne_args,
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
        return self.log_path.read_text(errors="replace")

    @property
    def log_path(self) -> Path:
        return self.tmp / f"daphne-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()
        if self.pg_admin_url and self.owns_database:
            self._psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def run_async[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from a sync test, on a thread of its own.

    Once a Playwright test has run, pytest-playwright's sync API keeps an event loop running in
    the main thread for the rest of the session, and `asyncio.run` there raises "cannot be
    called from a running event loop": a socket test passed alone and failed after a browser
    test.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
