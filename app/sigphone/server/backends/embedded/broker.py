"""The one-process broker: presence is the hub's own session table, routing a local push."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from sigphone.server.core.hub import Hub
    from sigphone.server.core.session import ServerSession

__all__ = ["LocalBroker"]


class LocalBroker:
    """Nothing to start and nothing shared: every answer comes from this process."""

    node_id = "embedded"

    def __init__(self) -> None:
        self._hub: Hub | None = None
        self._topics: dict[str, Callable[[str], None]] = {}

    async def start(self, hub: Hub) -> None:
        self._hub = hub

    async def close(self) -> None:
        self._hub = None

    def claim(self, session: ServerSession) -> None:
        return None  # the hub kicks a local previous session itself

    def release(self, session: ServerSession) -> None:
        return None

    def query_online(self, app: str, account: str) -> bool:
        assert self._hub is not None
        return self._hub.is_online(app, account)

    def route_message(self, app: str, peer: str, event: msgspec.Struct, iid: int) -> None:
        assert self._hub is not None
        self._hub.deliver_message(app, peer, event, iid)

    def kick_elsewhere(self, app: str, account: str) -> bool:
        return False  # there is no other node

    def health(self) -> dict[str, Any]:
        return {}

    def publish_all(self, topic: str, data: str) -> None:
        handler = self._topics.get(topic)
        if handler is not None:
            handler(data)  # this process is every node: at once, in order

    def subscribe_all(self, topic: str, handler: Callable[[str], None]) -> None:
        self._topics[topic] = handler
