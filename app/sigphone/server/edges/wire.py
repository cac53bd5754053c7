"""What the protocol adapters (native, legacy) need from a WebSocket connection.

They write frames to ``transport`` themselves (one write per connection per loop turn,
native.py ``_Flusher``) and receive every complete message through ``on_message`` as it is
parsed. ``PicowsConnection`` (picows_edge.py) provides it; another WebSocket library could,
without the adapters changing (the websockets edge did, until issue 17).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

__all__ = ["FrameQueue", "FrontDoor", "Listen", "Wire", "WireClosed"]


class WireClosed(Exception):
    """The connection closed before a frame could be written or read."""


class Wire(Protocol):
    #: The asyncio transport under the WebSocket (frames are written to it directly).
    transport: asyncio.Transport
    #: Called with each complete message (text or binary payload), in order.
    on_message: Callable[[bytes], None] | None
    #: Called once when the connection is gone.
    on_close: Callable[[], None] | None
    #: Messages parsed before a handler set ``on_message``.
    early: list[bytes]

    @property
    def remote_address(self) -> Any: ...

    def is_open(self) -> bool:
        """True while frames may be written (no close frame sent or received)."""
        ...

    async def send_text(self, data: bytes) -> None:
        """Write one text frame, waiting while the socket's buffer is full (replays are
        paced by the client's reading). Raises WireClosed once the connection is closing."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """The close handshake (the caller bounds how long it may take)."""
        ...

    def logged_in(self) -> None:
        """The login deadline and the caps on waiting connections no longer apply."""
        ...


class FrameQueue:
    """Messages for a handler that reads at its own pace (the legacy adapter).

    Reading from the socket pauses past ``hold`` queued messages, as websockets' own
    ``recv()`` queue did (its ``max_queue``), so a client cannot queue without bound.
    """

    def __init__(self, wire: Wire, pending: list[bytes], hold: int = 64) -> None:
        self.wire = wire
        self.hold = hold
        self.items: deque[bytes] = deque(pending)
        self.closed = not wire.is_open()  # it may have closed before the adapter started
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None
        wire.on_message = self.feed
        wire.on_close = self.end

    def feed(self, data: bytes) -> None:
        self.items.append(data)
        if len(self.items) > self.hold and not self.paused:
            self.paused = True
            self.wire.transport.pause_reading()
        self._wake()

    def end(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self) -> bytes:
        """The next message; WireClosed once the connection is gone and nothing is left."""
        while not self.items:
            if self.closed:
                raise WireClosed
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.paused and len(self.items) <= self.hold // 2:
            self.paused = False
            if not self.closed:
                self.wire.transport.resume_reading()
        return self.items.popleft()


class FrontDoor(Protocol):
    """What an edge's server hands its connections and plain HTTP requests to (app.py)."""

    def http_answer(
        self, target: str, connection: str, local: str | None
    ) -> tuple[HTTPStatus, str, dict[str, str]] | None: ...

    def connected(self, ws: Wire) -> None: ...


@dataclass(frozen=True, slots=True)
class Listen:
    """Where an edge's server listens (app.py fills it from the config)."""

    host: str
    port: int
    tls: ssl.SSLContext | None
    #: Pending connections the kernel queues before accept.
    backlog: int
