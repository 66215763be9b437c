"""core/cache.py: every cache object of a process shares one Redis connection pool.

Runs against REDIS_URL's server, or a local Redis when none is set (both CI passes have one);
only on a machine without any Redis is it skipped. It uses its own keys only (a prefix of its
own), never flushing a database.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis
from asgiref.sync import sync_to_async

from core.cache import SharedPoolRedisCache
from messaging.tests.test_routing_redis import redis_reachable

URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not redis_reachable(URL),
    reason="no Redis here: the shared pool is Redis's",
)


def new_cache(prefix: str) -> SharedPoolRedisCache:
    # What Django's `caches` does for each new context (each request under ASGI).
    return SharedPoolRedisCache(URL, {"KEY_PREFIX": prefix})


def test_two_cache_objects_share_one_pool_and_see_each_others_writes():
    prefix = f"test-cache-{uuid.uuid4().hex}"
    one, two = new_cache(prefix), new_cache(prefix)
    assert one is not two
    assert one._cache._get_connection_pool(False) is two._cache._get_connection_pool(True)
    one.set("k", {"v": 1}, 30)
    try:
        assert two.get("k") == {"v": 1}
    finally:
        two.delete("k")
    assert one.get("k") is None


def test_requests_in_their_own_contexts_reuse_connections():
    """Fifty "requests", each with a cache object of its own as Django makes them under ASGI,
    open at most as many connections as ran at once (counted by the Redis server), not one
    each as Django's own RedisCache does."""
    prefix = f"test-cache-{uuid.uuid4().hex}"
    admin = redis.Redis.from_url(URL)

    def accepted() -> int:
        return admin.info("stats")["total_connections_received"]

    def request(i: int) -> int | None:
        return new_cache(prefix).get(f"missing-{i}")

    async def serve() -> list[int | None]:
        results = []
        for start in range(0, 50, 5):  # 5 at a time, like a few worker threads
            batch = [request_async(i) for i in range(start, start + 5)]
            results += await asyncio.gather(*batch)
        return results

    request_async = sync_to_async(request, thread_sensitive=False)
    request(-1)  # the pool's first connection, if this process has none yet
    before = accepted()
    assert asyncio.run(serve()) == [None] * 50
    # + the admin client's own connection, opened by the first accepted() call
    assert accepted() - before <= 5 + 1
    admin.close()
