"""core/realtime/layers.py: the embedded layer sweeps expired messages at most once per interval,
so the cost of an event does not grow with the number of open sockets; expiry still happens. The
Redis layer needs one SUBSCRIBE per socket and still delivers what the app sends."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

import pytest
import pytest_asyncio
from channels.layers import InMemoryChannelLayer
from redis import asyncio as aioredis

from core.realtime.layers import AmortisedInMemoryChannelLayer, RedisPubSubLayer
from messaging.tests.test_routing_redis import redis_reachable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def open_sockets(layer: InMemoryChannelLayer, count: int) -> list[str]:
    """`count` idle sockets: a channel each, in a two-person group, with one unread event."""
    names = []
    for i in range(count):
        name = await layer.new_channel()
        await layer.group_add(f"chat.{i // 2}", name)
        await layer.send(name, {"type": "hello"})
        names.append(name)
    return names


@pytest.mark.asyncio
@pytest.mark.parametrize("sockets", [10, 2000])
async def test_the_sweep_runs_once_per_interval_whatever_the_number_of_sockets(sockets):
    clock = Clock()
    layer = AmortisedInMemoryChannelLayer(clock=clock, clean_interval=1.0)
    await open_sockets(layer, sockets)
    for _ in range(500):  # 500 events within one interval
        await layer.group_send("chat.0", {"type": "chat.message"})
    assert layer.sweeps == 0
    clock.now += 1.0
    await layer.group_send("chat.0", {"type": "chat.message"})
    assert layer.sweeps == 1
    for _ in range(500):
        await layer.group_send("chat.0", {"type": "chat.message"})
    assert layer.sweeps == 1


@pytest.mark.asyncio
async def test_expired_messages_and_their_channels_are_still_removed(monkeypatch):
    clock = Clock()
    layer = AmortisedInMemoryChannelLayer(clock=clock, clean_interval=1.0, expiry=60)
    stale = await layer.new_channel()
    await layer.group_add("chat.1.2", stale)
    await layer.send(stale, {"type": "never.read"})
    # Channels stamps messages with time.time(); move that past the expiry, and our clock past
    # the interval.
    later = time.time() + 61
    monkeypatch.setattr("channels.layers.time.time", lambda: later)
    clock.now += 1.0
    await layer.group_send("chat.1.2", {"type": "chat.message"})
    assert stale not in layer.channels
    assert stale not in layer.groups.get("chat.1.2", {})


@pytest.mark.asyncio
async def test_a_socket_still_receives_what_is_sent_to_its_group():
    layer = AmortisedInMemoryChannelLayer()
    name = await layer.new_channel()
    await layer.group_add("chat.1.2", name)
    await layer.group_send("chat.1.2", {"type": "chat.message", "n": 1})
    assert await layer.receive(name) == {"type": "chat.message", "n": 1}


def test_settings_pick_the_amortised_layer_by_default(settings):
    if os.environ.get("REDIS_URL"):
        pytest.skip("Redis is configured: no in-memory layer")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "core.realtime.layers.AmortisedInMemoryChannelLayer"
    )


# ---- RedisPubSubLayer: one SUBSCRIBE per socket --------------------------------------------
# Against REDIS_URL's server, or a local Redis (both CI passes have one); each test uses a
# prefix of its own, so that nothing else on that server reaches it.

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") and not redis_reachable(REDIS),
    reason="no Redis here",
)


def redis_layer(prefix: str, **config: Any) -> RedisPubSubLayer:
    """A layer as one server process has it (another instance: another process)."""
    return RedisPubSubLayer(hosts=[REDIS], prefix=prefix, **config)


async def subscribers(name: str) -> int:
    client = aioredis.from_url(REDIS)
    try:
        return dict(await client.pubsub_numsub(name)).get(name.encode(), 0)
    finally:
        await client.aclose()


async def pattern_count() -> int:
    client = aioredis.from_url(REDIS)
    try:
        return await client.pubsub_numpat()
    finally:
        await client.aclose()


async def eventually(check: Any, limit: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the limit"
        await asyncio.sleep(0.02)


@pytest.fixture
def prefix() -> str:
    return f"test-layer-{uuid.uuid4().hex[:12]}"


@needs_redis
@pytest.mark.asyncio
async def test_a_sockets_own_channel_is_local_and_still_receives_what_is_sent_to_it(prefix):
    layer = redis_layer(prefix)
    try:
        name = await layer.new_channel()
        assert await subscribers(name) == 0  # no SUBSCRIBE for it
        await layer.send(name, {"type": "hello", "n": 1})
        assert await asyncio.wait_for(layer.receive(name), 5) == {"type": "hello", "n": 1}
    finally:
        await layer.flush()


@needs_redis
@pytest.mark.asyncio
async def test_without_local_channels_the_channel_is_subscribed_as_channels_redis_does(prefix):
    layer = redis_layer(prefix, local_channels=False)
    other = redis_layer(prefix, local_channels=False)
    try:
        name = await layer.new_channel()
        await eventually(lambda: _equals(subscribers(name), 1))
        await other.send(name, {"type": "from.another.process"})
        assert await asyncio.wait_for(layer.receive(name), 5) == {"type": "from.another.process"}
    finally:
        await layer.flush()
        await other.flush()


async def _equals(awaitable: Any, expected: Any) -> bool:
    return await awaitable == expected


@needs_redis
@pytest.mark.asyncio
async def test_a_chat_group_is_one_subscription_and_reaches_members_in_another_process(prefix):
    here, there = redis_layer(prefix), redis_layer(prefix)
    try:
        name = await here.new_channel()
        await here.group_add("chat.1.2", name)
        await eventually(lambda: _equals(subscribers(f"{prefix}__group__chat.1.2"), 1))
        await there.group_send("chat.1.2", {"type": "chat.message", "text": "hi"})
        message = await asyncio.wait_for(here.receive(name), 5)
        assert message == {"type": "chat.message", "text": "hi"}
        await here.group_discard("chat.1.2", name)
        await eventually(lambda: _equals(subscribers(f"{prefix}__group__chat.1.2"), 0))
    finally:
        await here.flush()
        await there.flush()


@needs_redis
@pytest.mark.asyncio
async def test_pattern_groups_are_one_psubscribe_per_process_and_reach_only_their_members(prefix):
    here = redis_layer(prefix, pattern_groups=["credentials."])
    there = redis_layer(prefix, pattern_groups=["credentials."])
    patterns = await pattern_count()
    try:
        ann = [await here.new_channel() for _ in range(3)]
        ben = await here.new_channel()
        for name in ann:
            await here.group_add("credentials.1", name)
        await here.group_add("credentials.2", ben)
        await here.group_add("chat.1.2", ben)
        # One pattern for every close group of the process, no channel of its own.
        await eventually(lambda: _equals(pattern_count(), patterns + 1))
        assert await subscribers(f"{prefix}__group__credentials.1") == 0

        await there.group_send("credentials.1", {"type": "sockets.close", "code": 4401})
        for name in ann:
            message = await asyncio.wait_for(here.receive(name), 5)
            assert message == {"type": "sockets.close", "code": 4401}
        with pytest.raises(TimeoutError):  # not for ben
            await asyncio.wait_for(here.receive(ben), 0.3)

        # Left: no longer delivered; the others still are.
        await here.group_discard("credentials.1", ann[0])
        await there.group_send("credentials.1", {"type": "sockets.close", "code": 4403})
        for name in ann[1:]:
            assert (await asyncio.wait_for(here.receive(name), 5))["code"] == 4403
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(here.receive(ann[0]), 0.3)
    finally:
        await here.flush()
        await there.flush()
    await eventually(lambda: _equals(pattern_count(), patterns))  # flushed: the pattern goes


@needs_redis
@pytest.mark.asyncio
async def test_joining_a_close_group_does_not_wait_for_another_sockets_subscribe(prefix):
    """Once the pattern is subscribed, a join neither sends anything nor takes the shard's lock,
    which a chat group's SUBSCRIBE holds while Redis answers."""
    here = redis_layer(prefix, pattern_groups=["credentials."])
    try:
        first = await here.new_channel()
        await here.group_add("credentials.1", first)
        shard = here._get_layer()._shards[0]
        second = await here.new_channel()
        async with shard._lock:  # a SUBSCRIBE in flight
            await asyncio.wait_for(here.group_add("credentials.2", second), 1)
        await here.group_send("credentials.2", {"type": "sockets.close", "code": 4401})
        assert (await asyncio.wait_for(here.receive(second), 5))["code"] == 4401
    finally:
        await here.flush()


@needs_redis
def test_settings_pick_the_redis_layer_with_the_close_groups_as_pattern_groups(settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("no REDIS_URL: the in-memory layer is configured")
    layer = settings.CHANNEL_LAYERS["default"]
    assert layer["BACKEND"] == "core.realtime.layers.RedisPubSubLayer"
    assert layer["CONFIG"]["pattern_groups"] == ["credentials."]


MARGIN = 0.05  # HEARD_MARGIN in these tests


@pytest_asyncio.fixture
async def two_processes(prefix, monkeypatch):
    """The layers of two server processes, close groups as pattern groups."""
    monkeypatch.setattr("core.realtime.layers.HEARD_MARGIN", MARGIN)
    here = redis_layer(prefix, pattern_groups=["credentials."])
    there = redis_layer(prefix, pattern_groups=["credentials."])
    try:
        yield here, there
    finally:
        await here.flush()
        await there.flush()


async def heard_from_now() -> None:
    """Wait until a layer that just subscribed vouches for what it hears (past the margin)."""
    await asyncio.sleep(MARGIN * 2)


@needs_redis
@pytest.mark.asyncio
async def test_joining_since_a_moment_replays_what_the_group_was_sent_since_then(two_processes):
    here, there = two_processes
    first = await here.new_channel()
    # The pattern was only just subscribed: an event sent before cannot be vouched for.
    assert await here.group_add_since("credentials.1", first, time.monotonic()) is None
    await heard_from_now()

    await there.group_send("credentials.1", {"type": "sockets.close", "code": 1})
    await asyncio.wait_for(here.receive(first), 5)  # it has reached this process
    since = time.monotonic()
    await there.group_send("credentials.1", {"type": "sockets.close", "code": 2})
    await there.group_send("credentials.2", {"type": "sockets.close", "code": 3})
    assert (await asyncio.wait_for(here.receive(first), 5))["code"] == 2

    late = await here.new_channel()
    # What was sent to its group since `since`, not before it, not another group's.
    missed = await here.group_add_since("credentials.1", late, since)
    assert missed == [{"type": "sockets.close", "code": 2}]
    await there.group_send("credentials.1", {"type": "sockets.close", "code": 4})
    assert (await asyncio.wait_for(here.receive(late), 5))["code"] == 4  # once, live
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(here.receive(late), 0.3)

    # A chat group is not heard by every process: nothing to vouch for.
    other = await here.new_channel()  # (a timed-out receive() closes its channel)
    assert await here.group_add_since("chat.1.2", other, since) is None


@needs_redis
@pytest.mark.asyncio
async def test_after_redis_drops_the_connection_the_layer_vouches_again_only_from_then(
    two_processes,
):
    here, there = two_processes
    name = await here.new_channel()
    await here.group_add("credentials.1", name)
    await heard_from_now()
    before = time.monotonic()
    assert await here.group_add_since("credentials.1", name, before) == []

    shard = here._get_layer()._shards[0]
    host, port = shard._pubsub.connection._writer.get_extra_info("sockname")[:2]
    admin = aioredis.from_url(REDIS)
    try:
        assert await admin.client_kill_filter(_type="pubsub", addr=f"{host}:{port}") == 1
    finally:
        await admin.aclose()

    # redis-py reconnects and subscribes again; events reach the member again...
    async def delivered() -> bool:
        await there.group_send("credentials.1", {"type": "sockets.close", "code": 9})
        try:
            return (await asyncio.wait_for(here.receive(name), 0.5))["code"] == 9
        except TimeoutError:
            return False

    await eventually(delivered, limit=15)
    # ... but what was published while it was away may be lost: not vouched for.
    assert await here.group_add_since("credentials.1", name, before) is None
