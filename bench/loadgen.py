"""The load generator: N real sessions of our native protocol (or raw relays) on picows.

One asyncio process pinned to its own core. Each connection is a picows listener: frames
arrive as callbacks, without a task or a future per message, so the generator can absorb far
more deliveries per second than the servers it drives (calibrated in ``python -m bench``).

Sessions behave like the SDK where the server can tell: they log in with a client id and a
reconnect window, and acknowledge events cumulatively with the SDK's own ack clock
(``sigphone.protocol.acks.AckClock``: 20 ms when quiet, spaced up to 0.5 s under load, 64
events at once), with the ack riding on a request when one goes out anyway (a session that
never acknowledges is cut off as a slow consumer by design). Latency is measured with
``time.monotonic_ns`` taken at the sender, for the time the message was *due* (open-loop
pacing, so a stalled server cannot hide its queueing delay: no coordinated omission).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from hdrh.histogram import HdrHistogram
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from sigphone.protocol.acks import ACK_DELAY, ACK_DELAY_MAX, AckClock
from sigphone.protocol.frames import encode_ack

from .common import cpu_seconds, make_msg, parse_k

__all__ = ["Gen", "RateStep", "run_rate_step"]

APP = "bench"
NO_TOKEN = "_no_need_token"


class _Ev(msgspec.Struct):
    t: str = ""
    msg: str = ""


class _Frame(msgspec.Struct):
    """Every server frame we read: events, replies, logouts (unknown fields are skipped)."""

    op: str
    seq: int = 0
    id: int = 0
    code: int = 0
    reason: str = ""
    ev: _Ev | None = None


_decode = msgspec.json.Decoder(_Frame).decode
_encode = msgspec.json.Encoder().encode
_MSG_KINDS = frozenset({"msg", "ch_msg"})


class Conn(WSListener):
    """One connection: replies resolve futures, message events feed the generator."""

    def __init__(self, gen: Gen, name: str) -> None:
        self.gen = gen
        self.name = name
        self.t: WSTransport | None = None
        self.seq = 0
        self.acked = 0
        # The SDK before issue 17 acked ``ack_delay`` after an event, however busy, and never
        # on a request: its server (``--before``) is driven that way, as its SDK would.
        old = gen.old_acks
        self.clock = AckClock(delay=gen.ack_delay, delay_max=0.0 if old else ACK_DELAY_MAX)
        self.next_id = 1
        self.replies: dict[int, asyncio.Future[_Frame]] = {}
        self.logout_code = 0
        self.gone = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.t = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.gone = True
        for fut in self.replies.values():
            if not fut.done():
                fut.set_exception(ConnectionError("disconnected"))
        self.replies.clear()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is not WSMsgType.TEXT:
            if kind is WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
            return
        fr = _decode(frame.get_payload_as_bytes())
        op = fr.op
        if op == "event":
            ev = fr.ev
            gen = self.gen
            if ev is not None and ev.t in _MSG_KINDS:
                gen.on_msg(ev.msg)
            if gen.acks:
                seq = self.seq = fr.seq
                now = time.monotonic()
                if self.clock.pending(seq - self.acked, now):
                    self.ack(now)
                else:
                    gen.dirty.add(self)
        elif op == "reply":
            fut = self.replies.pop(fr.id, None)
            if fut is not None:
                if not fut.done():
                    fut.set_result(fr)
            elif fr.code:
                self.gen.errors += 1
        elif op == "logout":
            self.logout_code = fr.code
            self.gen.logouts += 1

    def ack(self, now: float) -> None:
        if self.seq > self.acked and self.t is not None and not self.gone:
            self.acked = self.seq
            self.clock.sent(now)
            self.t.send(WSMsgType.TEXT, encode_ack(self.seq))

    def send(self, data: bytes) -> None:
        if self.t is not None and not self.gone:
            self.t.send(WSMsgType.TEXT, data)

    def post(self, frame: dict[str, Any]) -> None:
        """A request whose reply is only checked for an error code (sends on the hot path)."""
        frame["id"] = self.next_id
        self.next_id += 1
        if self.seq > self.acked and not self.gen.old_acks:  # the ack rides along, as in the SDK
            frame["ack"] = self.acked = self.seq
            self.clock.covered()
        self.send(_encode(frame))

    async def request(self, frame: dict[str, Any], timeout: float = 60.0) -> _Frame:
        rid = frame["id"] = self.next_id
        self.next_id += 1
        fut: asyncio.Future[_Frame] = asyncio.get_running_loop().create_future()
        self.replies[rid] = fut
        self.send(_encode(frame))
        async with asyncio.timeout(timeout):
            reply = await fut
        if reply.code:
            raise RuntimeError(f"{frame['op']} refused: {reply.code} {reply.reason}")
        return reply

    def close(self) -> None:
        if self.t is not None and not self.gone:
            self.t.disconnect(graceful=False)


@dataclass
class RateStep:
    """The outcome of one open-loop step."""

    offered_msgs: float  # messages per second offered
    deliveries: int  # deliveries that arrived
    expected: int  # deliveries that should have arrived
    seconds: float  # first send to last delivery
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_s: float
    client_cpu_s: float
    errors: int
    #: CPU seconds of the other processes ``run_rate_step`` was asked to watch, by name.
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def saturated(self) -> bool:
        """The server fell behind: higher rates would only measure its queue."""
        return self.lost > 0 or self.p50_ms > 1000.0

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return self.expected - self.deliveries

    @property
    def us_per_delivery(self) -> float:
        return self.server_cpu_s / self.deliveries * 1e6 if self.deliveries else 0.0

    @property
    def client_us_per_delivery(self) -> float:
        return self.client_cpu_s / self.deliveries * 1e6 if self.deliveries else 0.0


class Gen:
    """Connections to one server plus the bookkeeping of the message under way.

    ``mode`` is ``"sigphone"`` (our protocol: login, acks) or ``"raw"`` (the relay of
    bench/raw_server.py: no login, no acks; the same event bytes on the wire).
    """

    def __init__(
        self,
        url: str,
        mode: str = "sigphone",
        ack_delay: float = ACK_DELAY,
        app: str = APP,
        *,
        old_acks: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.app = app
        #: The quiet-connection ack delay of the SDK's AckClock (Signal.ack_delay).
        self.ack_delay = ack_delay
        self.old_acks = old_acks
        self.mode = mode
        self.acks = mode == "sigphone"
        self.dirty: set[Conn] = set()
        self.errors = 0
        self.logouts = 0
        self.conns: list[Conn] = []
        self._acker: asyncio.Task[None] | None = None
        self.next_base = 0
        self._new_step(0)

    def _new_step(self, n: int) -> None:
        """Start counting ``n`` messages numbered from ``base``: stragglers of an earlier
        step carry lower numbers and are not mistaken for this step's messages."""
        self.base = self.next_base
        self.next_base += n
        self.stale = 0
        self.sent_at: list[int] = [0] * n
        self.arrivals: list[int] = [0] * n
        self.expected: list[int] = [0] * n
        self.received = 0
        self.completed = 0
        self.last_ns = 0
        self.hist = HdrHistogram(1, 60_000_000, 3)  # microseconds
        self.seen: set[int] | None = None

    def on_msg(self, msg: str) -> None:
        k = parse_k(msg) - self.base
        if k < 0:
            self.stale += 1
            return
        self.received += 1
        if self.seen is not None:
            self.seen.add(k)
        if k >= len(self.arrivals):
            return
        n = self.arrivals[k] = self.arrivals[k] + 1
        if n == self.expected[k]:
            now = time.monotonic_ns()
            self.last_ns = now
            self.hist.record_value(max(1, (now - self.sent_at[k]) // 1000))
            self.completed += 1

    # --- Connections -----------------------------------------------------------------

    def start(self) -> None:
        if self.acks and self._acker is None:
            self._acker = asyncio.create_task(self._ack_loop())

    async def _ack_loop(self) -> None:
        """The SDK arms a timer per connection; one 5 ms sweep over the waiting ones is the
        same schedule within 5 ms, and cheaper for thousands of connections."""
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            waiting = set()
            for conn in self.dirty:
                if conn.clock.expired(now):
                    conn.ack(now)
                elif conn.seq > conn.acked:
                    waiting.add(conn)
            self.dirty = waiting

    async def connect(self, name: str, path: str = "", *, url: str | None = None) -> Conn:
        """``url``: another server than the generator's own (a node of a cluster)."""
        base = (url or self.url).rstrip("/")
        url = f"{base}{path}" if path else f"{base}/"
        _, conn = await ws_connect(
            lambda: Conn(self, name), url, websocket_handshake_timeout=120, enable_auto_pong=True
        )
        assert isinstance(conn, Conn)
        self.conns.append(conn)
        return conn

    async def session(
        self, account: str, *, channel: str | None = None, url: str | None = None
    ) -> Conn:
        """A connection that has logged in as ``account`` (and joined ``channel``)."""
        if self.mode == "raw":
            return await self.connect(account, f"/r/{channel or '-'}/{account}")
        conn = await self.connect(account, url=url)
        await conn.request(
            {
                "op": "login",
                "app_id": self.app,
                "account": account,
                "token": NO_TOKEN,
                "client_id": f"bench-{account}",
                "reconnect_time": 30.0,
                "sdk": "bench",
            }
        )
        if channel is not None:
            await conn.request({"op": "ch_join", "channel": channel})
        return conn

    async def sessions(
        self,
        accounts: list[str],
        *,
        channel: Callable[[int], str | None] | None = None,
        concurrency: int = 200,
        url: Callable[[int], str] | None = None,
    ) -> list[Conn]:
        """Log in every account (``concurrency`` at a time); results in ``accounts`` order.
        ``url(i)`` spreads them over the nodes of a cluster."""
        sem = asyncio.Semaphore(concurrency)
        out: list[Conn | None] = [None] * len(accounts)

        async def one(i: int) -> None:
            async with sem:
                out[i] = await self.session(
                    accounts[i],
                    channel=None if channel is None else channel(i),
                    url=None if url is None else url(i),
                )

        await asyncio.gather(*(one(i) for i in range(len(accounts))))
        return [c for c in out if c is not None]

    async def close_all(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns.clear()
        self.dirty.clear()
        await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._acker is not None:
            self._acker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._acker
            self._acker = None
        await self.close_all()


Sender = Callable[[int, int], int]  # (k, due_ns) -> expected deliveries of message k


async def run_rate_step(
    gen: Gen,
    sender: Sender,
    rate: float,
    seconds: float,
    server_pid: int,
    drain: float = 5.0,
    watch: dict[str, int] | None = None,
) -> RateStep:
    """Send ``rate`` messages/s for ``seconds`` (open loop), then wait for the stragglers.

    ``watch`` names more processes (other nodes, Redis) whose CPU the step also reports."""
    import os

    watch = watch or {}
    other0 = {name: cpu_seconds(pid) for name, pid in watch.items()}
    total = max(1, int(rate * seconds))
    gen._new_step(total)
    gen.errors = 0
    interval = 1e9 / rate
    cpu0 = cpu_seconds(server_pid)
    me0 = os.times()
    start = time.monotonic_ns() + 2_000_000
    k = 0
    while k < total:
        now = time.monotonic_ns()
        due = min(total, int((now - start) / interval) + 1) if now >= start else 0
        while k < due:
            t_due = start + int(k * interval)
            gen.sent_at[k] = t_due
            gen.expected[k] = sender(k, t_due)
            k += 1
        await asyncio.sleep(0.001)
    want = sum(gen.expected)
    deadline = time.monotonic() + drain
    while gen.received < want and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    end_ns = gen.last_ns or time.monotonic_ns()
    cpu1 = cpu_seconds(server_pid)
    me1 = os.times()
    other = {name: cpu_seconds(pid) - other0[name] for name, pid in watch.items()}
    hist = gen.hist
    return RateStep(
        offered_msgs=rate,
        deliveries=gen.received,
        expected=want,
        seconds=(end_ns - start) / 1e9,
        p50_ms=hist.get_value_at_percentile(50) / 1000,
        p99_ms=hist.get_value_at_percentile(99) / 1000,
        max_ms=hist.get_max_value() / 1000,
        server_cpu_s=cpu1 - cpu0,
        client_cpu_s=(me1.user + me1.system) - (me0.user + me0.system),
        errors=gen.errors,
        cpu_s=other,
    )


def channel_sender(gen: Gen, publishers: list[Conn], channels: list[str], members: int) -> Sender:
    """Message k goes to channel ``k % len(channels)`` from its publisher."""
    raw = gen.mode == "raw"
    counter = itertools.count(1)

    def send(k: int, t_due: int) -> int:
        i = k % len(channels)
        msg = make_msg(gen.base + k, t_due)
        pub = publishers[i]
        if raw:
            pub.send(_encode(_raw_event(channels[i], pub.name, msg)))
        else:
            pub.post({"op": "ch_send", "channel": channels[i], "msg": msg, "cseq": next(counter)})
        return members

    return send


def p2p_sender(gen: Gen, senders: list[Conn], receivers: list[Conn]) -> Sender:
    """Message k goes from sender ``k % pairs`` to its receiver (durable send, with cseq)."""
    raw = gen.mode == "raw"
    cseqs = [0] * len(senders)

    def send(k: int, t_due: int) -> int:
        i = k % len(senders)
        src, dst = senders[i], receivers[i]
        msg = make_msg(gen.base + k, t_due)
        if raw:
            body = _encode(
                {
                    "op": "event",
                    "seq": 0,
                    "ev": {"t": "msg", "account": src.name, "msg": msg, "iid": k, "ts": 0.0},
                }
            )
            src.send(b"@" + dst.name.encode() + b" " + body)
        else:
            cseqs[i] += 1
            src.post(
                {"op": "send", "peer": dst.name, "msg": msg, "msg_id": f"m{k}", "cseq": cseqs[i]}
            )
        return 1

    return send


def _raw_event(channel: str, account: str, msg: str) -> dict[str, Any]:
    """The bytes our server would send for a channel message (the raw relay forwards them)."""
    return {
        "op": "event",
        "seq": 0,
        "ev": {"t": "ch_msg", "channel": channel, "account": account, "msg": msg},
    }
