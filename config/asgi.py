"""ASGI entry point: Django for HTTP, Channels for WebSockets (served by Daphne)."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models (consumers, the auth middleware).
django.setup(set_prefix=False)

from core.handlers import PainmapASGIHandler  # noqa: E402

# Django's ASGI handler with one reused worker thread per request and a shorter chain for the
# token API (see core/handlers.py).
django_asgi_app = PainmapASGIHandler()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from accounts.ws_auth import websocket_application  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from core.health import instrument  # noqa: E402
from core.logging import redact_daphne_access_log  # noqa: E402

# Daphne's access log bypasses `logging` (and its token filter): see there.
redact_daphne_access_log()

# instrument() counts responses, latencies, sockets and frames for /metrics at the ASGI edge.
application = instrument(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": websocket_application(websocket_urlpatterns),
        }
    )
)
