"""The sockets' database thread and the one connection it keeps.

Every query a socket makes runs on asgiref's one shared database thread
(`sync_to_async(thread_sensitive=True)`, public API). Channels' `database_sync_to_async` closes
the connection before and after every call (CONN_MAX_AGE is 0 under ASGI: each HTTP request has
a thread and a pooled connection of its own); on that one thread closing bought nothing and cost
a reconnect per call, and on SQLite in WAL mode closing the last connection also checkpoints the
WAL with an fsync (~20 ms), which capped a server at ~30 chat messages a second.

`on_database_thread` keeps that thread's connection between calls instead
(settings.REALTIME_KEEP_CONNECTION). A call that fails with a database error drops it, and a
connection idle for IDLE_CHECK seconds is checked before use (PostgreSQL may have restarted
meanwhile), so the next call starts on a good one. On PostgreSQL the kept connection is one of
the process's pool (DB_POOL_MAX_SIZE), held for its sockets; HTTP requests share the rest.

Nothing else closes it: the socket base class (core.realtime.consumer) and the socket auth
(core.realtime.auth) never call Channels' `close_old_connections`, and this module marks the kept
connection as having no maximum age, so even a stray `close_old_connections()` on this thread
leaves a healthy connection alone.

SQLite tuning for the kept connection (settings.REALTIME_SQLITE_CHECKPOINT_OFF_PATH): SQLite copies
the WAL back into the database (with an fsync) in whichever commit crosses 1000 pages; every ~250
messages a send waited 5-8 ms, which was the whole p99. The kept connection turns that off and
`checkpoint()` does it from a worker thread of its own, at most once a second while messages are
written (core.realtime.batcher). Other connections keep SQLite's default.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

logger = logging.getLogger(__name__)

IDLE_CHECK = 5.0

_last_used: weakref.WeakKeyDictionary[BaseDatabaseWrapper, float] = weakref.WeakKeyDictionary()


class _ServerLoop(threading.local):
    """The event loop that is awaiting the current database-thread call (None elsewhere):
    what core.realtime.outbox hands events back to, without reading asgiref's internals."""

    loop: asyncio.AbstractEventLoop | None = None


_current = _ServerLoop()


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this code was called from through `on_database_thread`, if any."""
    loop = _current.loop
    return loop if loop is not None and loop.is_running() else None


def _drop_if_dead(conn: BaseDatabaseWrapper) -> None:
    """Before a call: drop a connection that idled long and no longer answers."""
    now = time.monotonic()
    if (
        conn.connection is not None
        and now - _last_used.get(conn, now) > IDLE_CHECK
        and not conn.is_usable()
    ):
        conn.close()


@receiver(connection_created)
def _tune_kept_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """A connection opened during an `on_database_thread` call is the one kept: no maximum age
    (a stray `close_old_connections()` leaves it alone) and, on SQLite, no WAL checkpoint in a
    commit (see the module docstring)."""
    if _current.loop is None or not settings.REALTIME_KEEP_CONNECTION:
        return
    connection.close_at = None
    if connection.vendor == "sqlite" and settings.REALTIME_SQLITE_CHECKPOINT_OFF_PATH:
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")


def on_database_thread[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` made awaitable, run on the shared database thread with its kept connection."""

    def call(loop: asyncio.AbstractEventLoop, *args: P.args, **kwargs: P.kwargs) -> R:
        conn = connections["default"]
        keep = settings.REALTIME_KEEP_CONNECTION
        _current.loop = loop
        try:
            if keep:
                _drop_if_dead(conn)
            return func(*args, **kwargs)
        except DatabaseError:
            conn.close()
            raise
        finally:
            _current.loop = None
            _last_used[conn] = time.monotonic()
            if not keep:
                conn.close()

    run = sync_to_async(call, thread_sensitive=True)

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run(asyncio.get_running_loop(), *args, **kwargs)

    return wrapper


@sync_to_async(thread_sensitive=False)
def checkpoint() -> None:
    """Copy the WAL back into the database from a worker thread of its own (PASSIVE: it never
    blocks a writer, and does what it can while readers hold old pages)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # the next one, or SQLite's own on close, catches up
        logger.exception("WAL checkpoint failed")
    finally:
        connection.close()


@sync_to_async(thread_sensitive=True)
def close_kept_connection() -> None:
    """Close the database thread's connection (a server's exit, the end of a test)."""
    connections.close_all()
