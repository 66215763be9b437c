from __future__ import annotations

from django.urls import path

from diary import api

urlpatterns = [
    path("bodyparts/", api.body_parts, name="api-bodyparts"),
    path("notes/", api.notes, name="api-notes"),
    path("stats/", api.stats, name="api-stats"),
    path("digest/", api.digest, name="api-digest"),
    path("export/", api.export, name="api-export"),
]
