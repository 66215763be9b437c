"""The embedded channel layer: Channels' in-memory layer with expiry amortised.

`InMemoryChannelLayer._clean_expired` walks every channel and every group member on every
`receive()` and `group_send()`: O(open sockets) per event. A profile found it at 26% of the
chat's CPU at 1,000 messages a second and 25% of a connect storm (5,000 sockets took 26 s to
connect, 10 s on a bare relay). Nothing in this project relies on expiry being exact: messages
expire after `expiry` (60 s) only so that a channel nobody reads does not grow for ever, and group
membership after `group_expiry` (a day).

`AmortisedInMemoryChannelLayer` runs that same sweep at most once per `clean_interval` seconds
(default 1 s), so its cost per event no longer grows with the number of open sockets; a message
or a membership then lives at most `clean_interval` longer than its expiry. Everything else is
Channels' own code. Chosen in settings (REALTIME_AMORTISED_EXPIRY); Redis deployments do not use it.
"""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close


class AmortisedInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(
        self,
        *args: Any,
        clean_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clean_interval = clean_interval
        self.clock = clock
        self.next_clean = clock() + clean_interval
        self.sweeps = 0  # how many full sweeps ran (for tests and curiosity)

    def _clean_expired(self) -> None:
        now = self.clock()
        if now < self.next_clean:
            return
        self.next_clean = now + self.clean_interval
        self.sweeps += 1
        super()._clean_expired()


# ---- Redis ----------------------------------------------------------------------------------
#
# channels_redis's Pub/Sub layer makes three SUBSCRIBEs for a chat socket (its own channel, the
# user's close group, the pair's group) and three UNSUBSCRIBEs when it closes, each a write under
# the shard's lock and a confirmation its reader parses; with the token's cache read, Redis was
# the largest part of a handshake's CPU on PostgreSQL + Redis (SQLite + Redis 2.50x the bare
# relay's CPU per handshake, PostgreSQL with the in-memory layer 1.88x, in one run).
#
# `RedisPubSubLayer` keeps the layer's contract for what this project does with it and needs
# one SUBSCRIBE per socket:
#
# - local_channels: a consumer's own channel (`new_channel()`) is a queue in its process, with
#   no subscription. Nothing here sends to one consumer's channel (every event goes to a group),
#   and `send()` to a channel of this process still arrives; one to a channel of another process
#   does not (it would with channels_redis's layer). Off: channels_redis's behaviour.
# - pattern_groups: name prefixes of groups every process listens to with one PSUBSCRIBE each
#   (`credentials.`: the close groups of accounts.sockets). Joining and leaving one is then a set
#   operation in the process; a `group_send()` is the same PUBLISH, received by every process,
#   which hands it to its members, if it has any. Meant for groups whose events are rare (a
#   sign-out, a password change), not for chat traffic.
#
#   Because the process hears every such event whether or not a member is there yet, it keeps
#   the last REPLAY_SECONDS of them, and `group_add_since(group, channel, since)` also returns
#   what reached the process for that group since `since` (time.monotonic()) before the channel
#   joined. A socket that read its credential at `since` and joins its close group afterwards
#   thereby misses no event sent in between, without reading the credential a second time
#   (SignedInConsumer). It returns None when it cannot vouch for that: the pattern was
#   subscribed, or the connection re-established (a Redis restart), less than HEARD_MARGIN
#   before `since`.
#   What is published while the connection is down is lost, as for any Pub/Sub subscriber; an
#   open socket's periodic re-check finds a credential that ended meanwhile.

REPLAY_SECONDS = 60.0  # far longer than a handshake takes, even on a loaded machine
HEARD_MARGIN = 1.0  # a PSUBSCRIBE sent this long ago has reached Redis


class _Shard(RedisSingleShardConnection):
    """One Redis connection's subscriptions, with patterns (PSUBSCRIBE) besides channels."""

    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._patterns: set[str] = set()
        # Since when (time.monotonic()) every pattern message has reached this shard: None
        # before the first PSUBSCRIBE.
        self.heard_since: float | None = None

    async def psubscribe(self, pattern: str) -> None:
        if pattern in self._patterns:
            # Every socket's join asks; once sent, there is nothing to wait for (and the
            # shard's lock, which a SUBSCRIBE holds while Redis answers, is not taken).
            return
        async with self._lock:
            if pattern not in self._patterns:
                self._ensure_redis()
                self._ensure_receiver()
                await self._pubsub.psubscribe(pattern)
                self._patterns.add(pattern)
                self._heard_from_now()
                # redis-py subscribes again after a reconnect, then calls this.
                self._pubsub.connection.register_connect_callback(self._reconnected)

    def _heard_from_now(self) -> None:
        self.heard_since = time.monotonic() + HEARD_MARGIN

    def _reconnected(self, connection: Any) -> None:
        self._heard_from_now()

    def _receive_message(self, message: Any) -> None:
        if message is not None and message.get("type") == "pmessage":
            self.channel_layer.heard(message["channel"], message["data"])
        super()._receive_message(message)

    async def flush(self) -> None:
        await super().flush()
        self._patterns = set()
        self.heard_since = None


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(
        self,
        *args: Any,
        local_channels: bool = True,
        pattern_groups: tuple[str, ...] | list[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.local_channels = local_channels
        self.pattern_prefixes = tuple(
            self._get_group_channel_name(prefix) for prefix in pattern_groups
        )
        # (arrival as time.monotonic(), group channel, data) of pattern-group messages.
        self.recent: collections.deque[tuple[float, str, bytes]] = collections.deque()

    def heard(self, name: str | bytes, data: bytes) -> None:
        """A pattern-group message reached the process: kept for REPLAY_SECONDS."""
        now = time.monotonic()
        if isinstance(name, bytes):
            name = name.decode()
        self.recent.append((now, name, data))
        while self.recent and self.recent[0][0] < now - REPLAY_SECONDS:
            self.recent.popleft()

    async def new_channel(self, prefix: str = "specific.") -> str:
        if not self.local_channels:
            return await super().new_channel(prefix)
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        return channel

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel) if self.local_channels else None
        if queue is None:
            await super().send(channel, message)
        else:
            queue.put_nowait(self.channel_layer.serialize(message))

    def _pattern_of(self, group_channel: str) -> str | None:
        for prefix in self.pattern_prefixes:
            if group_channel.startswith(prefix):
                return prefix + "*"
        return None

    async def group_add(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        pattern = self._pattern_of(group_channel)
        if pattern is None:
            await super().group_add(group, channel)
            return
        if channel not in self.channels:
            raise RuntimeError("You can only call group_add() on channels that exist in-process.")
        self.groups.setdefault(group_channel, set()).add(channel)
        for shard in self._shards:  # a PUBLISH goes to the group's shard: listen on all
            await shard.psubscribe(pattern)

    async def group_add_since(
        self, group: str, channel: str, since: float
    ) -> list[dict[str, Any]] | None:
        """`group_add`, and for a pattern group what reached the process for it since `since`
        (time.monotonic()) before the channel joined, oldest first; None when the layer cannot
        vouch that nothing sent to the group since then is missing (nothing is then returned)."""
        group_channel = self._get_group_channel_name(group)
        if self._pattern_of(group_channel) is None:
            await self.group_add(group, channel)
            return None
        # group_add makes the channel a member before it awaits anything: what arrives from
        # `joined` on is handed to it as it arrives, what arrived before is returned here.
        joined = time.monotonic()
        await self.group_add(group, channel)
        if any(shard.heard_since is None or shard.heard_since > since for shard in self._shards):
            return None
        return [
            self.channel_layer.deserialize(data)
            for arrived, name, data in self.recent
            if since <= arrived < joined and name == group_channel
        ]

    async def group_discard(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        if self._pattern_of(group_channel) is None:
            await super().group_discard(group, channel)
            return
        members = self.groups.get(group_channel)
        if members is not None:
            members.discard(channel)
            if not members:
                del self.groups[group_channel]


class RedisPubSubLayer(RedisPubSubChannelLayer):
    """channels_redis's Pub/Sub layer with one SUBSCRIBE per socket (see above). CONFIG takes
    `local_channels` (default True) and `pattern_groups` (default none) besides its own."""

    async def group_add_since(
        self, group: str, channel: str, since: float
    ) -> list[dict[str, Any]] | None:
        return await self._get_layer().group_add_since(group, channel, since)

    def _get_layer(self) -> _LoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
