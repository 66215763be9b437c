"""Django's PostgreSQL backend, with a pool check that costs no round trip while nothing is wrong.

With `CONN_HEALTH_CHECKS`, Django gives its connection pool psycopg_pool's `check_connection`,
which sends an empty query and waits for the answer: a round trip to the database on every
request, before the request's own first query (5-6% of an API request's CPU in a py-spy profile,
issue 13). A connection the server has ended (a terminated backend, a restart, an idle timeout)
has something to read on its socket: the server's FATAL error message, or the end of the stream.
A live idle connection has nothing to read: this project never LISTENs, so no notification
waits there. So each connection the pool hands out is looked at first, without waiting: nothing
to read, it is used; anything to read, the server is asked as psycopg_pool does, and one that
fails is closed and given back (the pool replaces a closed connection) and the next one taken.

Used with `CONN_HEALTH_CHECKS = False` (config/settings.py): the pool itself checks nothing.
What neither check sees without a timeout is a network that silently stopped carrying packets;
the next query's error covers that (answered 503, or retried for a read, by core.faults).
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def usable(conn: psycopg.Connection) -> bool:
    """Whether `conn` can be used; a round trip only when its socket has something to read."""
    if conn.closed:
        return False
    poller = select.poll()  # not select(): a process with many sockets has descriptors > 1024
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    if not poller.poll(0):
        return True
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool = self.pool
        if pool is None:
            return super().get_new_connection(conn_params)
        # Every idle connection may be dead at once (a restart): try each, then a new one.
        for _ in range(pool.max_size + 1):
            connection = super().get_new_connection(conn_params)
            if usable(connection):
                return connection
            connection.close()
            pool.putconn(connection)  # a closed connection is dropped and replaced
        raise psycopg.OperationalError("no usable connection in the pool")
