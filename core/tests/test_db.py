"""core/realtime/db.py: the sockets' database thread runs calls in order, keeps one connection,
and drops a bad one."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

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


# ---- The thread itself -----------------------------------------------------------------------

caller = contextvars.ContextVar("caller", default="nobody")


@db.on_database_thread
def where_and_who(pause: float = 0.0) -> tuple[int, str, str]:
    time.sleep(pause)
    return threading.get_ident(), threading.current_thread().name, caller.get()


async def test_calls_run_on_one_thread_of_their_own_in_the_callers_context():
    caller.set("socket 7")
    results = await asyncio.gather(*(where_and_who(0.01 if i == 0 else 0.0) for i in range(5)))
    threads = {ident for ident, _, _ in results}
    assert len(threads) == 1
    assert threading.get_ident() not in threads
    assert {name for _, name, _ in results} == {"realtime-database"}
    assert {who for _, _, who in results} == {"socket 7"}


async def test_with_the_switch_off_calls_go_to_asgirefs_shared_thread(settings):
    own, _, _ = await where_and_who()
    settings.REALTIME_OWN_DATABASE_THREAD = False
    shared, name, _ = await where_and_who()
    assert shared != own
    assert name != "realtime-database"


order: list[str] = []


@db.on_database_thread
def slow_step(name: str) -> str:
    time.sleep(0.05)
    order.append(name)
    return name


async def test_calls_run_in_the_order_they_were_made():
    order.clear()
    names = [f"call {i}" for i in range(5)]
    assert await asyncio.gather(*(slow_step(name) for name in names)) == names
    assert order == names


async def test_a_cancelled_caller_leaves_its_call_to_finish_and_the_thread_serves_the_next():
    order.clear()
    first = asyncio.ensure_future(slow_step("cancelled"))
    await asyncio.sleep(0.01)  # running on the thread now
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await slow_step("next") == "next"
    assert order == ["cancelled", "next"]


@db.on_database_thread
def raises_value_error() -> None:
    raise ValueError("bad item")


async def test_an_error_reaches_its_caller_only():
    with pytest.raises(ValueError, match="bad item"):
        await raises_value_error()
    assert (await where_and_who())[1] == "realtime-database"


async def loop_thread() -> int:
    return threading.get_ident()


@db.on_database_thread
def reach_the_loop() -> int:
    return db.call_on_server_loop(loop_thread)


async def test_sync_code_on_the_thread_reaches_the_server_loop():
    assert await reach_the_loop() == threading.get_ident()


@db.on_database_thread
def wait_for_the_thread_itself() -> object:
    return db.call_on_server_loop(where_and_who)


async def test_waiting_for_the_thread_from_the_thread_is_refused_not_a_hang():
    with pytest.raises(RuntimeError, match="cannot wait for another"):
        await asyncio.wait_for(wait_for_the_thread_itself(), timeout=10)
    assert (await where_and_who())[1] == "realtime-database"


async def test_sync_code_elsewhere_closes_the_kept_connection():
    """What a test's teardown or a server's exit does, from a thread that is not the loop's."""
    assert await connection_after_a_query() is not None
    await asyncio.to_thread(db.close_kept_connection)
    assert await current_connection() is None
