"""The sockets' database thread and the one connection it keeps.

Every query a socket makes runs on one database thread per process, in the order the calls were
made (`on_database_thread`). Channels' `database_sync_to_async` closes the connection before and
after every call (CONN_MAX_AGE is 0 under ASGI: each HTTP request has a thread and a pooled
connection of its own); on that one thread closing bought nothing and cost a reconnect per call,
and on SQLite in WAL mode closing the last connection also checkpoints the WAL with an fsync
(~20 ms), which capped a server at ~30 chat messages a second.

The thread is this module's own (settings.REALTIME_OWN_DATABASE_THREAD; off, the calls go to
asgiref's shared one through `sync_to_async(thread_sensitive=True)`, as they did before). A trip
there and back is a queue put, the call in a copy of the caller's context, and
`call_soon_threadsafe` with the result: on a 2-core machine ~95-120 µs of CPU against asgiref's
~210-235 µs (its executor future chained to an asyncio one, a shield, a deadlock guard, context
restoring), and a chat handshake makes two such trips. Sync code running there reaches the
server's event loop through `call_on_server_loop` (asgiref's `async_to_sync` finds that loop
only from its own threads).

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
import concurrent.futures
import contextlib
import contextvars
import functools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
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


def _settle(
    future: asyncio.Future[Any] | concurrent.futures.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    if future.done():  # the caller was cancelled: nobody waits for this
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


# Set in a coroutine that a database-thread call waits for (call_on_server_loop).
_thread_waits = contextvars.ContextVar("core.realtime.db.thread_waits", default=False)


class DatabaseThread:
    """One thread that runs the calls handed to it one at a time, in order (started on first
    use; a daemon, so that it never holds up a server's exit)."""

    def __init__(self, name: str = "realtime-database") -> None:
        self.name = name
        self._calls: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit[R](
        self, loop: asyncio.AbstractEventLoop, func: Callable[..., R], *args: Any
    ) -> asyncio.Future[R]:
        """`func(*args)` on the thread, in a copy of the caller's context; its result (or
        error) comes back as the returned future's, on `loop`. Cancelling the future leaves
        the call to finish (a query cannot be stopped half-way) and drops its result."""
        future = loop.create_future()
        self._put(_thread_waits.get(), loop, future, func, args)
        return future

    def run[R](self, func: Callable[..., R], *args: Any) -> R:
        """`func(*args)` on the thread, from sync code on another thread (the end of a test),
        waiting for it."""
        done: concurrent.futures.Future[R] = concurrent.futures.Future()
        self._put(threading.current_thread() is self._thread, None, done, func, args)
        return done.result()

    def _put(
        self,
        would_deadlock: bool,
        loop: asyncio.AbstractEventLoop | None,
        future: asyncio.Future[Any] | concurrent.futures.Future[Any],
        func: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        if would_deadlock:  # the thread waits for this caller, which would wait for the thread
            raise RuntimeError("A database-thread call cannot wait for another one.")
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        self._calls.put((loop, future, contextvars.copy_context(), func, args))

    def _run(self) -> None:
        while True:
            loop, future, context, func, args = self._calls.get()
            try:
                outcome = (context.run(func, *args), None)
            except BaseException as error:  # handed to the caller, whatever it is
                outcome = (None, error)
            if loop is None:  # run(): a thread waits
                _settle(future, *outcome)
            else:
                with contextlib.suppress(RuntimeError):  # that loop closed: nobody waits
                    loop.call_soon_threadsafe(_settle, future, *outcome)
            del loop, future, context, func, args, outcome  # no reference kept while idle


_thread = DatabaseThread()


def on_database_thread[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` made awaitable, run on the sockets' database thread with its kept connection."""

    def call(loop: asyncio.AbstractEventLoop, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
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

    shared = sync_to_async(call, thread_sensitive=True)

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        if settings.REALTIME_OWN_DATABASE_THREAD:
            return await _thread.submit(loop, call, loop, args, kwargs)
        return await shared(loop, args, kwargs)

    return wrapper


def call_on_server_loop[R](func: Callable[..., Awaitable[R]], *args: Any) -> R:
    """`await func(*args)` from sync code, and its result: on the event loop whose
    `on_database_thread` call this code runs in (blocking the thread until it is done), else
    through asgiref's `async_to_sync` (an HTTP request's thread, a command)."""
    loop = server_loop()
    if loop is None:
        return async_to_sync(func)(*args)

    async def waited_for() -> R:
        _thread_waits.set(True)  # in this task's context only
        return await func(*args)

    return asyncio.run_coroutine_threadsafe(waited_for(), loop).result()


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


def close_kept_connection() -> None:
    """Close the database thread's connection (the end of a test), from sync code on another
    thread."""
    _thread.run(connections.close_all)
