from __future__ import annotations

from django.urls import path, re_path

from messaging import consumers

websocket_urlpatterns = [
    # Usernames may hold letters, digits and . @ + - _ (Django's username validator).
    re_path(r"^ws/chat/(?P<peer>[\w.@+-]+)/$", consumers.ChatConsumer.as_asgi()),
    path("ws/inbox/", consumers.InboxConsumer.as_asgi()),
]
