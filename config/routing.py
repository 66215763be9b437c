"""Every WebSocket route of the project, gathered from the apps."""

from __future__ import annotations

from django.urls import URLPattern

from messaging.routing import websocket_urlpatterns as messaging_routes

websocket_urlpatterns: list[URLPattern] = [
    *messaging_routes,
]
