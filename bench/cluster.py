"""``python -m bench --cluster N``: N cluster nodes on one Redis against one node, same run.

- fan-out: one channel of 1,000 members (split evenly over the nodes, the publisher on node
  1) at rates rising by 20 % per step; the highest deliveries/s a configuration carried is
  its capacity, and the ratio N nodes / 1 node is the scaling figure;
- point-to-point across nodes: 500 pairs, every sender on node 1 and its receiver on node 2;
- the Redis hop: point-to-point latency at a light load on the embedded server, on one
  cluster node (through Redis, same node) and across two nodes.

Fan-out nodes each get the same CPU budget (``--node-cpu`` of a core, a cgroup v1 quota,
bench/cgroup.py), so one budgeted node against N budgeted nodes compares the design, not the
machine: Redis and the load generator keep the rest of the CPU, and every fan-out row reports
how much of a core each of them used so a reader sees they were not the limit. Without
writable cgroups each node is pinned to its own core instead, and the rows say so. The
point-to-point rows run without budgets (a throttled node would add its stalls to the latency
they measure), each node pinned to its own core.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from . import scenarios as sc
from .cgroup import Budget
from .loadgen import Gen, channel_sender, p2p_sender
from .redis_server import free_port, redis_argv, wait_listening
from .servers import Server, start_server

__all__ = ["Options", "run_cluster"]

FANOUT_MEMBERS = 1000
#: Fan-out ladder: deliveries/s of the first step, the growth per step, the last step.
FANOUT_START = 10_000.0
FANOUT_STEP = 1.2
FANOUT_MAX = 400_000.0
#: A step "kept up" when it carried this share of the offered deliveries, none lost, and its
#: p99 stayed under KEPT_UP_P99_MS: past that the node only queues. Its throughput still
#: climbs for a few steps (a backlog fills every write and every ack with more events), so
#: the highest rate carried is reported too but is not the capacity.
KEPT_UP_SHARE = 0.95
KEPT_UP_P99_MS = 500.0


@dataclass
class Options:
    #: Each fan-out node's CPU budget in cores (0: pin each node to a core instead).
    node_cpu: float = 0.3
    #: The quota period: short, so that a throttled node stalls for at most this long.
    period_ms: float = 20.0


class _Redis:
    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="sigphone-bench-redis-")
        self.port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt redis-server)")
        self.proc = subprocess.Popen(
            redis_argv(binary, self.port, self.folder.name), stdout=subprocess.DEVNULL
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.folder.cleanup()


async def _nodes(redis: _Redis | None, count: int, pinned: bool = True) -> list[Server]:
    nodes = []
    for i in range(count):
        extra = [] if redis is None else ["--redis", redis.url, "--node-id", f"bench{i + 1}"]
        core = i if pinned else None
        nodes.append(await start_server("sigphone", core, durable=False, extra=extra))
    return nodes


async def _fanout(
    name: str, nodes: list[Server], redis: _Redis, budgets: list[Budget], s: sc.Settings
) -> list[sc.Row]:
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
        # The members each node serves (the publisher is node 1's): its share of deliveries.
        share = [sum(1 for i in range(1, FANOUT_MEMBERS) if i % len(nodes) == n) for n in
                 range(len(nodes))]  # fmt: skip
        share[0] += 1
        watch = {f"node{i + 1}": node.pid for i, node in enumerate(nodes)}
        watch["redis"] = redis.proc.pid
        await asyncio.sleep(0.5)
        rows = []
        rate = FANOUT_START
        while rate <= FANOUT_MAX:
            throttled0 = [b.throttled()[0] for b in budgets]
            st = await sc.run_step(gen, send, rate / FANOUT_MEMBERS, s.seconds, nodes[0].pid,
                                   watch)  # fmt: skip
            row = sc._step_row("fanout", name, f"1x1000, {rate:.0f} deliveries/s", st)
            secs = st.seconds or 1.0
            if st.deliveries:
                # CPU per delivery of each node's own members; cores = CPU s per second.
                per = [st.deliveries * n / FANOUT_MEMBERS for n in share]
                row.extra["node_us"] = "/".join(
                    f"{st.cpu_s[f'node{i + 1}'] / per[i] * 1e6:.1f}" for i in range(len(nodes))
                )
            row.extra["node_cores"] = "/".join(
                f"{st.cpu_s[f'node{i + 1}'] / secs:.2f}" for i in range(len(nodes))
            )
            row.extra["redis_cores"] = round(st.cpu_s["redis"] / secs, 2)
            row.extra["gen_cores"] = round(st.client_cpu_s / secs, 2)
            if budgets:
                row.extra["throttled"] = "/".join(
                    str(b.throttled()[0] - t0) for b, t0 in zip(budgets, throttled0, strict=True)
                )
            row.extra["kept_up"] = (
                st.lost == 0 and st.rate >= KEPT_UP_SHARE * rate and st.p99_ms <= KEPT_UP_P99_MS
            )
            rows.append(row)
            behind = sum(1 for r in rows[-2:] if not r.extra["kept_up"])
            if st.saturated or behind == 2:
                break
            rate *= FANOUT_STEP
            await asyncio.sleep(0.3)
        return rows
    finally:
        await gen.stop()


async def _budgeted_fanout(
    name: str, redis: _Redis, count: int, opts: Options, s: sc.Settings
) -> list[sc.Row]:
    """Start ``count`` nodes, each in its own CPU budget (or pinned), and run the fan-out."""
    budgets: list[Budget] = []
    nodes: list[Server] = []
    try:
        if opts.node_cpu > 0:
            for i in range(count):
                budget = Budget.open(f"node{i + 1}", opts.node_cpu, opts.period_ms)
                if budget is None:
                    break
                budgets.append(budget)
            if len(budgets) < count:  # not writable here: pin instead (the rows say so)
                for budget in budgets:
                    budget.close()
                budgets = []
        nodes = await _nodes(redis, count, pinned=not budgets)
        for budget, node in zip(budgets, nodes, strict=False):
            budget.add(node.pid)
        rows = await _fanout(name, nodes, redis, budgets, s)
        how = (
            f"each node {opts.node_cpu:g} core per {opts.period_ms:g} ms (cgroup)"
            if budgets
            else "each node pinned to its own core (no writable cgroup)"
        )
        for row in rows:
            row.extra["cpu"] = how
        return rows
    finally:
        for node in nodes:
            await node.stop()
        for budget in budgets:
            budget.close()


async def _p2p(
    name: str, send_to: Server, recv_on: Server, rates: list[float], s: sc.Settings
) -> list[sc.Row]:
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
        watch = {"recv": recv_on.pid} if recv_on is not send_to else {}
        for rate in rates:
            st = await sc.run_step(gen, send, rate, s.seconds, send_to.pid, watch)
            row = sc._step_row("p2p", name, f"500 pairs, {rate:g} msg/s", st)
            if watch and st.deliveries:
                row.extra["recv_us"] = round(st.cpu_s["recv"] / st.deliveries * 1e6, 1)
            rows.append(row)
            if st.saturated:
                break
        return rows
    finally:
        await gen.stop()


def _capacity(rows: list[sc.Row]) -> float:
    """The highest deliveries/s of a step that kept up (see KEPT_UP_SHARE)."""
    return max((r.rate for r in rows if r.extra.get("kept_up")), default=0.0)


def _peak(rows: list[sc.Row]) -> float:
    return max((r.rate for r in rows), default=0.0)


async def run_cluster(count: int, s: sc.Settings, opts: Options | None = None) -> list[sc.Row]:
    opts = opts or Options()
    rows: list[sc.Row] = []
    redis = _Redis()
    try:
        await wait_listening(redis.port)
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
                "cluster, node 1 -> node 2",
                nodes[0],
                nodes[1],
                [1000.0, 2000.0, 3000.0, 5000.0, 7500.0, 10000.0, 15000.0],
                s,
            )
        finally:
            for node in nodes:
                await node.stop()
        one = await _budgeted_fanout("1 node", redis, 1, opts, s)
        many = await _budgeted_fanout(f"{count} nodes", redis, count, opts, s)
    finally:
        with contextlib.suppress(Exception):
            redis.stop()
    rows += one + many
    ratio = _capacity(many) / _capacity(one) if _capacity(one) else 0.0
    note = sc.Row("scaling", f"{count} nodes / 1 node", "fan-out capacity", ratio)
    note.extra["ratio"] = f"{ratio:.2f}"
    note.extra["one"] = round(_capacity(one))
    note.extra["many"] = round(_capacity(many))
    note.extra["peak"] = f"{_peak(one):.0f}/{_peak(many):.0f}"
    note.extra["cpu"] = one[0].extra.get("cpu", "") if one else ""
    note.extra["load"] = "/".join(f"{x:.2f}" for x in os.getloadavg())
    rows.append(note)
    return rows
