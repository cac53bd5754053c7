"""The hub: the state machine of the whole system, free of sockets and wire formats.

Edge adapters decode frames from their clients and call ``login``, ``attach``, ``detach``,
``ack`` and ``handle``; the hub answers with reply data (or a future of it) and pushes
events through each session's ``Link``. Services (users, channels, calls, invoke) plug in with
``register`` and the session hooks. Durable state sits behind a ``Store`` and presence and
cross-node routing behind a ``Broker`` (server/backends): the embedded backend by default, Redis
for a cluster. One asyncio loop, no threads (the SQLite store runs its own thread).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import msgspec

from sigphone.protocol import frames as f
from sigphone.protocol.channels import ChannelMessage
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.names import check_name
from sigphone.protocol.text import check_utf8
from sigphone.protocol.token import verify_token
from sigphone.server.backends.base import Broker, Store
from sigphone.server.backends.embedded.broker import LocalBroker
from sigphone.server.core.session import Link, OutboxEntry, ServerSession

__all__ = ["Hub", "HubConfig", "ReplyData", "SyncOrFuture", "chain", "resolve", "then"]

log = logging.getLogger("sigphone.server")

ReplyData = dict[str, Any] | None
T = TypeVar("T")
#: A result there now or later: the embedded services answer at once, the cluster's (on
#: Redis) with a future. Callers take either through ``then`` or ``resolve``.
SyncOrFuture: TypeAlias = T | asyncio.Future[T]
Handler = Callable[[ServerSession, Any], "ReplyData | asyncio.Future[ReplyData]"]
SessionEndHook = Callable[[ServerSession, ErrorCode], object]  # the result is ignored
SessionStartHook = Callable[[ServerSession], None]
#: ``hook(app, account, name, value)`` after a user attribute is stored ("" = deleted).
AttrHook = Callable[[str, str, str, str], None]
#: ``hook(session, event)``: the outbox is full; True if the hook's service takes the event
#: (drops it and will resync the session later) instead of the session being ended.
OverflowHook = Callable[[ServerSession, msgspec.Struct], bool]


@dataclass(slots=True)
class HubConfig:
    #: Extra seconds the server keeps a disconnected session beyond the client's
    #: reconnect_time, so a client that reconnects at its last moment still resumes.
    resume_grace: float = 5.0
    #: Upper bound on the reconnect window a client may ask for.
    max_reconnect_time: float = 300.0
    #: How long an undelivered point-to-point message is kept (A5): 7 days.
    inbox_ttl: float = 7 * 24 * 3600.0
    #: How long a channel message waits for a disconnected member (A5); older ones are
    #: dropped at its resume. Other channel events (joins, leaves, attributes) never
    #: expire: the member list and attribute table must stay whole.
    channel_msg_ttl: float = 3600.0
    #: Unacknowledged events one session may hold before it is ended as a slow consumer.
    max_outbox: int = 10_000
    #: How long a resume attempt of an ended session is answered with the reason it ended.
    tombstone_ttl: float = 600.0
    #: How often expired messages are purged.
    purge_interval: float = 60.0


class Hub:
    def __init__(
        self,
        apps: dict[str, str | None],
        store: Store,
        config: HubConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
        broker: Broker | None = None,
    ) -> None:
        """``apps`` maps app ID -> certificate (None: no certificate, ``_no_need_token``);
        ``broker`` defaults to the one-process broker."""
        self.apps = apps
        self.store = store
        self.broker: Broker = broker or LocalBroker()
        self.config = config or HubConfig()
        self.clock = clock
        self.sessions: dict[tuple[str, str], ServerSession] = {}
        self.by_sid: dict[str, ServerSession] = {}
        self.tombstones: OrderedDict[str, tuple[ErrorCode, float]] = OrderedDict()
        self.handlers: dict[type[msgspec.Struct], Handler] = {}
        self.session_end_hooks: list[SessionEndHook] = []
        self.session_start_hooks: list[SessionStartHook] = []
        self.attr_hooks: list[AttrHook] = []
        self.overflow_hooks: list[OverflowHook] = []
        self.resync_hooks: list[SessionStartHook] = []
        self._purger: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self.register(f.Logout, self._on_logout)
        self.register(f.Ping, lambda s, fr: {"time": self.clock()})

    # --- Extension points ------------------------------------------------------------

    def register(self, frame_type: type[msgspec.Struct], handler: Handler) -> None:
        """Route requests of ``frame_type`` to ``handler(session, frame)``."""
        self.handlers[frame_type] = handler

    def on_overflow(self, hook: OverflowHook, resync: SessionStartHook) -> None:
        """When a session's outbox is full, offer each event to ``hook`` before ending the
        session: a service whose events can be rebuilt (a channel's: from a snapshot) drops
        them, and ``resync(session)`` runs once acknowledgements drained the outbox to
        half. Another user's traffic then never ends a session."""
        self.overflow_hooks.append(hook)
        self.resync_hooks.append(resync)

    def on_session_end(self, hook: SessionEndHook) -> None:
        """Call ``hook(session, reason)`` whenever a session ends for good."""
        self.session_end_hooks.append(hook)

    def on_user_attr(self, hook: AttrHook) -> None:
        """Call ``hook(app, account, name, value)`` once a user attribute change is stored,
        whoever made it (the user, invoke or the Server API: services/users.py)."""
        self.attr_hooks.append(hook)

    def user_attr_stored(self, app: str, account: str, name: str, value: str) -> None:
        for hook in self.attr_hooks:
            try:
                hook(app, account, name, value)
            except Exception:
                log.exception("user attribute hook failed")

    def on_session_start(self, hook: SessionStartHook) -> None:
        """Call ``hook(session)`` when a new session has logged in (not on a resume), after
        its inbox is queued: what waited for the user to come online can be pushed then."""
        self.session_start_hooks.append(hook)

    # --- Lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(self)
        self._purger = asyncio.create_task(self._purge_loop(), name="sigphone-purge")

    async def close(self) -> None:
        if self._purger:
            self._purger.cancel()
        for session in list(self.sessions.values()):
            if session.link is not None:
                session.link.close(1001, "server shutting down")
            session.cancel_timers()
        self.sessions.clear()
        self.by_sid.clear()
        await self.broker.close()

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.purge_interval)
            try:
                n = await self.store.purge_expired(self.clock(), self.config.inbox_ttl)
                if n:
                    log.info("purged %d expired messages", n)
            except Exception:
                log.exception("purge failed")

    # --- Sessions ----------------------------------------------------------------------

    def is_online(self, app: str, account: str) -> bool:
        """True if ``account`` has a session on this node (see ``broker.query_online``)."""
        return (app, account) in self.sessions

    async def login(self, frame: f.Login) -> tuple[ServerSession, dict[str, Any], int]:
        """Authenticate and create or resume a session.

        Returns the session, the reply data and the sequence number after which events are
        to be replayed; the adapter sends the reply and then calls ``attach``.
        """
        if frame.app_id not in self.apps:
            raise SignalError(ErrorCode.LOGIN_E_FAILED, "unknown app ID")
        account = check_name(frame.account, "account")
        if account != frame.account:  # one account whatever its Unicode form (NFC)
            frame = msgspec.structs.replace(frame, account=account)
        check_utf8(frame.client_id, "client_id")  # stored with the send marks
        now = self.clock()
        info = verify_token(
            frame.token,
            account=frame.account,
            app_id=frame.app_id,
            app_certificate=self.apps[frame.app_id],
            now=now,
        )
        reconnect_time = min(max(float(frame.reconnect_time), 0.0), self.config.max_reconnect_time)
        if frame.resume is not None:
            old = self.by_sid.get(frame.resume.session)
            if old is not None and old.key == (frame.app_id, frame.account):
                self._cancel_expiry(old)
                old.reconnect_time = reconnect_time
                if old.link is not None:  # a half-open connection still attached
                    old.link.close(4000, "session resumed on another connection")
                    old.link = None
                log.info("resume %s/%s", frame.app_id, frame.account)
                self._drop_acked(old, min(frame.resume.ack, frame.resume.seq))
                return old, self._login_reply(old, resumed=True), frame.resume.seq
            ended = self.tombstones.get(frame.resume.session)
            if ended is not None:
                raise SignalError(ended[0], "the session has ended")
            # Unknown session (the server restarted): a fresh login below; the durable
            # inbox and the client's de-duplication make it lossless.

        previous = self.sessions.get((frame.app_id, frame.account))
        if previous is not None:
            self.end_session(previous, ErrorCode.LOGOUT_E_KICKED, "logged in on another device")
        session = ServerSession(
            app=frame.app_id,
            account=frame.account,
            client_id=frame.client_id[:64],
            login_id=frame.id,
            reconnect_time=reconnect_time,
        )
        self.sessions[session.key] = session
        self.by_sid[session.sid] = session
        if info.expired_time:
            session.token_expiry = asyncio.get_running_loop().call_later(
                max(0.0, info.expired_time - now), self._token_expired, session
            )
        session.held = []
        try:
            # Presence first: a message stored after it is routed here (and held below);
            # one stored before it is in the inbox loaded next.
            claim = self.broker.claim(session)
            mark_fut = self.store.sender_mark(session.app, session.account, session.client_id)
            inbox_fut = self.store.load_inbox(
                session.app, session.account, now=now, delete_upto=frame.inbox_ack
            )
            if claim is not None:
                await claim
            session.cseq = await mark_fut
            records = await inbox_fut
        except BaseException:
            if not session.closed:
                self._forget(session)
            raise
        if session.closed:  # kicked by a newer login while loading
            raise SignalError(ErrorCode.LOGIN_E_FAILED, "superseded by a newer login")
        self.release_held(session, records)
        log.info("login %s/%s (%d queued)", session.app, session.account, len(session.outbox))
        for hook in self.session_start_hooks:
            try:
                hook(session)
            except Exception:
                log.exception("session start hook failed")
        return session, self._login_reply(session, resumed=False), 0

    def hold(self, session: ServerSession) -> None:
        """Hold live messages while the inbox loads (``release_held`` merges both)."""
        if session.held is None:
            session.held = []

    def release_held(self, session: ServerSession, records: list[Any]) -> None:
        """Push the loaded inbox ``records``, then the held live messages, in iid order;
        an id already pushed is skipped."""
        held, session.held = session.held or [], None
        for rec in records:
            self._push_msg(
                session,
                f.MsgEvent(account=rec.sender, msg=rec.msg, iid=rec.iid, ts=rec.ts),
                rec.iid,
            )
        for event, iid in sorted(held, key=lambda item: item[1]):
            self._push_msg(session, event, iid)

    def _login_reply(self, session: ServerSession, *, resumed: bool) -> dict[str, Any]:
        return {"session": session.sid, "resumed": resumed, "uid": 0, "time": self.clock()}

    def attach(self, session: ServerSession, link: Link, after_seq: int) -> None:
        """Bind a connection to the session and replay every event after ``after_seq``."""
        if session.closed:
            link.close(4001, "session ended")
            return
        session.link = link
        self._drop_expired(session)
        link.replay(session.outbox, after_seq)

    def _expiry(self, event: f.Event) -> float:
        """When ``event`` expires unsent: the per-type TTLs of A5 (docs/protocol.md)."""
        if isinstance(event, f.MsgEvent):
            return (event.ts or self.clock()) + self.config.inbox_ttl
        if isinstance(event, ChannelMessage):
            return self.clock() + self.config.channel_msg_ttl
        return 0.0

    def _drop_expired(self, session: ServerSession) -> None:
        """Drop what expired while the client was away (the store purges its own copy)."""
        now = self.clock()
        outbox = session.outbox
        if any(0 < entry.expires <= now for entry in outbox):
            kept = [entry for entry in outbox if not 0 < entry.expires <= now]
            log.info("%d expired events dropped for %s", len(outbox) - len(kept), session.account)
            outbox.clear()
            outbox.extend(kept)

    def detach(self, session: ServerSession, link: Link) -> None:
        """The connection is gone: keep the session for its reconnect window."""
        if session.link is not link or session.closed:
            return
        session.link = None
        window = session.reconnect_time + self.config.resume_grace
        session.expiry = asyncio.get_running_loop().call_later(window, self._expire, session)

    def _cancel_expiry(self, session: ServerSession) -> None:
        if session.expiry is not None:
            session.expiry.cancel()
            session.expiry = None

    def _expire(self, session: ServerSession) -> None:
        log.info("reconnect window over for %s/%s", session.app, session.account)
        self.end_session(session, ErrorCode.LOGOUT_E_NET, "reconnect window over")

    def kick(self, sid: str, code: ErrorCode, reason: str, *, same_client: bool = False) -> None:
        """End the session ``sid`` if this node has it (a login on another node kicked it).

        ``same_client``: the newer login is the same SDK session (it moved to another node,
        and may not have seen that login's answer): the old session ends silently and a
        resume of it becomes a fresh login, never a 103 to the client that caused it."""
        session = self.by_sid.get(sid)
        if session is not None:
            quiet = same_client
            self.end_session(session, code, reason, notify=not quiet, tombstone=not quiet)

    def _token_expired(self, session: ServerSession) -> None:
        self.end_session(session, ErrorCode.LOGOUT_E_TOKENEXPIRED, "the token has expired")

    def end_session(
        self,
        session: ServerSession,
        code: ErrorCode,
        reason: str,
        *,
        notify: bool = True,
        tombstone: bool = True,
    ) -> None:
        """End a session for good: tell its client (if connected and ``notify``) and hooks.
        Without ``tombstone`` a later resume of it is a fresh login instead of a refusal."""
        if session.closed:
            return
        self._forget(session)
        if tombstone:
            self.tombstones[session.sid] = (code, self.clock() + self.config.tombstone_ttl)
            self._trim_tombstones()
        if session.link is not None and notify:
            session.link.send_logout(int(code), reason)
        session.link = None
        for hook in self.session_end_hooks:
            try:
                hook(session, code)
            except Exception:
                log.exception("session end hook failed")
        log.info("session end %s/%s: %d", session.app, session.account, code)

    def _forget(self, session: ServerSession) -> None:
        session.closed = True
        session.cancel_timers()
        if self.sessions.get(session.key) is session:
            del self.sessions[session.key]
        self.by_sid.pop(session.sid, None)
        self.broker.release(session)

    def _trim_tombstones(self) -> None:
        now = self.clock()
        while self.tombstones:
            sid, (_, until) = next(iter(self.tombstones.items()))
            if until > now and len(self.tombstones) <= 100_000:
                break
            del self.tombstones[sid]

    # --- Events ----------------------------------------------------------------------

    def push(self, session: ServerSession, event: f.Event, iid: int = 0) -> None:
        """Send a sequenced event; it stays in the outbox until acknowledged."""
        if session.closed:
            return
        if len(session.outbox) >= self.config.max_outbox:
            for hook in self.overflow_hooks:
                if hook(session, event):
                    session.resync = True
                    return
            self.end_session(session, ErrorCode.LOGOUT_E_NET, "too many unacknowledged events")
            return
        session.seq += 1
        session.outbox.append(OutboxEntry(session.seq, event, iid, self._expiry(event)))
        if session.link is not None:
            session.link.send_event(session.seq, event)

    def push_all(self, sessions: Iterable[ServerSession], event: f.Event) -> None:
        """``push`` to many sessions (a channel's fan-out). The expiry is worked out once and
        the loop stays here: per delivery that was 5% of the server's CPU (docs/benchmarks.md)."""
        expires = self._expiry(event)
        limit = self.config.max_outbox
        for session in sessions:
            if session.closed or len(session.outbox) >= limit:
                self.push(session, event)  # nothing, or the overflow rules
                continue
            seq = session.seq = session.seq + 1
            session.outbox.append(OutboxEntry(seq, event, 0, expires))
            link = session.link
            if link is not None:
                link.send_event(seq, event)

    def deliver_message(self, app: str, account: str, event: msgspec.Struct, iid: int) -> None:
        """Push a stored point-to-point message to the recipient's session on this node."""
        session = self.sessions.get((app, account))
        if session is not None:
            self._push_msg(session, event, iid)  # type: ignore[arg-type]

    def _push_msg(self, session: ServerSession, event: f.MsgEvent, iid: int) -> None:
        if session.held is not None:
            session.held.append((event, iid))
            return
        if iid <= session.max_iid:
            return  # already pushed by the login load
        session.max_iid = iid
        self.push(session, event, iid)

    def ack(self, session: ServerSession, seq: int) -> None:
        self._drop_acked(session, seq)

    def _drop_acked(self, session: ServerSession, seq: int) -> None:
        outbox = session.outbox
        iids: list[int] = []
        while outbox and outbox[0].seq <= seq:
            entry = outbox.popleft()
            if entry.iid:
                iids.append(entry.iid)
        if iids:
            self._background_op(self.store.delete_messages(session.app, session.account, iids))
        if session.resync and len(outbox) <= self.config.max_outbox // 2:
            session.resync = False
            for hook in self.resync_hooks:
                try:
                    hook(session)
                except Exception:
                    log.exception("resync hook failed")

    def _background_op(self, fut: asyncio.Future[Any]) -> None:
        if fut in self._background:
            return  # a store may answer several calls with one future (batched deletes)
        self._background.add(fut)

        def done(fut: asyncio.Future[Any]) -> None:
            self._background.discard(fut)
            if not fut.cancelled() and fut.exception() is not None:
                log.error("background store operation failed: %s", fut.exception())

        fut.add_done_callback(done)

    # --- Requests --------------------------------------------------------------------

    def handle(
        self, session: ServerSession, frame: msgspec.Struct
    ) -> ReplyData | asyncio.Future[ReplyData]:
        """Run one request; the result is the reply data, now or later. Raises SignalError."""
        handler = self.handlers.get(type(frame))
        if handler is None:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "unsupported request")
        return handler(session, frame)

    def _on_logout(self, session: ServerSession, frame: f.Logout) -> ReplyData:
        # The adapter sends the reply, then closes the connection itself.
        self.end_session(session, ErrorCode.LOGOUT_E_USER, "logged out", notify=False)
        return {}

    # Sends (point-to-point and channel) carry a per-client number so that a send re-sent
    # after a reconnect is applied once; these two keep that rule in one place.

    def already_sent(self, session: ServerSession, cseq: int) -> bool:
        """True if send number ``cseq`` was applied before (answer it again as a success).

        Raises the same SignalError if it was refused before, so a resend whose first
        answer was lost in a break never turns a refusal into a false success.
        """
        if not cseq:
            return False
        refused = session.refused_sends.get(cseq)
        if refused is not None:
            raise refused
        return cseq <= session.cseq

    @staticmethod
    def remember_refusal(session: ServerSession, cseq: int, exc: SignalError) -> None:
        if not cseq:
            return
        session.refused_sends[cseq] = exc
        while len(session.refused_sends) > 64:  # only resends still in flight matter
            del session.refused_sends[next(iter(session.refused_sends))]


def chain(
    fut: asyncio.Future[Any],
    fn: Callable[[Any], T],
    on_error: Callable[[BaseException], object] | None = None,
) -> asyncio.Future[T]:
    """A future of ``fn(result)``; exceptions pass through, after ``on_error(exc)`` if given
    (one callback does both, not a second one on the result). Callbacks keep commit order."""
    out: asyncio.Future[T] = asyncio.get_running_loop().create_future()

    def done(src: asyncio.Future[Any]) -> None:
        if out.cancelled():
            return
        if src.cancelled():
            out.cancel()
            return
        exc = src.exception()
        if exc is not None:
            if on_error is not None:
                try:
                    on_error(exc)
                except Exception:  # never leave the reply unanswered
                    log.exception("error hook failed")
            out.set_exception(exc)
            return
        try:
            out.set_result(fn(src.result()))
        except Exception as err:
            out.set_exception(err)

    fut.add_done_callback(done)
    return out


def then(result: Any, fn: Callable[[Any], T]) -> SyncOrFuture[T]:
    """``fn(result)`` now, or once ``result`` resolves if it is a future."""
    if isinstance(result, asyncio.Future):
        return chain(result, fn)
    return fn(result)


async def resolve(result: T | Awaitable[T]) -> T:
    """Await a handler's result whether it came now or later (handy in tests)."""
    if isinstance(result, Awaitable):
        return await result
    return result
