from __future__ import annotations

import os

from django.urls import path, re_path

from messaging import consumers

websocket_urlpatterns = [
    # Usernames may hold letters, digits and . @ + - _ (Django's username validator).
    re_path(r"^ws/chat/(?P<peer>[\w.@+-]+)/$", consumers.ChatConsumer.as_asgi()),
    path("ws/inbox/", consumers.InboxConsumer.as_asgi()),
]

if os.environ.get("PAINMAP_BENCH_ECHO") == "1":  # the benchmark's floor, never in production
    from messaging.bench_echo import EchoConsumer

    websocket_urlpatterns.append(path("ws/bench/echo/<int:pair>/", EchoConsumer.as_asgi()))
