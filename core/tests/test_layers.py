"""core/realtime/layers.py: the embedded layer sweeps expired messages at most once per interval,
so the cost of an event does not grow with the number of open sockets; expiry still happens."""

from __future__ import annotations

import time

import pytest
from channels.layers import InMemoryChannelLayer

from core.realtime.layers import AmortisedInMemoryChannelLayer


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
    if settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):
        pytest.skip("Redis is configured: no in-memory layer")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == (
        "core.realtime.layers.AmortisedInMemoryChannelLayer"
    )
