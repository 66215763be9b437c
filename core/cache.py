"""Django's Redis cache with one connection pool per process instead of one per request.

Django keeps cache objects per context (`caches` is an asgiref `Local`), and under ASGI every
request runs in a context of its own, so each request got a new `RedisCache`, hence a new
redis-py connection pool and a new TCP connection with its handshake (HELLO, health check):
a profile of `GET /api/diary/bodyparts/` on PostgreSQL + Redis showed the token cache's one
`GET` at 38% of the request's CPU, two thirds of it opening that connection. The pools here are
shared by every cache object of the process (redis-py's pool is thread-safe and resets itself
in a forked child), so a request reuses a connection another request opened.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool) -> Any:
        url = self._servers[self._get_connection_pool_index(write)]
        key = (url, repr(sorted(self._pool_options.items(), key=lambda item: item[0])))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(url, **self._pool_options)
        return pool


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
