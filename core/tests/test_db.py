"""core/realtime/db.py: the consumers' database thread keeps one connection, and drops a bad one."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection, connections

from accounts.models import User
from core.realtime import db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

POSTGRESQL = connection.vendor == "postgresql"


@db.on_database_thread
def connection_after_a_query() -> object:
    User.objects.exists()
    return connections["default"].connection


@db.on_database_thread
def current_connection() -> object:
    """The database thread's open connection, or None (no query: nothing opens one)."""
    return connections["default"].connection


@db.on_database_thread
def failing_query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")


async def test_the_connection_is_kept_between_calls():
    first = await connection_after_a_query()
    assert first is not None
    assert await current_connection() is first
    assert await connection_after_a_query() is first


async def test_a_database_error_drops_the_connection():
    assert await connection_after_a_query() is not None
    with pytest.raises(DatabaseError):
        await failing_query()
    assert await current_connection() is None
    assert await connection_after_a_query() is not None  # the next call opens a new one


@db.on_database_thread
def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@sync_to_async(thread_sensitive=False)
def terminate(pid: int) -> None:
    """End a backend from another connection, as a PostgreSQL restart would."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        connection.close()


@pytest.mark.skipif(not POSTGRESQL, reason="SQLite connections never drop: the PostgreSQL pass")
async def test_an_idle_connection_the_server_dropped_is_replaced(monkeypatch):
    pid = await backend_pid()
    await terminate(pid)
    monkeypatch.setattr(db, "IDLE_CHECK", 0.0)
    assert await backend_pid() != pid  # the terminated connection would raise
