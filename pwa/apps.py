from __future__ import annotations

from django.apps import AppConfig


class PwaConfig(AppConfig):
    """The installable app: manifest, service worker (offline diary) and web push."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "pwa"
    verbose_name = "Installable app and push"
