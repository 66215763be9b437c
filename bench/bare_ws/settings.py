"""Settings of the bare relay: only what Channels needs."""

import os

SECRET_KEY = "bench-bare-ws-not-secret"  # a benchmark on 127.0.0.1: no sessions, nothing signed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
USE_TZ = True
ASGI_APPLICATION = "bench.bare_ws.asgi.application"
# Channels' own in-memory layer, as `startproject` + the Channels tutorial would configure it
# (capacity raised like Painmap's, so that neither drops under the same load).
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
}
# `bench_ws.py --floor-layer redis`: channels_redis's own Pub/Sub layer on BARE_WS_REDIS_URL, to
# tell what Redis costs any Channels app from what Painmap adds to it.
if os.environ.get("BARE_WS_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [os.environ["BARE_WS_REDIS_URL"]]},
        }
    }
LOGGING = {"version": 1, "disable_existing_loggers": False}
