"""The sign-in limits under real concurrency, against a live Daphne (issue #10, findings 2 and 6).

Parallel requests race for real here: each one runs in a thread of the server while others check
their passwords (the real hasher, hundreds of milliseconds each). On PostgreSQL + Redis when
DATABASE_URL / REDIS_URL are set (the counters then live in Redis), else SQLite + the process's
own memory cache.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from e2e.live_server import ROOT, LiveServer

LIMIT = 10
PASSWORD = "signin-limits-long-secret-42"


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(
        tmp_path_factory.mktemp("signin-limits"),
        extra_env={
            "LOGIN_FAILURE_LIMIT": str(LIMIT),
            "LOGIN_FAILURE_WINDOW": "900",
            # Only the (username, address) limit is under test: every request comes from
            # 127.0.0.1, and with Redis the per-address count outlives one run.
            "LOGIN_ADDRESS_LIMIT": "100000",
            "LOGIN_USERNAME_LIMIT": "100000",
        },
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def new_account(server: LiveServer) -> str:
    username = f"limit{uuid.uuid4().hex[:10]}"
    response = requests.post(
        f"{server.url}/api/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return username


def sign_in(server: LiveServer, username: str, password: str) -> requests.Response:
    return requests.post(
        f"{server.url}/api/auth/login/",
        json={"username": username, "password": password},
        timeout=120,
    )


def test_80_parallel_wrong_passwords_check_at_most_the_limit(limited_server):
    username = new_account(limited_server)
    start = threading.Barrier(80)

    def attempt(index: int) -> requests.Response:
        start.wait()
        return sign_in(limited_server, username, f"wrong-{index}")

    with ThreadPoolExecutor(max_workers=80) as pool:
        answers = list(pool.map(attempt, range(80)))
    statuses = [answer.status_code for answer in answers]
    checked = [a for a in answers if a.status_code == 400]
    refused = [a for a in answers if a.status_code == 429]
    assert len(checked) + len(refused) == 80, statuses
    assert 1 <= len(checked) <= LIMIT, statuses
    assert all(a.json() == {"error": "Invalid credentials"} for a in checked)
    assert all(int(a.headers["Retry-After"]) > 0 and "error" in a.json() for a in refused)


def test_a_burst_with_the_right_password_late_in_it_does_not_sign_in(limited_server):
    username = new_account(limited_server)

    def attempt(index: int) -> requests.Response:
        time.sleep(index * 0.005)  # sent in order, all in flight together
        return sign_in(limited_server, username, PASSWORD if index == 34 else f"wrong-{index}")

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(attempt, range(40)))
    statuses = [answer.status_code for answer in answers]
    assert not any("token" in answer.json() for answer in answers), statuses
    assert answers[34].status_code == 429, statuses
    assert statuses.count(400) <= LIMIT, statuses


def dockerfile_daphne_flags() -> list[str]:
    """The options the Dockerfile's CMD gives daphne, less the address and port."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            command = json.loads(line[4:])[-1]
            words = shlex.split(command.rpartition("exec ")[2])
            flags = words[1:-1]  # between "daphne" and the application
            for option in ("-b", "-p"):
                if option in flags:
                    index = flags.index(option)
                    del flags[index : index + 2]
            return flags
    raise AssertionError("the Dockerfile has no CMD")


@pytest.fixture(scope="module")
def dockerfile_server(limited_server, tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(
        tmp_path_factory.mktemp("dockerfile-daphne"),
        extra_env={"REGISTRATION_LIMIT": "2", "TRUSTED_PROXIES": ""},
        same_database_as=limited_server,
        daphne_args=dockerfile_daphne_flags(),
    )
    try:
        server.start()
        # With Redis the registration count of 127.0.0.1 is shared with the other servers.
        server.shell(
            "from accounts import throttling; throttling.registrations().reset('127.0.0.1')"
        )
        yield server
    finally:
        server.stop()


def test_a_forged_forwarded_for_does_not_escape_the_registration_limit(dockerfile_server):
    statuses = []
    for index in range(4):
        username = f"xff{uuid.uuid4().hex[:10]}"
        response = requests.post(
            f"{dockerfile_server.url}/api/auth/register/",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": f"198.51.100.{index + 1}"},
            timeout=30,
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 429, 429]
