"""Painmap settings, read from the environment.

With no environment at all the app runs on a laptop: DEBUG on, a SQLite file and an in-memory
channel layer in one process. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-painmap-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS hardening is on whenever DEBUG is off; a plain-HTTP run with DEBUG off (browser tests,
# a quick look at the compose stack without a TLS proxy) sets HTTPS=0.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
# Health checks (compose, load balancers) ask over plain HTTP from inside: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# /metrics (core/health.py) answers a scraper sending `Authorization: Bearer <this>`; unset, 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
SESSION_COOKIE_SECURE = HTTPS
SESSION_ENGINE = "core.sessions"  # database sessions, with one more check (see there)
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' HSTS preload list is an operator's one-way decision, not a default.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "accounts",
    "diary",
    "messaging",
    "clinical",
    "pwa",
]

# Under Daphne these run as one sync chain in the request's worker thread (core/handlers.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.HtmlGZipMiddleware",  # above everything that writes the body
    "core.faults.DatabaseFaultMiddleware",  # above everything that queries
    "core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",  # Django's, with the header's badges
    "accounts.middleware.UserLocaleMiddleware",  # time zone and language
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionIdleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# The token API's chain (core/handlers.py): no sessions, CSRF, messages or htmx, which it never
# uses (DRF's TokenAuthentication only); the same security headers, NUL guard, database-fault
# retry and no-store as pages. Its HTML docs page keeps the full chain (its CSP override).
API_PREFIX = "/api/"
API_HTML_PATHS = ["/api/docs/"]
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.faults.DatabaseFaultMiddleware",
    "core.middleware.RejectNulMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.AcceptLanguageMiddleware",
]
# Worker threads for HTTP requests, each lent to one request at a time (core/handlers.py).
# Below DB_POOL_MAX_SIZE on PostgreSQL: the sockets' database thread holds one more connection.
HTTP_WORKER_THREADS = env_int("HTTP_WORKER_THREADS", 8)

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "accounts.context_processors.care_links",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Database: a SQLite file by default, anything dj-database-url understands otherwise.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (sockets, requests) would otherwise hit "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Kept open by each HTTP worker thread (core/handlers.py reuses a few threads): no connect,
    # and no WAL checkpoint with its fsync when the last connection closes, per request.
    _db["CONN_MAX_AGE"] = None
    # A file, not memory, so that tests with threads (races) share one test database.
    _db["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or str(BASE_DIR / "test.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request runs in a thread of its own: a pool, never CONN_MAX_AGE.
    _db["CONN_MAX_AGE"] = 0
    # Django's backend, whose pooled connections are checked before use (one that died while
    # idle, a PostgreSQL restart, a terminated backend, is replaced, not used) at no round trip
    # while nothing is wrong: core/postgresql/base.py. Hence no CONN_HEALTH_CHECKS, which would
    # give the pool psycopg_pool's own check, a round trip on every request.
    _db["ENGINE"] = "core.postgresql"
    _db["CONN_HEALTH_CHECKS"] = False
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 10),
        "timeout": 10,
    }
    if os.environ.get("TEST_DATABASE_NAME"):
        _db["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend, with the user's roles loaded in the same query (one less per page).
AUTHENTICATION_BACKENDS = ["accounts.backends.ModelBackend"]

# The real-time seam's speed tricks (core/realtime/, docs/architecture.md), each switchable here
# so that the benchmark can show what it buys. All on by default.
# The sockets' queries run on a thread of core.realtime's own, not asgiref's shared one (db.py).
REALTIME_OWN_DATABASE_THREAD = env_bool("REALTIME_OWN_DATABASE_THREAD", True)
# Keep the sockets' database-thread connection between calls (core/realtime/db.py).
REALTIME_KEEP_CONNECTION = env_bool("REALTIME_KEEP_CONNECTION", True)
# Most chat messages stored per trip to the database thread; 1 = no batching (batcher.py).
REALTIME_BATCH_SIZE = env_int("REALTIME_BATCH_SIZE", 200)
# SQLite: WAL checkpoints from a worker thread, never inside a send (db.py).
REALTIME_SQLITE_CHECKPOINT_OFF_PATH = env_bool("REALTIME_SQLITE_CHECKPOINT_OFF_PATH", True)
# Pushes from the database thread leave through one outbox per event loop (outbox.py).
REALTIME_OUTBOX = env_bool("REALTIME_OUTBOX", True)
# The in-memory channel layer sweeps expired messages at most once a second (layers.py).
REALTIME_AMORTISED_EXPIRY = env_bool("REALTIME_AMORTISED_EXPIRY", True)
# Redis: one SUBSCRIBE per socket, not three (layers.py: RedisPubSubLayer).
REALTIME_FEW_SUBSCRIPTIONS = env_bool("REALTIME_FEW_SUBSCRIPTIONS", True)
# What `core.realtime.store_message` stores through (called with items=[...]).
REALTIME_MESSAGE_STORE = "messaging.services.send_messages"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Pub/Sub, not channels_redis.core: on this app's load (many two-person groups) the core
    # layer's per-channel lists fell over at 100 chat pairs (sockets not connecting, 22% of
    # messages delivered, a few twice); Pub/Sub carried all of them (bench/bench_ws.py). Both
    # are best effort: the database is the truth and clients resync by the last id they saw.
    # Pub/Sub has no per-channel capacity: a socket's backlog waits in its process's memory.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.realtime.layers.RedisPubSubLayer",
            # Every process listens to all close groups (accounts.sockets): they are rare.
            "CONFIG": {"hosts": [REDIS_URL], "pattern_groups": ["credentials."]},
        }
        if REALTIME_FEW_SUBSCRIPTIONS
        else {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "painmap",
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.realtime.layers.AmortisedInMemoryChannelLayer"
            if REALTIME_AMORTISED_EXPIRY
            else "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# English and Russian (locale/<code>/LC_MESSAGES; a third language is one more .po file, see
# the README). A page is in the user's profile language, else the browser's (Accept-Language
# or the header's switcher cookie); the token API follows Accept-Language (core/middleware.py).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# With DEBUG on, WhiteNoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# For the SMTP backend; a request that sends email (reset, verification) waits at most the timeout.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# For the file backend (browser tests read the mail there).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or None
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Painmap <painmap@localhost>")
# Where links in emails point (emails are sent from cron, outside any request).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A strict Content Security Policy: everything from our own origin, scripts only with a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],  # every bad body a 400
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.JSONContentNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # ?format= belongs to the export route (csv, fhir), not to DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Painmap API",
    "DESCRIPTION": "Pain diary, notes and one-to-one chat. Authenticate with "
    "`Authorization: Token <key>` (from /api/auth/login/ or /api/auth/register/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Brute-force limits (accounts/throttling.py). Every sign-in attempt is counted before its
# password is checked, and a successful one is given back. Per (username, address): a person
# who mistypes gets 10 tries per 15 minutes, an attacker at one address 40 guesses an hour.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
# Per address, any username (password spraying): a clinic behind one NAT address has room for
# many mistyping staff; one address can try at most 200 passwords an hour across all accounts.
LOGIN_ADDRESS_LIMIT = env_int("LOGIN_ADDRESS_LIMIT", 50)
LOGIN_ADDRESS_WINDOW = env_int("LOGIN_ADDRESS_WINDOW", 15 * 60)
# Per username, any address (a botnet): slower, and waived for the owner's proof (a browser or
# an address that signed in to the account before), so it cannot lock the owner out.
LOGIN_USERNAME_LIMIT = env_int("LOGIN_USERNAME_LIMIT", 30)
LOGIN_USERNAME_WINDOW = env_int("LOGIN_USERNAME_WINDOW", 60 * 60)
# How long a browser (signed cookie) or an address stays known after a successful sign-in.
LOGIN_KNOWN_DAYS = env_int("LOGIN_KNOWN_DAYS", 90)
# Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated). Default
# none: the client address is the socket's peer, and a forged header changes nothing.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP or CIDR") from exc
REGISTRATION_LIMIT = env_int("REGISTRATION_LIMIT", 100)
REGISTRATION_WINDOW = env_int("REGISTRATION_WINDOW", 60 * 60)
# After a doctor declines a patient's request, the patient may ask that doctor again only
# this many days later (0: at once). A week stops a request being repeated until the doctor
# gives in, and still lets circumstances change (a first appointment, a referral).
LINK_REQUEST_COOLDOWN_DAYS = max(0, env_int("LINK_REQUEST_COOLDOWN_DAYS", 7))
# Password reset emails asked for, per client address and, separately, per email address.
PASSWORD_RESET_LIMIT = env_int("PASSWORD_RESET_LIMIT", 5)
PASSWORD_RESET_WINDOW = env_int("PASSWORD_RESET_WINDOW", 60 * 60)
# Email verification: how long a link works, and how many links one account may have sent.
EMAIL_VERIFICATION_DAYS = env_int("EMAIL_VERIFICATION_DAYS", 7)
VERIFICATION_EMAIL_LIMIT = env_int("VERIFICATION_EMAIL_LIMIT", 5)
VERIFICATION_EMAIL_WINDOW = env_int("VERIFICATION_EMAIL_WINDOW", 60 * 60)
# Credentials that end. An API token unused for TOKEN_IDLE_DAYS stops working (401) and the
# next sign-in issues a new one: two weeks lets a patient who records pain weekly stay signed
# in on their phone, while a lost or forgotten device's token dies two weeks after its last use.
# Its last use is written at most once per TOKEN_USE_RESOLUTION seconds, not on every request.
TOKEN_IDLE_DAYS = env_int("TOKEN_IDLE_DAYS", 14)
TOKEN_USE_RESOLUTION = 60 * 60
# Who a token belongs to is kept in the cache (keyed by a hash of the token) for at most this
# many seconds, and forgotten at once when the token ends (accounts/authentication_cache.py).
# 0 reads the database on every request.
TOKEN_CACHE_SECONDS = env_int("TOKEN_CACHE_SECONDS", 30)
# A web session unused for SESSION_IDLE_MINUTES is signed out. 30 minutes: patient portals
# sign out after 15-30 minutes (a shared family or clinic computer left open shows a pain
# diary and a doctor's chat); writing a diary entry or a long message takes well under that.
# The activity stamp is written at most once per SESSION_ACTIVITY_RESOLUTION seconds.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_ACTIVITY_RESOLUTION = 60
# Chat flood guard, per socket: a burst of frames at once, then this many a second.
CHAT_RATE_PER_SECOND = env_int("CHAT_RATE_PER_SECOND", 10)
CHAT_RATE_BURST = env_int("CHAT_RATE_BURST", 30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "core.logging.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Daphne logs every request line; its handler gets the same redaction.
        "daphne": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Clinical (medications, the weekly PEG check-in, reminders).
# The diary asks "did it help?" about a dose this many seconds after it was taken: rescue
# medication for pain works within an hour or two, and by three the patient can tell.
RELIEF_ASK_AFTER = env_int("RELIEF_ASK_AFTER", 3 * 60 * 60)
# One email about unread chat messages once they are this old (seconds), once per conversation.
UNREAD_EMAIL_AFTER = env_int("UNREAD_EMAIL_AFTER", 60 * 60)

# Web Push (pwa/push.py): reminders as notifications. Off unless all three are set; generate a
# pair with `manage.py vapid_keys`. The subject is a mailto: or https: contact for push services.
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "").strip()
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "").strip()
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "").strip()
# The server posts to a subscription's endpoint: only to these push services' hosts (and their
# subdomains), never to an address a user made up. Chrome/Edge/Android, Firefox, Safari/iOS.
PUSH_SERVICE_HOSTS = env_list(
    "PUSH_SERVICE_HOSTS",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "push.apple.com",
        "notify.windows.com",
    ],
)
# Hosts that may be reached over plain http (tests' stand-in push service only).
PUSH_HTTP_HOSTS = env_list("PUSH_HTTP_HOSTS", [])
