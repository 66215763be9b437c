"""Database calls from the WebSocket consumers: one thread, one kept connection.

Channels' database_sync_to_async closes the connection before and after every call (CONN_MAX_AGE
is 0: under ASGI every HTTP request has a thread and a pooled connection of its own). The
consumers' calls all run on asgiref's one shared database thread, so closing there bought
nothing and cost a reconnect per call; on SQLite in WAL mode, closing the last connection also
checkpoints the WAL with an fsync (~20 ms), which capped a server at ~30 chat messages a second.

`on_database_thread` keeps that thread's connection between calls instead. A call that fails
with a database error drops it, and a connection idle for IDLE_CHECK seconds is checked before
use (PostgreSQL may have restarted meanwhile), so the next call starts on a good one. On
PostgreSQL the kept connection is one of the process's pool (DB_POOL_MAX_SIZE), held for its
sockets; HTTP requests share the rest.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

IDLE_CHECK = 5.0

_last_used: weakref.WeakKeyDictionary[BaseDatabaseWrapper, float] = weakref.WeakKeyDictionary()


def on_database_thread[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` made awaitable, run on the shared database thread with its kept connection."""

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        connection = connections["default"]
        now = time.monotonic()
        if (
            connection.connection is not None
            and now - _last_used.get(connection, now) > IDLE_CHECK
            and not connection.is_usable()
        ):
            connection.close()
        try:
            return func(*args, **kwargs)
        except DatabaseError:
            connection.close()
            raise
        finally:
            _last_used[connection] = time.monotonic()

    return sync_to_async(call, thread_sensitive=True)
