"""A logged-in user as the hub sees it: sequenced events, the unacknowledged outbox, resume."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from sigphone.protocol.base import Event
from sigphone.protocol.errors import SignalError
from sigphone.protocol.frames import MsgEvent

__all__ = ["Link", "OutboxEntry", "ServerSession"]


class Link(Protocol):
    """One live connection of an edge adapter, as the hub drives it.

    The hub never sees a socket or a wire format: it hands events to the link, which encodes
    them for its own clients. All methods are non-blocking.
    """

    def send_event(self, seq: int, event: Event) -> None: ...

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        """Send every outbox entry after ``after_seq`` (and new ones as they come), in order."""
        ...

    def send_logout(self, code: int, reason: str) -> None:
        """Tell the client its session is over, then close the connection."""
        ...

    def close(self, code: int, reason: str) -> None: ...


@dataclass(slots=True)
class OutboxEntry:
    seq: int
    event: Event
    iid: int = 0  # inbox id of a point-to-point message, deleted from the store on ack
    expires: float = 0.0  # when it is dropped unsent (its type's TTL, A5); 0: never


@dataclass(eq=False, slots=True)
class ServerSession:
    app: str
    account: str
    client_id: str
    reconnect_time: float
    #: The login request's id (it grows with every attempt of one SDK session): orders two
    #: logins of one client reaching a cluster's nodes out of order (backends/redis).
    login_id: int = 0
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    link: Link | None = None
    seq: int = 0
    outbox: deque[OutboxEntry] = field(default_factory=deque)
    #: Highest inbox id pushed in this session: live pushes racing the login load are dropped.
    max_iid: int = 0
    #: While the inbox loads at login, live messages wait here (then merged in iid order).
    held: list[tuple[MsgEvent, int]] | None = None
    #: Highest send number applied for this client_id (de-duplication of resent sends).
    cseq: int = 0
    #: Send numbers the store refused (e.g. the peer's queue was full), so that a resend
    #: whose first answer was lost in a break gets the same error, not a false success.
    refused_sends: dict[int, SignalError] = field(default_factory=dict)
    expiry: asyncio.TimerHandle | None = None
    token_expiry: asyncio.TimerHandle | None = None
    closed: bool = False
    #: The outbox was full and a service dropped events it can resync (Hub.on_overflow);
    #: once acknowledgements drain the outbox to half, its resync hooks run.
    resync: bool = False
    #: Logged out by the app's own server (a Server API kick), not by a login elsewhere: on
    #: a cluster the account goes offline and leaves its channel at once (103 either way).
    by_app: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.account)

    def cancel_timers(self) -> None:
        for handle in (self.expiry, self.token_expiry):
            if handle is not None:
                handle.cancel()
        self.expiry = self.token_expiry = None
