"""``python -m bench --cluster N``: N cluster nodes on one Redis against one node, same run.

- fan-out: one channel of 1,000 members (split evenly over the nodes, the publisher on node
  1) at rising rates; the highest rate carried is each configuration's capacity, and the
  ratio N nodes / 1 node is the scaling figure;
- point-to-point across nodes: 500 pairs, every sender on node 1 and its receiver on node 2;
- the Redis hop: point-to-point latency at a light load on the embedded server, on one
  cluster node (through Redis, same node) and across two nodes.

Each node is pinned to its own core (``taskset``); Redis and the load generator are not
pinned. On a machine with fewer than N + 2 cores they share cores with the nodes, which the
report says next to the figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile

from . import scenarios as sc
from .loadgen import Gen, channel_sender, p2p_sender
from .servers import Server, start_server

__all__ = ["run_cluster"]

FANOUT_MEMBERS = 1000
#: Deliveries per second offered to the fan-out, rising until a configuration falls behind.
FANOUT_RATES = [20_000.0, 40_000.0, 60_000.0, 80_000.0, 100_000.0, 130_000.0, 160_000.0]


class _Redis:
    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="sigphone-bench-redis-")
        with contextlib.closing(socket.socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.folder.name, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def ready(self) -> None:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.folder.cleanup()


async def _nodes(redis: _Redis | None, count: int) -> list[Server]:
    nodes = []
    for i in range(count):
        extra = [] if redis is None else ["--redis", redis.url, "--node-id", f"bench{i + 1}"]
        nodes.append(await start_server("sigphone", i, durable=False, extra=extra))
    return nodes


def _cpu_of(nodes: list[Server]) -> int:
    """The pid whose CPU the ladder reports: the first node's."""
    return nodes[0].pid


async def _fanout(name: str, nodes: list[Server], s: sc.Settings) -> list[sc.Row]:
    gen = Gen(nodes[0].url, "sigphone", sc.ACK_DELAY)
    gen.start()
    try:
        # Names of their own per configuration: Redis keeps the send marks of earlier runs.
        tag = name.replace(" ", "")
        pub = await gen.session(f"{tag}pub", channel="big")
        await pub.request({"op": "ch_set_attr", "channel": "big", "name": "_userNotification",
                           "value": "0"})  # fmt: skip
        rest = [f"{tag}m{i}" for i in range(1, FANOUT_MEMBERS)]
        await gen.sessions(
            rest, channel=lambda i: "big", url=lambda i: nodes[(i + 1) % len(nodes)].url
        )
        send = channel_sender(gen, [pub], ["big"], FANOUT_MEMBERS)
        await asyncio.sleep(0.5)
        rows = []
        for rate in FANOUT_RATES:
            st = await sc.run_step(gen, send, rate / FANOUT_MEMBERS, s.seconds, _cpu_of(nodes))
            rows.append(sc._step_row("fanout", name, f"1x1000, {rate:g} deliveries/s", st))
            if st.saturated:
                break
            await asyncio.sleep(0.3)
        return rows
    finally:
        await gen.stop()


async def _p2p(name: str, send_to: Server, recv_on: Server, rates: list[float], s: sc.Settings):
    gen = Gen(send_to.url, "sigphone", sc.ACK_DELAY)
    gen.start()
    try:
        tag = "".join(ch for ch in name if ch.isalnum())
        senders = await gen.sessions([f"{tag}s{i}" for i in range(500)])
        receivers = await gen.sessions(
            [f"{tag}r{i}" for i in range(500)], url=lambda i: recv_on.url
        )
        send = p2p_sender(gen, senders, receivers)
        await asyncio.sleep(0.3)
        rows = []
        for rate in rates:
            st = await sc.run_step(gen, send, rate, s.seconds, send_to.pid)
            rows.append(sc._step_row("p2p", name, f"500 pairs, {rate:g} msg/s", st))
            if st.saturated:
                break
        return rows
    finally:
        await gen.stop()


def _capacity(rows: list[sc.Row]) -> float:
    return max((r.rate for r in rows), default=0.0)


async def run_cluster(count: int, s: sc.Settings) -> list[sc.Row]:
    rows: list[sc.Row] = []
    redis = _Redis()
    await redis.ready()
    try:
        # The Redis hop: the same light P2P load on the embedded server, then through Redis.
        (embedded,) = await _nodes(None, 1)
        try:
            rows += await _p2p("embedded (--memory)", embedded, embedded, [1000.0], s)
        finally:
            await embedded.stop()
        nodes = await _nodes(redis, count)
        try:
            rows += await _p2p("cluster, same node", nodes[0], nodes[0], [1000.0], s)
            rows += await _p2p(
                "cluster, node 1 -> node 2", nodes[0], nodes[1], [1000.0, 5000.0, 10000.0], s
            )
            many = await _fanout(f"{count} nodes", nodes, s)
        finally:
            for node in nodes:
                await node.stop()
        (single,) = await _nodes(redis, 1)
        try:
            one = await _fanout("1 node", [single], s)
        finally:
            await single.stop()
    finally:
        redis.stop()
    rows += one + many
    ratio = _capacity(many) / _capacity(one) if _capacity(one) else 0.0
    cores = len(os.sched_getaffinity(0))
    note = sc.Row("scaling", f"{count} nodes / 1 node", f"fan-out capacity on {cores} cores", ratio)
    note.extra["one"] = round(_capacity(one))
    note.extra["many"] = round(_capacity(many))
    if cores < count + 2:
        note.extra["shared"] = "Redis and the load generator share the nodes' cores"
    rows.append(note)
    return rows
