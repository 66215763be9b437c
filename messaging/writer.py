"""The chat sockets' send path: what every socket of a process sends, stored in batches.

`await store(sender, receiver, text)` stores one message through services.send_messages and
returns it (or raises MessageError). Three things keep the path short under load, each measured
with bench/bench_ws.py:

- Batches. One database thread serves the whole process (sync_to_async, thread-sensitive), and
  each trip to it costs thread hops and GIL hand-offs; under load a trip carries everything that
  queued up meanwhile. Idle, a batch is one message and nothing waits.
- A kept connection (config.db.on_database_thread): no reconnect per trip, and on SQLite no WAL
  checkpoint with an fsync each time the last connection closes.
- SQLite checkpoints off the path. SQLite copies the WAL back into the database (with an fsync)
  in whichever commit crosses 1000 pages: every ~250 messages a send waited 5-8 ms, which was the
  whole p99. The kept connection turns that off and a worker thread checkpoints at most once a
  second while messages are being written (other connections keep SQLite's default).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from asgiref.sync import sync_to_async
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections

from accounts.models import User
from config.db import on_database_thread
from messaging import services
from messaging.models import Message

logger = logging.getLogger(__name__)

# At most one off-path checkpoint per this many seconds, and only while messages are written.
CHECKPOINT_INTERVAL = 1.0
# After this many connection failures in a row, the rest of a batch fails without trying.
CONNECTION_LOST = 2


@on_database_thread
def _store(items: list[tuple[User, User, str]]) -> list[Message]:
    """services.send_messages on the shared database thread, with its kept connection."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        # Per connection, and the connection may be new: a no-op costs a few µs.
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")
    return services.send_messages(items=items)


@sync_to_async(thread_sensitive=False)
def _checkpoint() -> None:
    """Copy the WAL back into the database from a worker thread of its own (PASSIVE: it never
    blocks a writer, and does what it can while readers hold old pages)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # the next one, or SQLite's own on close, catches up
        logger.exception("WAL checkpoint failed")
    finally:
        connection.close()


class WriteBatcher:
    """One per event loop: a queue of (sender, receiver, text) and the task that stores it in
    arrival order, MAX_BATCH at most per trip."""

    MAX_BATCH = 200

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[User, User, str, asyncio.Future]] = asyncio.Queue()
        self.task = loop.create_task(self.run())
        self.checkpoints = connections["default"].vendor == "sqlite"
        self.checkpoint_task: asyncio.Task | None = None
        self.last_checkpoint = loop.time()

    async def submit(self, sender: User, receiver: User, text: str) -> Message:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((sender, receiver, text, future))
        return await future

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._store(batch)
            self._maybe_checkpoint()

    async def _store(self, batch: list[tuple[User, User, str, asyncio.Future]]) -> None:
        try:
            messages = await _store([(s, r, t) for s, r, t, _ in batch])
        except (services.MessageError, DatabaseError):
            # One bad item (say, a pair that may no longer talk, or a row the database refused),
            # or a connection that died under the batch (on_database_thread dropped it): store
            # them one by one, so that only the failing ones fail.
            await self._store_one_by_one(batch)
            return
        except Exception as exc:
            for *_, future in batch:
                _settle(future, error=exc)
            return
        for (*_, future), message in zip(batch, messages, strict=True):
            _settle(future, result=message)

    async def _store_one_by_one(self, batch: list[tuple[User, User, str, asyncio.Future]]) -> None:
        """Each item in its own transaction. When the database itself is gone (CONNECTION_LOST
        times in a row), the rest fail at once rather than each waiting for the pool's timeout."""
        lost: DatabaseError | None = None
        lost_count = 0
        for sender, receiver, text, future in batch:
            if lost is not None and lost_count >= CONNECTION_LOST:
                _settle(future, error=lost)
                continue
            try:
                result = await _store([(sender, receiver, text)])
            except (OperationalError, InterfaceError) as exc:
                lost, lost_count = exc, lost_count + 1
                _settle(future, error=exc)
            except Exception as exc:
                lost_count = 0
                _settle(future, error=exc)
            else:
                lost_count = 0
                _settle(future, result=result[0])

    def _maybe_checkpoint(self) -> None:
        if not self.checkpoints:
            return
        loop = asyncio.get_running_loop()
        if self.checkpoint_task is not None and not self.checkpoint_task.done():
            return
        if loop.time() - self.last_checkpoint < CHECKPOINT_INTERVAL:
            return
        self.last_checkpoint = loop.time()
        self.checkpoint_task = loop.create_task(_checkpoint())


def _settle(
    future: asyncio.Future, result: Message | None = None, error: BaseException | None = None
) -> None:
    """Answer a waiting socket, unless it went away meanwhile (its future is then cancelled)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriteBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> WriteBatcher:
    """This event loop's batcher (a new one if its task ended)."""
    loop = asyncio.get_running_loop()
    current = _batchers.get(loop)
    if current is None or current.task.done():
        current = _batchers[loop] = WriteBatcher()
    return current


async def store(sender: User, receiver: User, text: str) -> Message:
    """Store one message through this event loop's batcher; MessageError if it may not be."""
    return await batcher().submit(sender, receiver, text)
