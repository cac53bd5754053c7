"""The client's delivery rules, sans-I/O: the mirror of the server session's outbox.

Shaped like ``websockets``' ``Protocol``: the I/O layer feeds it the bytes it reads
(``receive_data``), takes what it must write (``data_to_send``) and what happened
(``events_received``), and passes the clock in (``now``) wherever time matters. No sockets,
no asyncio, no callbacks: every rule of docs/protocol.md "Delivery" that the client keeps
lives here and is unit-tested by feeding bytes (tests/protocol/test_client.py):

- the server session id (the epoch of sequence numbers) and sequence de-duplication;
- acknowledgements: cumulative, batched (``ack_batch`` events or ``ack_delay`` seconds),
  and only up to the last event below which the application has finished everything;
- the login frame with its resume part, and the reset on a fresh session;
- inbox-id de-duplication across server restarts;
- requests waiting for a reply and their resend order after a reconnect (by id);
- ``cseq``, the per-client send number that makes resent sends idempotent.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import Any

import msgspec

from . import frames as f
from .errors import ErrorCode

__all__ = [
    "ClientProtocol",
    "ClientState",
    "Delivery",
    "LoggedIn",
    "LoginRefused",
    "Received",
]


class ClientState(enum.Enum):
    #: No connection (before the first login, or between a break and the next login).
    DISCONNECTED = "disconnected"
    #: The login frame is out; waiting for its reply.
    LOGGING_IN = "logging_in"
    #: Logged in on the current connection: requests and acks go out.
    OPEN = "open"
    #: The session is over: nothing goes out any more.
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A sequenced event for the application. ``epoch`` is the server session it came in:
    finishing it (``ClientProtocol.processed``) only counts in that same session."""

    epoch: str
    seq: int
    event: f.Event


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """The login on this connection succeeded; ``resumed`` False means a fresh session."""

    resumed: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoginRefused:
    code: int
    reason: str


#: What ``events_received`` returns: deliveries, replies to requests, the login's outcome,
#: the server ending the session, and error frames.
Received = Delivery | f.Reply | LoggedIn | LoginRefused | f.LogoutFrame | f.ErrorFrame


class ClientProtocol:
    """The delivery core of one SDK session (one ``client_id``, many connections)."""

    def __init__(self, client_id: str, *, ack_batch: int = 64, ack_delay: float = 0.02) -> None:
        self.client_id = client_id
        self.ack_batch = max(1, ack_batch)
        self.ack_delay = ack_delay
        self.state = ClientState.DISCONNECTED
        #: The server session id: the epoch of sequence numbers ("" before the first login).
        self.session_id = ""
        self.resumed = False
        self.received = 0  # highest seq received in this epoch
        self.acked = 0  # highest seq acknowledged to the server
        self.last_iid = 0  # highest inbox id handed to the application
        self._floor = 0  # every seq up to here is finished (the cumulative ack)
        self._done: set[int] = set()  # finished seqs above the floor
        self._ack_due: float | None = None
        self._ids = itertools.count(1)
        self._cseq = 0
        self._login_id = 0
        self._pending: dict[int, bytes] = {}  # request id -> frame, in id order
        self._out: list[bytes] = []
        self._events: list[Received] = []

    # --- I/O interface ------------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """Frames to write, in order (each one WebSocket text message)."""
        out, self._out = self._out, []
        return out

    def events_received(self) -> list[Received]:
        events, self._events = self._events, []
        return events

    def receive_data(self, data: bytes | str) -> None:
        """One WebSocket message from the server. Garbage is dropped (the server is trusted
        to speak the protocol; a newer server's unknown event kinds must not stop us)."""
        try:
            frame = f.decode_server(data)
        except msgspec.MsgspecError:
            return
        if isinstance(frame, f.EventFrame):
            self._on_event(frame)
        elif isinstance(frame, f.Reply):
            if frame.id == self._login_id and self.state is ClientState.LOGGING_IN:
                self._on_login_reply(frame)
            else:
                self._pending.pop(frame.id, None)
                self._events.append(frame)
        elif isinstance(frame, f.ErrorFrame) and self.state is ClientState.LOGGING_IN:
            self._events.append(LoginRefused(frame.code, frame.reason))
        else:
            self._events.append(frame)

    def connection_lost(self) -> None:
        """The connection broke: unsent frames are dropped (requests stay pending)."""
        self._out.clear()
        if self.state is not ClientState.ENDED:
            self.state = ClientState.DISCONNECTED

    def end(self) -> list[int]:
        """The session is over; returns the ids of the requests that will never be answered."""
        self.state = ClientState.ENDED
        self._out.clear()
        self._ack_due = None
        ids = list(self._pending)
        self._pending.clear()
        return ids

    # --- Login and resume ---------------------------------------------------------------

    def login(
        self,
        *,
        app_id: str,
        account: str,
        token: str,
        reconnect_time: float,
        sdk: str,
        resume: bool,
    ) -> None:
        """Queue the login frame of a new connection; with ``resume`` (and a session to
        resume) it asks the server to continue the session and replay what we lack."""
        self._out.clear()
        self._login_id = next(self._ids)
        frame = f.Login(
            id=self._login_id,
            app_id=app_id,
            account=account,
            token=token,
            client_id=self.client_id,
            reconnect_time=float(reconnect_time),
            sdk=sdk,
            resume=f.Resume(self.session_id, self.received, self._floor)
            if resume and self.session_id
            else None,
            inbox_ack=self.last_iid,
        )
        self.state = ClientState.LOGGING_IN
        self._out.append(f.encode(frame))

    def _on_login_reply(self, reply: f.Reply) -> None:
        if reply.code:
            self.state = ClientState.DISCONNECTED
            self._events.append(LoginRefused(reply.code, reply.reason))
            return
        data = reply.data or {}
        self.resumed = bool(data.get("resumed"))
        if not self.resumed:  # a fresh session: its sequence numbers start again at 1
            self.received = self.acked = self._floor = 0
            self._done.clear()
            self._ack_due = None
        self.session_id = str(data.get("session", ""))
        self.state = ClientState.OPEN
        for frame in self._pending.values():  # requests without a reply, in id order
            self._out.append(frame)
        self._events.append(LoggedIn(self.resumed, data))

    # --- Events and acknowledgements ----------------------------------------------------

    def _on_event(self, frame: f.EventFrame) -> None:
        if frame.seq <= self.received:
            return  # replayed and already here
        if frame.seq > self.received + 1:  # the server dropped expired events (A5 TTLs)
            self._done.update(range(max(self.received, self._floor) + 1, frame.seq))
        self.received = frame.seq
        try:
            event = f.decode_event(frame.ev)
        except msgspec.MsgspecError:
            self._finish(frame.seq)  # an unknown kind: nothing to hand over
            return
        self._events.append(Delivery(self.session_id, frame.seq, event))

    def take_inbox(self, iid: int) -> bool:
        """Whether a message with inbox id ``iid`` is new (False: already handed over,
        before a server restart). Call it when handing messages over, in order."""
        if not iid:
            return True
        if iid <= self.last_iid:
            return False
        self.last_iid = iid
        return True

    def processed(self, delivery: Delivery, now: float) -> None:
        """The application has finished with ``delivery`` (its callback has returned)."""
        if delivery.epoch == self.session_id:
            self._finish(delivery.seq)
            self._maybe_ack(now)

    def _finish(self, seq: int) -> None:
        if seq <= self._floor:
            return
        self._done.add(seq)
        while self._floor + 1 in self._done:
            self._floor += 1
            self._done.discard(self._floor)

    def _maybe_ack(self, now: float) -> None:
        if self._floor <= self.acked:
            return
        if self._floor - self.acked >= self.ack_batch:
            self.flush_ack()
        elif self._ack_due is None:
            self._ack_due = now + self.ack_delay

    @property
    def finished(self) -> int:
        """The cumulative ack: every event up to this seq is finished."""
        return self._floor

    def ack_deadline(self) -> float | None:
        """When ``tick`` must run next for a batched ack (None: nothing waits)."""
        return self._ack_due

    def tick(self, now: float) -> None:
        if self._ack_due is not None and now >= self._ack_due:
            self.flush_ack()

    def flush_ack(self) -> None:
        """Acknowledge everything finished, now (if connected; else after the resume)."""
        self._ack_due = None
        if self.state is ClientState.OPEN and self._floor > self.acked:
            self.acked = self._floor
            self._out.append(f.encode(f.Ack(seq=self._floor)))

    # --- Requests -----------------------------------------------------------------------

    def request(self, frame: f.Request) -> int:
        """Give ``frame`` its id, keep it until answered and send it (at once if logged in,
        else after the next login). Returns the id its reply will carry."""
        if self.state is ClientState.ENDED:
            raise RuntimeError("the session has ended")
        frame.id = next(self._ids)
        data = f.encode(frame)
        self._pending[frame.id] = data
        if self.state is ClientState.OPEN:
            self._out.append(data)
        return frame.id

    def forget(self, request_id: int) -> None:
        """Stop waiting for a reply (timed out or cancelled): it is not sent again."""
        self._pending.pop(request_id, None)

    @property
    def pending(self) -> list[int]:
        return list(self._pending)

    def next_cseq(self) -> int:
        """The next send number of this client (docs/protocol.md, "Exactly-once sends")."""
        self._cseq += 1
        return self._cseq


def logout_code(login_code: int) -> ErrorCode:
    """The onLogout reason for a login refused while reconnecting."""
    if login_code == ErrorCode.LOGIN_E_TOKENEXPIRED:
        return ErrorCode.LOGOUT_E_TOKENEXPIRED
    if 100 <= login_code < 200:
        return ErrorCode(login_code)
    return ErrorCode.LOGOUT_E_OTHER
