"""Every WebSocket route of the project, gathered from the apps."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
