"""Events to sockets, after the commit: `broadcast_on_commit(events)` is all a service calls.

The database is the truth and the push is best effort: events leave in `transaction.on_commit`,
so a socket never hears of a row that was rolled back, and a client that missed a push resyncs
from the last id it saw.

When the committing code runs on the sockets' database thread (core.realtime.db), the events are
handed back to the server's event loop and leave through one outbox per loop
(settings.REALTIME_OUTBOX): in commit order, and the database thread never waits on the channel
layer (a Redis round trip per group per event). Elsewhere (an HTTP request, a command) they are
sent there and then (`core.realtime.db.call_on_server_loop`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from core.realtime.db import call_on_server_loop, server_loop

logger = logging.getLogger(__name__)

type Event = tuple[str, dict[str, Any]]  # (group, event)

# Events of these types only say "look again": a group's repeats within COALESCE seconds
# collapse into one.
COALESCED = frozenset({"inbox.changed"})
COALESCE = 0.2

_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue[Event]] = (
    weakref.WeakKeyDictionary()
)


def broadcast_on_commit(events: list[Event]) -> None:
    """Send each (group, event) to its channel-layer group once the current transaction commits
    (at once when there is none)."""
    transaction.on_commit(lambda: broadcast(events))


def broadcast(events: list[Event]) -> None:
    """Send each (group, event) now: through the server loop's outbox, or directly when sync."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    loop = server_loop() if settings.REALTIME_OUTBOX else None
    if loop is not None:
        # call_soon_threadsafe keeps the callbacks' order, so the outbox keeps commit order.
        loop.call_soon_threadsafe(_enqueue, loop, events)
        return
    call_on_server_loop(_send_all, layer, events)


async def _send_all(layer: Any, events: list[Event]) -> None:
    for group, event in events:
        await _send(layer, group, event)


def _enqueue(loop: asyncio.AbstractEventLoop, events: list[Event]) -> None:
    queue = _outboxes.get(loop)
    if queue is None:
        queue = _outboxes[loop] = asyncio.Queue()
        task = loop.create_task(_drain(queue))
        task.add_done_callback(lambda _: _outboxes.pop(loop, None))
    for event in events:
        queue.put_nowait(event)


async def _drain(queue: asyncio.Queue[Event]) -> None:
    """Send what queued up: each group's events in order, different groups side by side.

    With Redis every group_send is a round trip; one at a time capped a server at ~100
    messages a second.
    """
    layer = get_channel_layer()
    pending: dict[str, dict[str, Any]] = {}
    flusher: asyncio.Task | None = None

    async def flush_coalesced() -> None:
        while pending:
            await asyncio.sleep(COALESCE)
            groups = list(pending.items())
            pending.clear()
            await asyncio.gather(*(_send(layer, g, e) for g, e in groups))

    while True:
        batch = [await queue.get()]
        while not queue.empty():
            batch.append(queue.get_nowait())
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, event in batch:
            if event.get("type") in COALESCED:
                pending[group] = event
            else:
                by_group.setdefault(group, []).append(event)
        if pending and (flusher is None or flusher.done()):
            flusher = asyncio.create_task(flush_coalesced())
        await asyncio.gather(*(_send_in_order(layer, g, e) for g, e in by_group.items()))


async def _send_in_order(layer: Any, group: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        await _send(layer, group, event)


async def _send(layer: Any, group: str, event: dict[str, Any]) -> None:
    try:
        await layer.group_send(group, event)
    except Exception:  # the push is best effort; clients resync from the database
        logger.exception("Could not push %s to %s", event.get("type"), group)
