"""The bare floor: Django on the same Python, Django and Daphne as Painmap, and nothing else.

No middleware, no database, no apps, one sync view returning constant JSON. Whatever Painmap
costs beyond this is Painmap's own (bench/bench_http.py prints every route as a ratio of it).
"""

from __future__ import annotations

SECRET_KEY = "bench-bare-floor-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
ROOT_URLCONF = "bench.bare_http.urls"
USE_TZ = True
USE_I18N = False
LOGGING_CONFIG = None
