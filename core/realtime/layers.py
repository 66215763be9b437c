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

import time
from collections.abc import Callable
from typing import Any

from channels.layers import InMemoryChannelLayer


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
