"""Readiness for a proxy, an orchestrator or an operator: `/readyz`.

`/healthz` (config/views.py) says the process is alive and touches nothing, so a database
outage never makes an orchestrator restart every web process at once. `/readyz` says whether
this process can do its work now: its database answers a query and its channel layer (Redis
when configured) takes a message. Each check is bounded, so a hung dependency makes the answer
a prompt 503, not a hung health check; the reason names the check and the kind of error, never
a host name or a password (the page is public behind the proxy), and the full error goes to
the log.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Seconds each check may take before it counts as failed: under a health checker's own
# timeout (compose: 3 s), long enough for a pooled connection to be checked and replaced.
CHECK_TIMEOUT = 2.0
# A group nobody joins: sending to it reaches the layer (a Redis PUBLISH) and nobody else.
READINESS_GROUP = "painmap.readyz"


def _query_database() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database() -> None:
    """Raise unless the default database answers `SELECT 1` within CHECK_TIMEOUT."""
    await asyncio.wait_for(sync_to_async(_query_database)(), CHECK_TIMEOUT)


async def check_channel_layer() -> None:
    """Raise unless the channel layer takes a group message within CHECK_TIMEOUT.

    A group send, not a round trip through a new channel: the Redis Pub/Sub layer has no public
    way to delete a channel, so a round trip per health check would leave a subscription behind
    each time.
    """
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")
    await asyncio.wait_for(
        layer.group_send(READINESS_GROUP, {"type": "readyz.ping"}), CHECK_TIMEOUT
    )


CHECKS = {"database": check_database, "channel_layer": check_channel_layer}


async def _run(name: str) -> str:
    try:
        await CHECKS[name]()
    except Exception as exc:  # any failure of a dependency is "not ready", never a 500
        logger.warning("Readiness check %s failed: %r", name, exc)
        kind = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        return f"unavailable ({kind})"
    return "ok"


@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer, 503 with the failing check(s)."""
    names = list(CHECKS)
    results = dict(zip(names, await asyncio.gather(*(_run(name) for name in names)), strict=True))
    ready = all(result == "ok" for result in results.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = "5"
    return response
