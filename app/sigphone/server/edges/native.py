"""The native edge adapter: our JSON protocol over a WebSocket, driving the hub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
import weakref
from collections import deque
from typing import Any

import msgspec

from sigphone.protocol import frames as f
from sigphone.protocol.channels import ChannelMessage
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.rate import TokenBucket
from sigphone.protocol.text import scrub_struct
from sigphone.server.core.hub import Hub, ReplyData
from sigphone.server.core.session import OutboxEntry, ServerSession
from sigphone.server.edges.wire import Wire, WireClosed

__all__ = [
    "EdgeLimits",
    "NativeLink",
    "NativeRun",
    "RateGuard",
    "end_native",
    "frame_header",
    "start_native",
]

log = logging.getLogger("sigphone.server")


class EdgeLimits(msgspec.Struct, kw_only=True):
    #: Requests per second one connection may send on average, and its burst.
    rate: float = 500.0
    burst: float = 1000.0
    #: Refused requests within ``strike_window`` seconds after which a flooding connection
    #: is closed (1008): a client that keeps pushing past the rate is not served forever.
    max_strikes: int = 1000
    strike_window: float = 10.0
    #: Bytes queued towards one connection before it is cut off as a slow consumer. Every
    #: frame counts, the library's automatic pongs and close frames too (a ping flood from
    #: a client that never reads is cut off here).
    send_queue_bytes: int = 4 * 1024 * 1024
    #: Seconds a new connection has to log in before it is closed (1008).
    login_timeout: float = 10.0
    #: Connections not logged in yet, in total (the oldest of the busiest address makes
    #: room for a new one) and per source address (new ones are refused); edges/guard.py.
    max_pending: int = 1000
    #: Behind a reverse proxy every client has the proxy's address: raise it to max_pending.
    max_pending_per_address: int = 256


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


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final WebSocket text frame (server to client, RFC 6455)."""
    if length < 2048:
        return _HEADERS[length]
    return _frame_header(length)


def _frame_header(length: int) -> bytes:
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)


#: Headers of frames up to 2 KiB, which nearly every event and reply is (a channel message
#: is ~210 bytes: packing its 4-byte header per delivery was 2.4% of a fan-out's CPU).
_HEADERS = [_frame_header(n) for n in range(2048)]


class _Flusher:
    """Writes every link's queued frames once per event-loop turn.

    Fan-out queues one frame on many links in one go, and a burst of requests read in one
    turn queues several frames on one link: both are written at the end of the turn, one
    ``transport.write`` (one system call) per connection however many frames it got. The
    write syscall per frame was the largest cost of a delivery; the waiting adds no more than
    the rest of the current loop turn.
    """

    __slots__ = ("_held", "_links", "_scheduled", "_timer")

    def __init__(self) -> None:
        # No reference to the loop: it is the key of the weak dictionary holding this.
        self._links: list[NativeLink] = []
        self._scheduled = False
        self._held: list[NativeLink] = []
        self._timer = False

    def add(self, link: NativeLink) -> None:
        self._links.append(link)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        links, self._links = self._links, []
        _flush_all(links)

    def hold(self, link: NativeLink) -> None:
        """Write ``link`` at the next hold deadline, with every other link held till then."""
        self._held.append(link)
        if not self._timer:
            self._timer = True
            asyncio.get_running_loop().call_later(HOLD, self._release)

    def _release(self) -> None:
        self._timer = False
        links, self._held = self._held, []
        _flush_all(links)


def _flush_all(links: list[NativeLink]) -> None:
    for link in links:
        try:
            link.flush()
        except Exception as exc:  # one broken connection must not hold back the others
            link.fail(exc)


#: Seconds a channel message for a busy link may wait so that it shares a write with the
#: next ones (see ``NativeLink.send_event``), and how recent the link's last write must be
#: for it to count as busy. Busy = written to less than HOLD ago, so a hold is taken only
#: where the next message is likely within it: a member at 50 msg/s (1x1000 at 50k/s) is
#: held, one at 20 msg/s is written at once. Measured (docs/benchmarks.md, "Write hold"):
#: 0.68x / 0.86x the CPU per delivery at 50k/s, p99 still below Socket.IO's; at 20k/s no
#: change; with BUSY = 0.1 the 20k/s median rose by ~20 ms for no CPU gain.
HOLD = 0.025
BUSY = 0.025


_flushers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Flusher] = (
    weakref.WeakKeyDictionary()
)


def _flusher() -> _Flusher:
    """The running loop's flusher (one per loop: tests run many loops in one process)."""
    loop = asyncio.get_running_loop()
    flusher = _flushers.get(loop)
    if flusher is None:
        flusher = _flushers[loop] = _Flusher()
    return flusher


class NativeLink:
    """Writes frames to one connection, in order, off the hub's path.

    Live frames are framed here and written straight to the transport at the end of the
    loop turn (``_Flusher``): no task, future or library send per message. A task exists
    only while a replay or a close is under way; it owns the socket until it is done, and
    live frames queue behind it. The frames are plain server text frames (final, unmasked,
    no extensions: compression is off), written only while the connection is open, at
    frame boundaries, so they interleave safely with the WebSocket library's own pongs and
    close frames.
    """

    __slots__ = (
        "_close",
        "_flusher",
        "_held",
        "_last_write",
        "_limit",
        "_queue",
        "_queued",
        "_replay",
        "_task",
        "ws",
    )

    def __init__(self, ws: Wire, limit_bytes: int) -> None:
        self.ws = ws
        self._limit = limit_bytes
        self._queue: list[bytes] = []
        self._queued = 0
        self._close: tuple[int, str] | None = None
        self._replay: tuple[deque[OutboxEntry], int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._flusher = _flusher()
        #: The queue waits for the flusher's hold timer only (not for the end of the turn).
        self._held = False
        self._last_write = 0.0

    # Link protocol (called by the hub) ---------------------------------------------

    def send_event(self, seq: int, event: f.Event) -> None:
        if self._replay is not None:
            return  # already in the outbox: the replay reaches it
        data = _event_frame(seq, event)
        if data is None:
            return
        if type(event) is ChannelMessage and self._task is None and self._close is None:
            queue = self._queue
            if self._held:
                queue.append(data)  # joins the held ones
                self._queued += len(data)
                if self._queued > self._limit:
                    self._cut_off()
                return
            if not queue and time.monotonic() - self._last_write < BUSY:
                # A busy channel member: this message waits up to HOLD for the next ones,
                # to share one write. Anything else queued meanwhile (a reply, a call
                # event) is written at the end of the turn, the held frames first.
                queue.append(data)
                self._queued += len(data)
                self._held = True
                self._flusher.hold(self)
                return
        self.send_frame(data)

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        """Send the outbox after ``after_seq`` paced by the socket, then go live.

        A backlog (thousands of queued messages at login) is written as fast as the client
        reads it, not copied into the send queue, so it never trips the slow-consumer limit.
        """
        self.flush()  # what was queued before (the login reply) goes first
        self._replay = (outbox, after_seq)
        self._start()

    def send_logout(self, code: int, reason: str) -> None:
        self.send_frame(f.encode(f.LogoutFrame(code=code, reason=reason)))
        self.close(1000, reason)

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued has been written."""
        if self._close is None:
            self._close = (code, reason[:120])
            self._start()

    # Adapter side ---------------------------------------------------------------------

    def send_frame(self, data: bytes) -> None:
        if self._close is not None:
            return
        queue = self._queue
        queue.append(data)
        self._queued += len(data)
        if self._queued > self._limit:
            self._cut_off()
        elif self._task is None and (len(queue) == 1 or self._held):
            self._held = False  # written at the end of this turn, the held frames first
            self._flusher.add(self)

    def _cut_off(self) -> None:
        # The peer does not read: a close handshake would wait behind the full pipe,
        # so drop the connection at once. Its session waits for a resume as after any
        # network break; nothing is lost (outbox and inbox keep the events).
        log.warning("slow consumer cut off: %s", self.ws.remote_address)
        self._queue.clear()
        self._queued = 0
        self._close = (1008, "slow consumer")
        self.ws.transport.abort()

    def flush(self) -> None:
        """Write every queued frame in one ``transport.write`` (unless a task owns the socket).

        Bytes the kernel did not take wait in the transport's buffer; they count towards the
        slow-consumer limit with the queue.
        """
        queue = self._queue
        if not queue or self._task is not None:
            return
        self._queue = []
        self._queued = 0
        self._held = False
        self._last_write = time.monotonic()
        ws = self.ws
        transport = ws.transport
        if not ws.is_open():
            return  # closing: a library send would drop these too
        if len(queue) == 1:  # the usual case in a fan-out: one event per member per turn
            data = queue[0]
            n = len(data)
            transport.write((_HEADERS[n] if n < 2048 else _frame_header(n)) + data)
        else:
            headers = _HEADERS
            parts: list[bytes] = []
            append = parts.append
            for data in queue:
                n = len(data)
                append(headers[n] if n < 2048 else _frame_header(n))
                append(data)
            transport.write(b"".join(parts))
        if transport.get_write_buffer_size() > self._limit and self._close is None:
            self._cut_off()

    def reply(self, rid: int, data: ReplyData) -> None:
        frame = f.Reply(id=rid, data=data)
        try:
            payload = f.encode(frame)
        except (UnicodeEncodeError, TypeError):  # text that slipped past the edges: replaced
            payload = f.encode(scrub_struct(frame))
        self.send_frame(payload)

    def reply_error(self, rid: int | None, exc: SignalError) -> None:
        if rid is None:
            frame: msgspec.Struct = f.ErrorFrame(code=int(exc.code), reason=exc.reason)
        else:
            frame = f.Reply(id=rid, code=int(exc.code), reason=exc.reason)
        self.send_frame(f.encode(frame))

    def fail(self, exc: BaseException) -> None:
        """The writer hit an error it cannot get past: close this connection with a reason.

        Nothing is left half-set (no replay in progress, no queue), so the session simply
        waits for its client to resume, as after any network break; the outbox still holds
        every event, so nothing is lost. Other connections are not touched.
        """
        # The type only: an exception's text can quote what it failed on (a message body).
        kind = type(exc).__name__
        log.error("writer of %s failed (%s): closing the connection", self.ws.remote_address, kind)
        self._replay = None
        self._queue.clear()
        self._queued = 0
        if self._close is None:
            self._close = (1011, "internal error while sending; resume the session")
        if self._task is None:
            self._start()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        """Replay, then close if asked to; queued frames keep their place in between."""
        ws = self.ws
        try:
            try:
                while self._replay is not None and self._close is None:
                    outbox, cursor = self._replay
                    await self._run_replay(outbox, cursor)
                    self._replay = None
                    await self._send_queued()  # replies queued meanwhile
            except (WireClosed, asyncio.CancelledError):
                raise
            except Exception as exc:
                self.fail(exc)  # this task is self._task: it goes on to the close below
            if self._close is None:
                return
            await self._send_queued()
            try:
                async with asyncio.timeout(5.0):
                    await ws.close(*self._close)
            except TimeoutError:  # the peer does not read: drop it without a goodbye
                ws.transport.abort()
        except WireClosed:
            pass
        except Exception as exc:  # closing failed too: drop the connection
            log.error("closing %s failed (%s)", ws.remote_address, type(exc).__name__)
            ws.transport.abort()
        finally:
            self._task = None
            if self._queue and self._close is None:
                self._flusher.add(self)

    async def _send_queued(self) -> None:
        while self._queue:
            data = self._queue.pop(0)
            self._queued -= len(data)
            await self.ws.send_text(data)

    async def _run_replay(self, outbox: deque[OutboxEntry], cursor: int) -> None:
        while self._close is None:
            batch = [entry for entry in outbox if entry.seq > cursor]
            if not batch:
                return
            for entry in batch:
                data = _event_frame(entry.seq, entry.event)
                if data is not None:
                    await self.ws.send_text(data)
                cursor = entry.seq

    async def finish(self, within: float) -> None:
        """Wait (at most ``within`` s) for a close under way to write what is queued."""
        task = self._task
        if task is not None and self._close is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, WireClosed):
                await asyncio.wait_for(asyncio.shield(task), within)

    async def stop(self) -> None:
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queue.clear()


def _event_frame(seq: int, event: f.Event) -> bytes | None:
    """The frame of an event; one that cannot be encoded (text that slipped past the edges'
    checks) goes out with that text replaced, and one that still cannot is skipped (its
    sequence number stays unused): one undeliverable event never wedges the connection."""
    try:
        return f.encode_event(seq, f.encode_event_body(event))
    except (UnicodeEncodeError, msgspec.EncodeError, TypeError):
        pass
    try:
        data = f.encode_event(seq, f.encode_event_body(scrub_struct(event)))
        kind = type(event).__name__
        log.error("event %d (%s) had text that cannot be sent: replaced", seq, kind)
        return data
    except Exception as exc:
        kinds = (type(event).__name__, type(exc).__name__)
        log.error("event %d (%s) cannot be encoded (%s): skipped", seq, *kinds)
        return None


class _Inbound:
    """The requests of one connection, handled in order as they arrive (no task each).

    Only a login waits (for the store); frames that arrive meanwhile queue behind it and
    reading from the socket pauses past ``_HOLD`` of them, as the library's own queue did.
    """

    _HOLD = 64

    def __init__(self, ws: Wire, hub: Hub, link: NativeLink, limits: EdgeLimits):
        self.ws = ws
        self.hub = hub
        self.link = link
        self.limits = limits
        self.guard = RateGuard(limits)
        self.session: ServerSession | None = None
        self.waiting: deque[bytes] | None = None  # frames behind a login under way
        self.login_task: asyncio.Task[None] | None = None
        self.paused = False
        self.done = False

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        waiting = self.waiting
        if waiting is not None:
            waiting.append(data)
            if len(waiting) > self._HOLD and not self.paused:
                self.paused = True
                self.ws.transport.pause_reading()
            return
        try:
            self._handle(data)
        except Exception:
            log.exception("connection handler failed")
            self._stop(1011, "internal error")

    def _stop(self, code: int, reason: str) -> None:
        """Close the connection; later frames are ignored."""
        self.done = True
        self.link.close(code, reason)
        if self.session is not None:
            self.hub.detach(self.session, self.link)
            self.session = None

    def _handle(self, data: bytes) -> None:
        link = self.link
        allowed = self.guard.take()
        if not allowed:
            if allowed is None:
                self._stop(1008, "flooding")
                return
            link.reply_error(
                f.request_id_of(data),
                SignalError(ErrorCode.GENERAL_E_FAILED, "rate limited: slow down"),
            )
            return
        session = self.session
        seq = f.parse_ack(data)  # most of what clients send: no general decode
        if seq is not None:
            if session is not None:
                self.hub.ack(session, seq)
            return
        try:
            frame = f.decode_client(data)
        except SignalError as exc:
            link.reply_error(f.request_id_of(data), exc)
            return
        if type(frame) is f.Ack:
            if session is not None:
                self.hub.ack(session, frame.seq)
            return
        rid: int = frame.id  # type: ignore[union-attr]  # every frame but Ack (above) has one
        ack: int = frame.ack  # type: ignore[union-attr]  # a cumulative ack riding along
        if ack and session is not None and not session.closed:
            self.hub.ack(session, ack)
        if isinstance(frame, f.Login):
            if session is not None and not session.closed:
                link.reply_error(
                    rid, SignalError(ErrorCode.LOGIN_E_ALREADY_LOGIN, "already logged in")
                )
                return
            self.waiting = deque()
            self.login_task = asyncio.create_task(self._login(rid, frame))
            return
        if session is None or session.closed:
            if isinstance(frame, f.Ping):
                link.reply(rid, {})
            else:
                link.reply_error(rid, SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "log in first"))
            return
        _dispatch(self.hub, link, session, rid, frame)
        if isinstance(frame, f.Logout):
            link.close(1000, "logged out")
            self.session = None

    async def _login(self, rid: int, frame: f.Login) -> None:
        try:
            try:
                session, reply, after = await self.hub.login(frame)
            except SignalError as exc:
                self.link.reply_error(rid, exc)
                return
            self.link.reply(rid, reply)
            self.hub.attach(session, self.link, after)
            self.session = session
            self.ws.logged_in()
        except Exception:
            log.exception("connection handler failed")
            self._stop(1011, "internal error")
        finally:
            self.login_task = None  # a finished task holds its coroutine (~0.5 KB a session)
            waiting, self.waiting = self.waiting, None
            if self.paused:
                self.paused = False
                with contextlib.suppress(Exception):
                    self.ws.transport.resume_reading()
            for data in waiting or ():
                self.feed(data)  # in order; a second login queues the rest again


#: What ``start_native`` returns and ``end_native`` takes.
NativeRun = _Inbound


def start_native(ws: Wire, hub: Hub, limits: EdgeLimits) -> NativeRun:
    """Serve one client connection from now on: frames are handled as they are parsed
    (those parsed before, the first one at least, wait in ``ws.early``). No task runs per
    connection; ``end_native`` once it has closed."""
    link = NativeLink(ws, limits.send_queue_bytes)
    inbound = _Inbound(ws, hub, link, limits)
    early, ws.early = ws.early, []
    ws.on_message = inbound.feed
    for data in early:
        inbound.feed(data)
    return inbound


async def end_native(inbound: NativeRun) -> None:
    """The connection has closed: detach its session and let its writer finish."""
    inbound.done = True
    inbound.ws.on_message = None
    link = inbound.link
    task = inbound.login_task
    if task is not None and not task.done():
        # A login under way binds the session to this link when it ends: wait for it,
        # so that the session is detached below and its reconnect window starts.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(task)
    if inbound.session is not None:
        inbound.hub.detach(inbound.session, link)
    # Let queued frames (a logout, a last reply) go out before the writer stops.
    await link.finish(6.0)
    await link.stop()


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
