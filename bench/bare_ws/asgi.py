"""The bare relay's ASGI application: `/ws/relay/<pair>/`, and `/healthz` for readiness."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bare_ws.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.bare_ws.consumers import RelayConsumer  # noqa: E402


async def healthz(scope, receive, send) -> None:
    """200 to any HTTP request: the benchmark waits for it before it starts."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter(
    {
        "http": healthz,
        "websocket": URLRouter([path("ws/relay/<int:pair>/", RelayConsumer.as_asgi())]),
    }
)
