"""`daphne bench.bare_http.asgi:application`: the bare floor as an ASGI app."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_http.settings"

application = get_asgi_application()
