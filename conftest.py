"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from core.realtime.db import close_kept_connection

PASSWORD = "correct-horse-battery-9"
# How long a test waits for a WebSocket's handshake or frame (WebsocketCommunicator's default is
# 1 s, which a loaded CI machine can exceed). A generous bound: a passing wait returns at once.
SOCKET_TIMEOUT = 10


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    # Brute-force counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _close_database_thread_connections():
    yield
    # The sockets keep a connection open on their database thread (core/realtime/db.py); close
    # it after each test, as a server's exit would, or PostgreSQL refuses to drop the test
    # database ("being accessed by other users").
    close_kept_connection()
    # ... and on asgiref's shared one, where they go with REALTIME_OWN_DATABASE_THREAD off.
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


def make_user(username: str, role: str = "patient", **extra) -> User:
    user = services.register_user(
        username=username, email=extra.pop("email", f"{username}@example.com"), password=PASSWORD
    )
    if role != "patient":
        services.set_role(users=[user], role=role)
    for key, value in extra.items():
        setattr(user, key, value)
    if extra:
        user.save()
    return user


@pytest.fixture
def patient(db) -> User:
    return make_user("alice")


@pytest.fixture
def other_patient(db) -> User:
    return make_user("bob")


@pytest.fixture
def doctor(db) -> User:
    return make_user("drwho", role="doctor")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.issue_token(user=user).key}")
    return client


@pytest.fixture
def patient_api(patient) -> APIClient:
    return token_client(patient)


def page_queries(client, url: str, *, warm_up: bool = True) -> tuple[int, int]:
    """The status and the number of SQL queries of a GET, after one warm-up GET (a first
    request may write: a session stamp, an hourly access-log row). Savepoints are left out:
    they come from the test's own transaction around each `atomic()`, not from the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if warm_up:
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    sql = [query["sql"] for query in queries.captured_queries]
    return response.status_code, len([s for s in sql if "SAVEPOINT" not in s])
