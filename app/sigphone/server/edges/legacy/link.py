"""One legacy client connection as the hub drives it (the ``Link`` protocol).

The writer, its bounded queue and the slow-consumer cut-off are the native link's; only
what goes on the wire differs, so this subclasses it and routes every event through the
adapter, which owns the per-session queue state.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import msgspec

from sigphone.protocol import legacy as w
from sigphone.protocol.errors import ErrorCode
from sigphone.server.core.session import OutboxEntry, ServerSession
from sigphone.server.edges.native import NativeLink
from sigphone.server.edges.wire import Wire

if TYPE_CHECKING:
    from sigphone.server.edges.legacy.edge import LegacyEdge

__all__ = ["LegacyLink"]


class LegacyLink(NativeLink):
    def __init__(self, ws: Wire, limit_bytes: int, edge: LegacyEdge) -> None:
        super().__init__(ws, limit_bytes)
        self.edge = edge
        self.session: ServerSession | None = None

    def send_event(self, seq: int, event: msgspec.Struct) -> None:
        if self.session is not None:
            self.edge.deliver(self, self.session, seq, event)

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        """Channel events after ``after_seq`` go out now; the queue is announced by one
        nudge and pulled by the client (``user_getmsg``) at its own pace."""
        if self.session is not None:
            self.edge.replay(self, self.session, after_seq)

    def send_logout(self, code: int, reason: str) -> None:
        # Both clients end on "close"; the 1.4.0 one reports "kick" as kicked (103).
        command = "kick" if code == ErrorCode.LOGOUT_E_KICKED else "close"
        self.send_frame(w.encode(command, {"code": code, "reason": reason}))
        self.close(1000, reason)
