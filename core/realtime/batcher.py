"""Batched writes from the sockets: what every socket of a process stores, in arrival order.

One database thread serves the whole process (core.realtime.db), and each trip to it costs
thread hops and GIL hand-offs; under load a trip carries everything that queued up meanwhile
(at most settings.REALTIME_BATCH_SIZE items; 1 switches batching off). Idle, a batch is one
item and nothing waits.

A store function takes `items=[...]` and returns one result per item, all in one transaction.
When it raises for the batch (a ValueError such as a message that may not be sent, or a database
error), the items are stored one by one, so that only the failing ones fail and each caller
hears about its own item only. When the database itself is gone (CONNECTION_LOST connection
failures in a row), the rest of the batch fails at once rather than each item waiting for the
pool's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

from core.realtime import db

logger = logging.getLogger(__name__)

# At most one off-path WAL checkpoint per this many seconds, and only while items are written.
CHECKPOINT_INTERVAL = 1.0
# After this many connection failures in a row, the rest of a batch fails without trying.
CONNECTION_LOST = 2

type StoreMany = Callable[..., list[Any]]  # store_many(items=[...]) -> one result per item


class Batcher:
    """One per event loop and store function: a queue of items and the task that stores them."""

    def __init__(self, store_many: StoreMany) -> None:
        loop = asyncio.get_running_loop()
        self.store_many = db.on_database_thread(store_many)
        self.queue: asyncio.Queue[tuple[Any, asyncio.Future]] = asyncio.Queue()
        self.task = loop.create_task(self.run())
        self.checkpoints = (
            connections["default"].vendor == "sqlite"
            and settings.REALTIME_SQLITE_CHECKPOINT_OFF_PATH
        )
        self.checkpoint_task: asyncio.Task | None = None
        self.last_checkpoint = loop.time()

    async def submit(self, item: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((item, future))
        return await future

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            limit = max(1, settings.REALTIME_BATCH_SIZE)
            while len(batch) < limit and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._store(batch)
            self._maybe_checkpoint()

    async def _store(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        try:
            results = await self.store_many(items=[item for item, _ in batch])
        except (ValueError, DatabaseError):
            # A batch of one is simply tried once more: a dropped connection is then replaced.
            await self._store_one_by_one(batch)
            return
        except Exception as exc:
            for _, future in batch:
                _settle(future, error=exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)

    async def _store_one_by_one(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        """Each item in its own transaction; see the module docstring."""
        lost: DatabaseError | None = None
        lost_count = 0
        for item, future in batch:
            if lost is not None and lost_count >= CONNECTION_LOST:
                _settle(future, error=lost)
                continue
            try:
                result = await self.store_many(items=[item])
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
        self.checkpoint_task = loop.create_task(db.checkpoint())


def _settle(future: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
    """Answer a waiting socket, unless it went away meanwhile (its future is then cancelled)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[StoreMany, Batcher]] = (
    weakref.WeakKeyDictionary()
)


def batcher_for(store_many: StoreMany) -> Batcher:
    """This event loop's batcher for `store_many` (a new one if its task ended)."""
    loop = asyncio.get_running_loop()
    mine = _batchers.setdefault(loop, {})
    current = mine.get(store_many)
    if current is None or current.task.done():
        current = mine[store_many] = Batcher(store_many)
    return current
