"""A bare relay used by bench/bench_ws.py as the floor: no database, no rendering.

Mounted only when PAINMAP_BENCH_ECHO=1 (see messaging/routing.py); never in production.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    """`/ws/bench/echo/<pair>/`: every frame goes to every socket of the pair, sender included."""

    async def connect(self) -> None:
        if not self.scope["user"].is_authenticated:
            await self.close()
            return
        self.group = f"bench.{self.scope['url_route']['kwargs']['pair']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.groups.append(self.group)
        await self.accept(subprotocol=self.scope.get("auth_subprotocol"))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.channel_layer.group_send(self.group, {"type": "relay", "text": text_data})

    async def relay(self, event: dict) -> None:
        await self.send(text_data=event["text"])
