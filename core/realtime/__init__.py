"""The real-time seam: everything between a socket and the database, in one place.

What the apps use:

- `SocketConsumer` (consumer.py): the base of every WebSocket consumer.
- `on_database_thread` (db.py): run a query function on the sockets' one database thread, with
  the connection kept there.
- `await store_message(...)` (below): store one chat message through the process's batcher
  (batcher.py); the store function is settings.REALTIME_MESSAGE_STORE.
- `broadcast_on_commit(events)` (outbox.py): what a service calls to push events to sockets.
- `SocketAuthMiddleware` (auth.py): the session (or an app's own credential) resolved on the same
  thread, never closing its connection.
- `AmortisedInMemoryChannelLayer` (layers.py): the embedded channel layer.

Every speed trick is switched in settings (`REALTIME_*`); docs/architecture.md has the picture
and the measured effect of each.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from core.realtime.batcher import batcher_for
from core.realtime.consumer import SocketConsumer
from core.realtime.db import on_database_thread
from core.realtime.outbox import broadcast_on_commit

__all__ = ["SocketConsumer", "broadcast_on_commit", "on_database_thread", "store_message"]


async def store_message(**item: Any) -> Any:
    """Store one message (keyword arguments of settings.REALTIME_MESSAGE_STORE's items) and
    return the store's result for it; its errors (ValueError, DatabaseError) are raised to this
    caller only."""
    return await batcher_for(import_string(settings.REALTIME_MESSAGE_STORE)).submit(item)
