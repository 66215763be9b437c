"""Readiness and metrics for a proxy, an orchestrator or an operator: `/readyz`, `/metrics`.

`/healthz` says the process is alive and touches nothing, so a database
outage never makes an orchestrator restart every web process at once. `/readyz` says whether
this process can do its work now: its database answers a query and its channel layer (Redis
when configured) takes a message. Each check is bounded, so a hung dependency makes the answer
a prompt 503, not a hung health check; the reason names the check and the kind of error, never
a host name or a password (the page is public behind the proxy), and the full error goes to
the log.
"""

from __future__ import annotations

import asyncio
import bisect
import hmac
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and compose; touches nothing, so it is also the bench floor."""
    return JsonResponse({"status": "ok"})


# Seconds each check may take before it counts as failed: under a health checker's own
# timeout (compose: 5 s), long enough for a pooled connection to be checked and replaced.
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


# Metrics for Prometheus: what one process served, counted at the ASGI boundary (`instrument`
# wraps the whole application in config/asgi.py), so no app has to call anything. Each web
# process has its own numbers: Prometheus scrapes every replica on its own address (nginx
# refuses /metrics from outside). Shown only when METRICS_TOKEN is set, to a scraper sending
# `Authorization: Bearer <METRICS_TOKEN>`.

# Seconds; a page or an API answer takes a few milliseconds, an export up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    """One process's counters. Changed and read on the event loop's thread only (the wrapper
    and the async view), so a scrape sees a consistent snapshot without a lock."""

    http_responses: Counter[int] = field(default_factory=Counter)
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0
    sockets_open: int = 0
    sockets_accepted: int = 0
    frames_received: int = 0
    frames_sent: int = 0

    def observe_latency(self, seconds: float) -> None:
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        if index < len(self.latency_buckets):
            self.latency_buckets[index] += 1
        self.latency_sum += seconds
        self.latency_count += 1

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP painmap_http_responses_total HTTP responses sent, by status code.",
            "# TYPE painmap_http_responses_total counter",
            *(
                f'painmap_http_responses_total{{code="{code}"}} {count}'
                for code, count in sorted(self.http_responses.items())
            ),
            "# HELP painmap_http_request_duration_seconds From a request's arrival to the "
            "last byte of its answer.",
            "# TYPE painmap_http_request_duration_seconds histogram",
        ]
        bucket = "painmap_http_request_duration_seconds_bucket"
        cumulative = 0
        for bound, count in zip(LATENCY_BUCKETS, self.latency_buckets, strict=True):
            cumulative += count
            lines.append(f'{bucket}{{le="{bound}"}} {cumulative}')
        lines += [
            f'{bucket}{{le="+Inf"}} {self.latency_count}',
            f"painmap_http_request_duration_seconds_sum {self.latency_sum:.6f}",
            f"painmap_http_request_duration_seconds_count {self.latency_count}",
            "# HELP painmap_websockets_open WebSockets accepted and not yet closed.",
            "# TYPE painmap_websockets_open gauge",
            f"painmap_websockets_open {self.sockets_open}",
            "# HELP painmap_websockets_accepted_total WebSockets accepted.",
            "# TYPE painmap_websockets_accepted_total counter",
            f"painmap_websockets_accepted_total {self.sockets_accepted}",
            "# HELP painmap_websocket_frames_received_total Frames clients sent (chat messages).",
            "# TYPE painmap_websocket_frames_received_total counter",
            f"painmap_websocket_frames_received_total {self.frames_received}",
            "# HELP painmap_websocket_frames_sent_total Frames delivered to clients (messages, "
            "history, errors).",
            "# TYPE painmap_websocket_frames_sent_total counter",
            f"painmap_websocket_frames_sent_total {self.frames_sent}",
        ]
        return "\n".join(lines) + "\n"


METRICS = Metrics()

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def instrument(app: ASGIApp, metrics: Metrics = METRICS) -> ASGIApp:
    """Wrap an ASGI application to count its requests, latencies, sockets and frames."""

    async def http(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started = time.monotonic()

        async def counting_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                metrics.http_responses[message["status"]] += 1
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                metrics.observe_latency(time.monotonic() - started)

        await app(scope, receive, counting_send)

    async def websocket(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        accepted = False

        async def counting_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "websocket.receive":
                metrics.frames_received += 1
            return message

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            await send(message)
            if message["type"] == "websocket.send":
                metrics.frames_sent += 1
            elif message["type"] == "websocket.accept" and not accepted:
                accepted = True
                metrics.sockets_open += 1
                metrics.sockets_accepted += 1

        try:
            await app(scope, counting_receive, counting_send)
        finally:
            # A consumer returns once its socket is gone, whoever closed it.
            if accepted:
                metrics.sockets_open -= 1

    async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await http(scope, receive, send)
        elif scope["type"] == "websocket":
            await websocket(scope, receive, send)
        else:
            await app(scope, receive, send)

    return application


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode(), token.encode()
    )


@require_GET
async def metrics(request: HttpRequest) -> HttpResponse:
    """This process's metrics for Prometheus; 404 unless METRICS_TOKEN is set, 401 without it."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off (METRICS_TOKEN is not set).")
    if not _authorized(request, token):
        response = HttpResponse(
            "Send Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(METRICS.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
