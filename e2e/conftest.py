"""Browser journeys and API fuzzing against a live Daphne server running the whole app
(see e2e/live_server.py). REDIS_URL and DATABASE_URL pass through, so the CI run on
PostgreSQL + Redis covers that stack too."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.live_server import ROOT, LiveServer

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


@pytest.fixture(scope="session")
def daphne_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(
        tmp_path_factory.mktemp("live"), extra_env={"DJANGO_SETTINGS_MODULE": "e2e.settings"}
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        artifacts = ROOT / "test-results"
        artifacts.mkdir(exist_ok=True)
        if server.log_path.exists():
            shutil.copy(server.log_path, artifacts / "daphne.log")


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


# The database-outage test needs a PostgreSQL server to terminate backends of; on SQLite the
# same faults are covered by unit tests (it says which).
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    collect_ignore = ["test_db_faults.py"]
