"""A bare Channels project: the floor bench/bench_ws.py measures Painmap's sockets against.

No database, no auth, no origin check, no middleware: Channels' own AsyncWebsocketConsumer and
in-memory channel layer, on the same versions as Painmap, served by its own Daphne process:

    DJANGO_SETTINGS_MODULE=bench.bare_ws.settings python -m daphne bench.bare_ws.asgi:application
"""
