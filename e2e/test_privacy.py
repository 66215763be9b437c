"""Privacy against the running server: Daphne's own access log and the cache headers it sends
(issue #10, finding 8)."""

from __future__ import annotations

import time
import uuid

import requests


def _register(server) -> str:
    username = f"log{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{server.url}/api/auth/register/",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "log-long-secret-pass-42",
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["token"]


def _wait_for_line(server, needle: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs = server.logs()
        if needle in logs:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never reached the log:\n{server.logs()[-2000:]}")


def test_token_in_an_http_address_is_redacted_in_the_access_log(daphne_server):
    key = _register(daphne_server)
    marker = uuid.uuid4().hex[:12]
    response = requests.get(
        f"{daphne_server.url}/api/diary/stats/?token={key}&marker={marker}",
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )
    assert response.status_code == 200
    logs = _wait_for_line(daphne_server, marker)  # the request's line was written...
    assert key not in logs  # ...without the key
    assert key[:12] not in logs
    assert f"/api/diary/stats/?token=[redacted]&marker={marker}" in logs


def test_live_answers_carry_no_store_and_static_files_stay_cacheable(daphne_server):
    key = _register(daphne_server)
    api = requests.get(
        f"{daphne_server.url}/api/auth/profile/",
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )
    assert api.status_code == 200
    assert {"no-store", "private"} <= {d.strip() for d in api.headers["Cache-Control"].split(",")}
    page = requests.get(f"{daphne_server.url}/accounts/login/", timeout=10)
    assert "no-store" in page.headers["Cache-Control"]
    home = requests.get(f"{daphne_server.url}/accounts/login/", timeout=10).text
    css = home.split('href="/static/', 1)[1].split('"', 1)[0]
    static = requests.get(f"{daphne_server.url}/static/{css}", timeout=10)
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "max-age=315360000" in static.headers["Cache-Control"]  # hashed: cached for years
