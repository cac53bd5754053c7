"""What the hub needs from a backend: a durable store and a broker (presence + routing).

Two backends implement these: ``embedded`` (one process: SQLite and the hub's own session
table, the default, nothing to install) and ``redis`` (several nodes sharing one Redis, one
system). The hub and the services talk only to these two protocols, so a rule (dedupe, limits,
codes) lives in the hub or a service, never twice in the backends.

Every store operation returns an asyncio future at once, and futures of one store resolve in
the order the operations were submitted: the hub relies on that for delivery order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import msgspec

    from sigphone.server.core.hub import Hub
    from sigphone.server.core.session import ServerSession

__all__ = ["Broker", "ClusterConfig", "InboxRecord", "Store"]


@dataclass(slots=True)
class ClusterConfig:
    """``[cluster]`` of the config file; an empty ``redis`` keeps the embedded backend."""

    #: ``redis://HOST:PORT/DB`` of the Redis every node of the cluster shares.
    redis: str = ""
    #: This node's id; empty: made up at start (host name and a random suffix).
    node_id: str = ""
    #: Seconds a request waits for an unreachable Redis before it fails (1001): requests
    #: never hang and never report a success that Redis did not confirm.
    op_timeout: float = 3.0
    #: Seconds between this node's heartbeats; a node silent for ``node_ttl`` is dead (its
    #: users count as offline) and the other nodes take over its timers.
    heartbeat: float = 1.0
    node_ttl: float = 5.0
    #: Seconds a node stays dead before another takes over: its users' presence goes and the
    #: channel members it held leave (604), unless they reconnected to a live node by then.
    reap_grace: float = 10.0


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """One point-to-point message waiting in a user's durable inbox (A5)."""

    iid: int
    sender: str
    msg: str
    ts: float


class Store(Protocol):
    """Durable state: inboxes, user attributes and send de-duplication marks.

    Inbox ids (``iid``) grow with every message, for every recipient (the SDK drops an id it
    has already seen); a refused operation resolves to a ``SignalError``.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def append_message(
        self,
        app: str,
        account: str,
        sender: str,
        msg: str,
        *,
        ts: float,
        expires: float,
        client_id: str,
        cseq: int,
        quota: bool = True,
    ) -> asyncio.Future[int]:
        """Store a message for ``account``; resolves to its inbox id once durable (``quota``
        False: the app's own server, outside the per-sender quotas)."""
        ...

    def load_inbox(
        self, app: str, account: str, *, now: float, delete_upto: int = 0
    ) -> asyncio.Future[list[InboxRecord]]: ...

    def delete_messages(self, app: str, account: str, iids: list[int]) -> asyncio.Future[None]: ...

    def sender_mark(self, app: str, account: str, client_id: str) -> asyncio.Future[int]: ...

    def purge_expired(self, now: float, mark_ttl: float) -> asyncio.Future[int]: ...

    def set_user_attr(
        self, app: str, account: str, name: str, value: str
    ) -> asyncio.Future[None]: ...

    def get_user_attrs(self, app: str, account: str) -> asyncio.Future[dict[str, str]]: ...


class Broker(Protocol):
    """Who is online where, and getting events to a user's node.

    The embedded broker answers from the hub's own session table; the Redis broker keeps
    presence in Redis, kicks a session on another node (103) and carries point-to-point
    messages to the recipient's node in commit order.
    """

    #: This node's id (``"embedded"`` for the one-process server).
    node_id: str

    async def start(self, hub: Hub) -> None: ...

    async def close(self) -> None: ...

    def claim(self, session: ServerSession) -> asyncio.Future[None] | None:
        """Record that ``session`` is the account's one live session (a new login); a session
        of the same account on another node is ended there with 103."""
        ...

    def release(self, session: ServerSession) -> None:
        """The session ended for good: forget its presence (if it is still the current one)."""
        ...

    def query_online(self, app: str, account: str) -> bool | asyncio.Future[bool]:
        """True while ``account`` has a session on any node (also inside a reconnect window)."""
        ...

    def route_message(self, app: str, peer: str, event: msgspec.Struct, iid: int) -> None:
        """A point-to-point message was stored: get it to the peer's live session, if any."""
        ...

    def kick_elsewhere(self, app: str, account: str) -> bool | asyncio.Future[bool]:
        """The app logs ``account`` out (Server API) and this node has no session of it:
        end its session on the node that holds it (103). False if it is online nowhere."""
        ...

    def health(self) -> dict[str, Any]:
        """Extra fields for ``GET /healthz``."""
        ...

    def publish_all(self, topic: str, data: str) -> None:
        """Hand ``data`` to the ``topic`` handler of every node, this one included (events
        that every node's subscribers must see: the Server API's stream, special feeds)."""
        ...

    def subscribe_all(self, topic: str, handler: Callable[[str], None]) -> None: ...
