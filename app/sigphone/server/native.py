"""The native edge adapter: our JSON protocol over a WebSocket, driving the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

import msgspec
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..protocol import frames as f
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.rate import TokenBucket
from .hub import Hub, ReplyData
from .session import OutboxEntry, ServerSession

__all__ = ["EdgeLimits", "NativeLink", "serve_native"]

log = logging.getLogger("sigphone.server")


class EdgeLimits(msgspec.Struct, kw_only=True):
    #: Requests per second one connection may send on average, and its burst.
    rate: float = 500.0
    burst: float = 1000.0
    #: Refused requests within ``strike_window`` seconds after which a flooding connection
    #: is closed (1008): a client that keeps pushing past the rate is not served forever.
    max_strikes: int = 1000
    strike_window: float = 10.0
    #: Bytes queued towards one connection before it is cut off as a slow consumer.
    send_queue_bytes: int = 4 * 1024 * 1024


class RateGuard:
    """The per-connection request rate of EdgeLimits, one rule for every edge adapter."""

    __slots__ = ("_bucket", "_limits", "_since", "_strikes")

    def __init__(self, limits: EdgeLimits) -> None:
        self._limits = limits
        now = time.monotonic()
        self._bucket = TokenBucket(limits.rate, limits.burst, now)
        self._strikes = 0
        self._since = now

    def take(self) -> bool | None:
        """True: serve the request; False: refuse it (rate limited); None: close the
        connection, which has kept pushing past the rate for ``max_strikes`` refusals."""
        now = time.monotonic()
        if self._bucket.take(now):
            return True
        if now - self._since > self._limits.strike_window:
            self._strikes, self._since = 0, now
        self._strikes += 1
        return None if self._strikes > self._limits.max_strikes else False


class NativeLink:
    """Writes frames to one connection from a bounded queue, in order, off the hub's path."""

    def __init__(self, ws: ServerConnection, limit_bytes: int) -> None:
        self.ws = ws
        self._limit = limit_bytes
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._close: tuple[int, str] | None = None
        self._replay: tuple[deque[OutboxEntry], int] | None = None
        self._writer = asyncio.create_task(self._write_loop())

    # Link protocol (called by the hub) ---------------------------------------------

    def send_event(self, seq: int, event: msgspec.Struct) -> None:
        if self._replay is not None:
            return  # already in the outbox: the replay reaches it
        self.send_frame(f.encode_event(seq, f.encode_event_body(event)))

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        """Send the outbox after ``after_seq`` paced by the socket, then go live.

        A backlog (thousands of queued messages at login) is written as fast as the client
        reads it, not copied into the send queue, so it never trips the slow-consumer limit.
        """
        self._replay = (outbox, after_seq)
        self._wake.set()

    def send_logout(self, code: int, reason: str) -> None:
        self.send_frame(f.encode(f.LogoutFrame(code=code, reason=reason)))
        self.close(1000, reason)

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued has been written."""
        if self._close is None:
            self._close = (code, reason[:120])
            self._wake.set()

    # Adapter side ---------------------------------------------------------------------

    def send_frame(self, data: bytes) -> None:
        if self._close is not None:
            return
        self._queue.append(data)
        self._queued += len(data)
        if self._queued > self._limit:
            # The peer does not read: a close handshake would wait behind the full pipe,
            # so drop the connection at once. Its session waits for a resume as after any
            # network break; nothing is lost (outbox and inbox keep the events).
            log.warning("slow consumer cut off: %s", self.ws.remote_address)
            self._queue.clear()
            self._queued = 0
            self._close = (1008, "slow consumer")
            self.ws.transport.abort()
        self._wake.set()

    def reply(self, rid: int, data: ReplyData) -> None:
        self.send_frame(f.encode(f.Reply(id=rid, data=data)))

    def reply_error(self, rid: int | None, exc: SignalError) -> None:
        if rid is None:
            frame: msgspec.Struct = f.ErrorFrame(code=int(exc.code), reason=exc.reason)
        else:
            frame = f.Reply(id=rid, code=int(exc.code), reason=exc.reason)
        self.send_frame(f.encode(frame))

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    data = self._queue.popleft()
                    self._queued -= len(data)
                    await self.ws.send(data, text=True)
                if self._replay is not None and self._close is None:
                    await self._run_replay(*self._replay)
                    self._replay = None
                    self._wake.set()  # replies queued meanwhile
                    continue
                if self._close is not None:
                    try:
                        async with asyncio.timeout(5.0):
                            await self.ws.close(*self._close)
                    except TimeoutError:  # the peer does not read: drop it without a goodbye
                        self.ws.transport.abort()
                    return
        except ConnectionClosed:
            pass

    async def _run_replay(self, outbox: deque[OutboxEntry], cursor: int) -> None:
        while self._close is None:
            batch = [entry for entry in outbox if entry.seq > cursor]
            if not batch:
                return
            for entry in batch:
                body = f.encode_event_body(entry.event)
                await self.ws.send(f.encode_event(entry.seq, body), text=True)
                cursor = entry.seq

    async def finish(self) -> None:
        """The connection is over: let queued frames (a logout, a last reply) go out if a
        close was asked for, then stop the writer."""
        if self._close is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, ConnectionClosed):
                await asyncio.wait_for(asyncio.shield(self._writer), 6.0)
        await self.stop()

    async def stop(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


async def serve_native(
    ws: ServerConnection, hub: Hub, limits: EdgeLimits, *, first: bytes | None = None
) -> None:
    """Run one client connection until it closes; ``first`` is a frame already read (the
    front door reads one to tell our clients from the legacy ones)."""
    link = NativeLink(ws, limits.send_queue_bytes)
    guard = RateGuard(limits)
    session: ServerSession | None = None
    try:
        while True:
            if first is not None:
                data, first = first, None
            else:
                data = await ws.recv(decode=False)
            allowed = guard.take()
            if not allowed:
                if allowed is None:
                    link.close(1008, "flooding")
                    break
                link.reply_error(
                    f.request_id_of(data),
                    SignalError(ErrorCode.GENERAL_E_FAILED, "rate limited: slow down"),
                )
                continue
            try:
                frame = f.decode_client(data)
            except SignalError as exc:
                link.reply_error(f.request_id_of(data), exc)
                continue
            if isinstance(frame, f.Ack):
                if session is not None:
                    hub.ack(session, frame.seq)
                continue
            rid: int = frame.id  # type: ignore[attr-defined]
            if isinstance(frame, f.Login):
                if session is not None and not session.closed:
                    link.reply_error(
                        rid, SignalError(ErrorCode.LOGIN_E_ALREADY_LOGIN, "already logged in")
                    )
                    continue
                try:
                    session, reply, after = await hub.login(frame)
                except SignalError as exc:
                    link.reply_error(rid, exc)
                    continue
                link.reply(rid, reply)
                hub.attach(session, link, after)
                continue
            if session is None or session.closed:
                if isinstance(frame, f.Ping):
                    link.reply(rid, {})
                else:
                    link.reply_error(
                        rid, SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "log in first")
                    )
                continue
            _dispatch(hub, link, session, rid, frame)
            if isinstance(frame, f.Logout):
                link.close(1000, "logged out")
                session = None
    except ConnectionClosed:
        pass
    finally:
        if session is not None:
            hub.detach(session, link)
        await link.finish()


def _dispatch(
    hub: Hub, link: NativeLink, session: ServerSession, rid: int, frame: msgspec.Struct
) -> None:
    try:
        result = hub.handle(session, frame)
    except SignalError as exc:
        link.reply_error(rid, exc)
        return
    except Exception:
        log.exception("request %s failed", type(frame).__name__)
        link.reply_error(rid, SignalError(ErrorCode.GENERAL_E_UNKNOWN, "internal error"))
        return
    if not isinstance(result, asyncio.Future):
        link.reply(rid, result)
        return

    def done(fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
            link.reply_error(rid, SignalError(ErrorCode.GENERAL_E_FAILED, "cancelled"))
            return
        exc = fut.exception()
        if exc is None:
            link.reply(rid, fut.result())
        elif isinstance(exc, SignalError):
            link.reply_error(rid, exc)
        else:
            log.error("request %s failed: %r", type(frame).__name__, exc)
            link.reply_error(rid, SignalError(ErrorCode.GENERAL_E_UNKNOWN, "internal error"))

    result.add_done_callback(done)
