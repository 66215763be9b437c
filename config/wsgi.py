"""WSGI entry point: HTTP only (no WebSockets). Painmap is served by Daphne through asgi.py."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
