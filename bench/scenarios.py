"""The scenarios, each against one freshly started server, as rows for the results table.

Our server and the raw ``websockets`` relay are driven by the Python load generator (this
process); Socket.IO is driven by ``node/sio_client.js`` with the same payloads and pacing.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from sigphone.protocol.acks import ACK_DELAY as _SDK_ACK_DELAY

from .common import rss_bytes, taskset
from .loadgen import Gen, RateStep, channel_sender, p2p_sender
from .servers import NODE_DIR, Server, start_server

__all__ = ["Row", "Settings", "calibrate", "drain", "fanout", "login_storm", "p2p"]

SERVER_CORE = 0
CLIENT_CORE = 1
#: Server kinds driven by the Python load generator. "sigphone@before" is our server run
#: from the tree given with ``--before`` (see ``BEFORE_SRC``).
BEFORE = "sigphone@before"
BEFORE_SRC: str | None = None
#: The quiet-connection ack delay of the sessions' AckClock (the SDK's default ack_delay).
ACK_DELAY = _SDK_ACK_DELAY


def _is_ours(kind: str) -> bool:
    return kind in ("sigphone", BEFORE)


def _old_acks(kind: str) -> bool:
    """Drive ``kind`` with the SDK's ack rule from before issue 17 (an ack 20 ms after an
    event, never on a request): only a ``--before`` tree whose SDK has no ack clock
    (``protocol/acks.py``). A newer tree is driven as its own SDK would, like ours: driving
    it the old way cost it extra ack frames and deletes that its SDK never sends."""
    return kind == BEFORE and not (
        BEFORE_SRC is not None and (Path(BEFORE_SRC) / "sigphone/protocol/acks.py").exists()
    )


@dataclass
class Settings:
    """How big and how long; ``full`` is for the numbers in docs/benchmarks.md."""

    full: bool = False
    login_sizes: list[int] = field(default_factory=lambda: [1000, 5000])
    p2p_sessions: int = 1000
    p2p_rates: list[float] = field(default_factory=lambda: [5000.0, 15000.0])
    #: Fan-out load in deliveries per second (messages/s = this / members per channel).
    fanout_rates: list[float] = field(default_factory=lambda: [20000.0, 50000.0])
    seconds: float = 3.0
    drain_messages: int = 3000

    @classmethod
    def make(cls, full: bool) -> Settings:
        if not full:
            return cls()
        return cls(
            full=True,
            login_sizes=[1000, 5000, 10000],
            p2p_sessions=1000,
            p2p_rates=[2000.0, 5000.0, 10000.0, 15000.0],
            fanout_rates=[10000.0, 25000.0, 50000.0],
            seconds=4.0,
            drain_messages=10000,
        )


@dataclass
class Row:
    scenario: str
    server: str
    load: str
    rate: float = 0.0  # deliveries/s (sessions/s for logins)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    us_per: float = 0.0  # server CPU microseconds per delivery (per login)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "server": self.server,
            "load": self.load,
            "rate": self.rate,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "us_per": self.us_per,
            **self.extra,
        }


def _step_row(scenario: str, server: str, load: str, st: RateStep) -> Row:
    if st.saturated:
        load += " (saturated)"
    return Row(
        scenario,
        server,
        load,
        st.rate,
        st.p50_ms,
        st.p99_ms,
        st.us_per_delivery,
        {
            "offered": st.offered_msgs,
            "lost": st.lost,
            "errors": st.errors,
            "client_us": round(st.client_us_per_delivery, 2),
        },
    )


def _node(server: Server, config: dict[str, Any], timeout: float = 900) -> list[dict[str, Any]]:
    """Run the Socket.IO load generator on the client core; its JSON lines."""
    config = {"url": server.url, "serverPid": server.pid, **config}
    proc = subprocess.run(
        taskset(CLIENT_CORE, ["node", str(NODE_DIR / "sio_client.js"), json.dumps(config)]),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(f"sio_client failed: {proc.stderr[-500:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _node_row(scenario: str, load: str, r: dict[str, Any]) -> Row:
    dl = r["deliveries"]
    if r["expected"] > dl or r["p50_ms"] > 1000.0:
        load += " (saturated)"
    return Row(
        scenario,
        "socket.io",
        load,
        r["rate"],
        r["p50_ms"],
        r["p99_ms"],
        r["server_cpu_s"] / dl * 1e6 if dl else 0.0,
        {
            "offered": r["offered_msgs"],
            "lost": r["expected"] - dl,
            "errors": 0,
            "client_us": round(r["client_cpu_s"] / dl * 1e6, 2) if dl else 0.0,
        },
    )


async def _with_server(kind: str, durable: bool = True) -> tuple[Server, Gen]:
    src = BEFORE_SRC if kind == BEFORE else None
    server = await start_server(
        "sigphone" if _is_ours(kind) else kind, SERVER_CORE, durable=durable, src=src
    )
    gen = Gen(
        server.url, "sigphone" if _is_ours(kind) else "raw", ACK_DELAY, old_acks=_old_acks(kind)
    )
    gen.start()
    return server, gen


# --- (0) calibration -------------------------------------------------------------------


async def calibrate(s: Settings) -> Row:
    """The load generator's ceiling, against the cheapest relay we can write (picows).

    A 1x1000 fan-out at 60k deliveries/s, which that relay carries without queueing; the
    ceiling is what one core of this process absorbs at the CPU time it spent per delivery
    (1 s / client CPU per delivery). No Python relay is fast enough to saturate the
    generator without saturating itself first, so this is the honest bound: every rate we
    report must stay below half of it.
    """
    server, gen = await _with_server("picows")
    try:
        conns = await gen.sessions([f"cal{i}" for i in range(1000)], channel=lambda i: "c0")
        send = channel_sender(gen, [conns[0]], ["c0"], len(conns))
        st = await run_step(gen, send, 60.0, s.seconds, server.pid)
        row = _step_row("calibrate", "picows relay", "1x1000 fan-out, 60 msg/s", st)
        row.extra["ceiling"] = round(1e6 / st.client_us_per_delivery) if st.deliveries else 0
        return row
    finally:
        await gen.stop()
        await server.stop()


async def run_step(
    gen: Gen, send: Any, rate: float, seconds: float, pid: int, watch: dict[str, int] | None = None
) -> RateStep:
    from .loadgen import run_rate_step

    return await run_rate_step(gen, send, rate, seconds, pid, watch=watch)


# --- (1) login storm and (4) memory per idle session -------------------------------------


async def login_storm(kind: str, n: int, concurrency: int = 200) -> Row:
    """``n`` sessions log in at once (``concurrency`` handshakes in flight); then idle RSS."""
    if kind == "socket.io":
        server = await start_server("socketio", SERVER_CORE)
        try:
            await asyncio.sleep(0.5)
            (r,) = _node(server, {"scenario": "login", "n": n, "concurrency": concurrency})
            return Row(
                "login",
                kind,
                f"{n} sessions",
                r["rate"],
                r["p50_ms"],
                r["p99_ms"],
                r.get("us_per_login", 0.0),
                {"rss_kb_per_session": round(r["rss_per_session"] / 1024, 2)},
            )
        finally:
            await server.stop()
    server, gen = await _with_server(kind)
    try:
        await asyncio.sleep(0.5)
        rss0 = rss_bytes(server.pid)
        from .common import cpu_seconds

        cpu0 = cpu_seconds(server.pid)
        hist = HdrHistogram(1, 600_000_000, 3)
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                t0 = time.monotonic_ns()
                await gen.session(f"ls{i}")
                hist.record_value(max(1, (time.monotonic_ns() - t0) // 1000))

        t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(n)))
        secs = time.monotonic() - t0
        cpu = cpu_seconds(server.pid) - cpu0
        await asyncio.sleep(1.0)
        rss1 = rss_bytes(server.pid)
        return Row(
            "login",
            kind,
            f"{n} sessions",
            n / secs,
            hist.get_value_at_percentile(50) / 1000,
            hist.get_value_at_percentile(99) / 1000,
            cpu / n * 1e6,
            {"rss_kb_per_session": round((rss1 - rss0) / n / 1024, 2)},
        )
    finally:
        await gen.stop()
        await server.stop()


# --- (2) point-to-point ------------------------------------------------------------------


async def p2p(kind: str, s: Settings, *, durable: bool = True) -> list[Row]:
    """N/2 pairs, each sender to its own receiver, at open-loop total rates."""
    n = s.p2p_sessions
    name = f"{kind} (SQLite inbox)" if durable else f"{kind} (--memory)"
    name = name if _is_ours(kind) else kind
    if kind == "socket.io":
        server = await start_server("socketio", SERVER_CORE)
        try:
            results = _node(
                server, {"scenario": "p2p", "n": n, "rates": s.p2p_rates, "seconds": s.seconds}
            )
            return [
                _node_row("p2p", f"{n // 2} pairs, {r['offered_msgs']:g} msg/s", r) for r in results
            ]
        finally:
            await server.stop()
    server, gen = await _with_server(kind, durable)
    try:
        accounts = [f"pp{i}" for i in range(n)]
        conns = await gen.sessions(accounts)
        send = p2p_sender(gen, conns[0::2], conns[1::2])
        await asyncio.sleep(0.3)
        return await _ladder(
            gen, send, s.p2p_rates, s.seconds, server.pid,
            lambda rate, st: _step_row("p2p", name, f"{n // 2} pairs, {rate:g} msg/s", st),
        )  # fmt: skip
    finally:
        await gen.stop()
        await server.stop()


async def _ladder(
    gen: Gen,
    send: Any,
    rates: list[float],
    seconds: float,
    pid: int,
    row: Callable[[float, RateStep], Row],
) -> list[Row]:
    """Open-loop steps at rising rates; stops at the first step the server falls behind."""
    rows: list[Row] = []
    for rate in rates:
        st = await run_step(gen, send, rate, seconds, pid)
        rows.append(row(rate, st))
        if st.saturated:
            break
        await asyncio.sleep(0.3)
    return rows


# --- (3) channel fan-out -----------------------------------------------------------------


async def fanout(kind: str, s: Settings, channels: int, members: int) -> list[Row]:
    """``channels`` channels of ``members``; one publisher per channel, open-loop rates."""
    shape = f"{channels}x{members}"
    if kind == "socket.io":
        server = await start_server("socketio", SERVER_CORE)
        try:
            rates = [d / members for d in s.fanout_rates]
            results = _node(
                server,
                {
                    "scenario": "fanout",
                    "n": channels * members,
                    "channels": channels,
                    "rates": rates,
                    "seconds": s.seconds,
                },
            )
            return [
                _node_row("fanout", f"{shape}, {r['offered_msgs']:g} msg/s", r) for r in results
            ]
        finally:
            await server.stop()
    server, gen = await _with_server(kind, durable=False)
    try:
        names = [f"c{i}" for i in range(channels)]
        publishers = []
        for i, ch in enumerate(names):
            pub = await gen.session(f"fo{i}", channel=ch)
            if _is_ours(kind):
                # Join notices to every member would cost channels*members^2/2 events
                # before the measurement starts; the messages under test are unaffected.
                await pub.request(
                    {"op": "ch_set_attr", "channel": ch, "name": "_userNotification", "value": "0"}
                )
            publishers.append(pub)
        rest = [f"fo{i}" for i in range(channels, channels * members)]
        await gen.sessions(rest, channel=lambda i: names[(i + channels) % channels])
        send = channel_sender(gen, publishers, names, members)
        await asyncio.sleep(0.5)
        return await _ladder(
            gen, send, [d / members for d in s.fanout_rates], s.seconds, server.pid,
            lambda rate, st: _step_row("fanout", kind, f"{shape}, {rate:g} msg/s", st),
        )  # fmt: skip
    finally:
        await gen.stop()
        await server.stop()


# --- (5) offline queue drain ---------------------------------------------------------------


async def drain(s: Settings, kind: str = "sigphone") -> Row:
    """K durable messages wait for an offline user; it logs in and receives them all."""
    k_total = s.drain_messages
    server, gen = await _with_server(kind, durable=True)
    try:
        sender = await gen.session("dr-sender")
        from .common import make_msg

        gen._new_step(k_total)
        gen.seen = set()
        base = gen.base
        window = 500
        for start in range(0, k_total, window):
            futs = []
            for k in range(start, min(k_total, start + window)):
                futs.append(
                    sender.request(
                        {
                            "op": "send",
                            "peer": "dr-target",
                            "msg": make_msg(base + k, 0),
                            "msg_id": f"m{k}",
                            "cseq": k + 1,
                        }
                    )
                )
            await asyncio.gather(*futs)
        from .common import cpu_seconds

        cpu0 = cpu_seconds(server.pid)
        t0 = time.monotonic()
        await gen.session("dr-target")
        while len(gen.seen) < k_total and time.monotonic() - t0 < 120:
            await asyncio.sleep(0.002)
        secs = time.monotonic() - t0
        cpu = cpu_seconds(server.pid) - cpu0
        lost = k_total - len(gen.seen)
        dup = gen.received - len(gen.seen)
        return Row(
            "drain",
            f"{kind} (SQLite inbox)",
            f"{k_total} queued",
            k_total / secs,
            0.0,
            0.0,
            cpu / k_total * 1e6,
            {"lost": lost, "duplicates": dup, "seconds": round(secs, 3)},
        )
    finally:
        gen.seen = None
        await gen.stop()
        await server.stop()
