"""core/faults.py: a database error during a request is retried once where safe, else a 503
with Retry-After; never a 500 with a trace (issue #10, finding 7).

The database is made to fail by patching the one call every query goes through
(CursorWrapper._execute), as a terminated backend would fail it. The real thing, with
pg_terminate_backend against a live server, is e2e/test_db_faults.py.
"""

from __future__ import annotations

import logging
import time

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import AsyncClient, Client, RequestFactory

from accounts.services import issue_token
from conftest import PASSWORD
from core import faults
from core.postgresql.base import usable

pytestmark = pytest.mark.django_db(transaction=True)


class FailingQueries:
    """Makes the next `times` queries whose SQL holds `match` fail with `error`."""

    def __init__(self, monkeypatch, *, times: int, match: str = "", error=OperationalError):
        self.times, self.match, self.error = times, match, error
        self.failed = 0
        real = CursorWrapper._execute

        def execute(wrapper, sql, params, *args):
            if self.match in sql and self.failed < self.times:
                self.failed += 1
                raise self.error("server closed the connection unexpectedly")
            return real(wrapper, sql, params, *args)

        monkeypatch.setattr(CursorWrapper, "_execute", execute)


@pytest.fixture
def signed_in(patient) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(patient)
    # Sessions are cached (core/sessions.py): a cold cache reads this one from the database,
    # whose query these tests make fail.
    cache.clear()
    return client


@pytest.fixture
def token_api(patient) -> Client:
    client = Client(raise_request_exception=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {issue_token(user=patient).key}"
    return client


def test_a_get_whose_session_query_fails_once_is_retried(signed_in, monkeypatch):
    # The session is loaded in a middleware layer (the user's time zone): handler500's path.
    failing = FailingQueries(monkeypatch, times=1, match="django_session")
    response = signed_in.get("/accounts/profile/")  # "/" now redirects a patient to the diary
    assert failing.failed == 1
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "alice"


def test_a_get_whose_view_query_fails_once_is_retried(token_api, monkeypatch):
    # The token is looked up inside the DRF view: process_exception's path.
    failing = FailingQueries(monkeypatch, times=1, match="authtoken_token")
    response = token_api.get("/api/auth/profile/")
    assert failing.failed == 1
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_get_that_fails_twice_is_a_503_page(signed_in, monkeypatch, caplog):
    failing = FailingQueries(monkeypatch, times=10, match="django_session")
    with caplog.at_level(logging.WARNING):
        response = signed_in.get("/")
    assert failing.failed == 2  # the request and one retry, no more
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER)
    assert "Back in a moment" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # Logged as warnings, without a trace: the database was away, nothing is broken.
    assert [r.levelname for r in caplog.records if r.name.startswith("django")] == []
    assert all(r.exc_info is None for r in caplog.records)


def test_an_api_get_that_fails_twice_is_a_503_json_error(token_api, monkeypatch):
    FailingQueries(monkeypatch, times=10, match="authtoken_token")
    response = token_api.get("/api/auth/profile/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER)
    assert response.json() == {"error": faults.UNAVAILABLE}


def test_a_post_is_not_retried_but_answered_503(patient, monkeypatch):
    failing = FailingQueries(monkeypatch, times=1, match="accounts_user")
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/auth/login/",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert failing.failed == 1
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER)
    assert response.json() == {"error": faults.UNAVAILABLE}
    # The database is back: the same request signs in.
    again = client.post(
        "/api/auth/login/",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert again.status_code == 200


def test_a_form_post_is_a_503_page(patient, monkeypatch):
    FailingQueries(monkeypatch, times=1, match="accounts_user")
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()


def test_an_error_the_database_will_repeat_is_not_retried(token_api, monkeypatch, caplog):
    failing = FailingQueries(monkeypatch, times=10, match="authtoken_token", error=IntegrityError)
    with caplog.at_level(logging.ERROR, logger="core.faults"):
        response = token_api.get("/api/auth/profile/")
    assert failing.failed == 1
    assert response.status_code == 503
    assert "Database error" in caplog.text  # a bug to look at: logged with its trace


def test_other_errors_are_still_the_friendly_500():
    factory = RequestFactory()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        api = faults.server_error(factory.get("/api/diary/stats/"))
        page = faults.server_error(factory.get("/diary/"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"
    assert page.status_code == 500
    assert "Something went wrong" in page.content.decode()


@pytest.mark.asyncio
async def test_the_asgi_stack_retries_too(patient, monkeypatch):
    """The server runs the ASGI handler, whose inner middleware layers are async."""
    key = (await sync_to_async(issue_token)(user=patient)).key
    failing = FailingQueries(monkeypatch, times=1, match="authtoken_token")
    client = AsyncClient(raise_request_exception=False)
    response = await client.get("/api/auth/profile/", headers={"Authorization": f"Token {key}"})
    assert failing.failed == 1
    assert response.status_code == 200
    signed_in = AsyncClient(raise_request_exception=False)
    await signed_in.aforce_login(patient)
    await sync_to_async(cache.clear)()  # the session from the database (see signed_in)
    failing = FailingQueries(monkeypatch, times=10, match="django_session")
    response = await signed_in.get("/")
    assert failing.failed == 2
    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()


POSTGRESQL = connection.vendor == "postgresql"


def direct_connection(**overrides: str) -> psycopg.Connection:
    """A plain psycopg connection with the test database's parameters, outside Django's pool
    (without the options only Django's own cursors understand)."""
    params = {**connection.get_connection_params(), **overrides}
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return psycopg.connect(**params, autocommit=True)


def terminate_other_backends() -> int:
    """End every other backend of the test database, as a PostgreSQL restart would, and wait
    until they are gone (as they are once a restarted server is back)."""
    with direct_connection(dbname="postgres") as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        ).fetchone()
    return row[0]


@pytest.mark.skipif(not POSTGRESQL, reason="the connection pool is PostgreSQL's")
def test_pooled_connections_are_checked_so_none_fails_after_an_outage(token_api, caplog):
    assert connection.pool is not None
    for _ in range(5):
        assert token_api.get("/api/auth/profile/").status_code == 200
    connection.close()  # back to the pool with the others
    assert terminate_other_backends() >= 1
    with caplog.at_level(logging.WARNING, logger="core.faults"):
        statuses = [token_api.get("/api/auth/profile/").status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert "Retrying" not in caplog.text  # no request even met a dead connection


def _last_query_of(pid: int) -> str:
    with direct_connection() as observer:
        row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return row.fetchone()[0]


@pytest.mark.skipif(not POSTGRESQL, reason="the connection pool is PostgreSQL's")
def test_a_live_pooled_connection_is_handed_out_without_a_round_trip(db):
    with direct_connection() as conn:
        conn.execute("SELECT 'painmap: the last query'")
        assert all(usable(conn) for _ in range(3))
        # The server saw no query since (psycopg_pool's own check would have sent one).
        assert _last_query_of(conn.info.backend_pid) == "SELECT 'painmap: the last query'"
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.skipif(not POSTGRESQL, reason="the connection pool is PostgreSQL's")
def test_a_terminated_or_closed_connection_is_not_usable(db):
    with direct_connection() as conn, direct_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        deadline = time.monotonic() + 5  # the server's goodbye reaches the socket within moments
        while usable(conn) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not usable(conn)
    closed = direct_connection()
    closed.close()
    assert not usable(closed)
