"""``python -m bench``: every scenario side by side, short; ``--full`` for the docs' numbers.

The load generator runs in this process, pinned to core 1; each server runs alone, pinned to
core 0. See docs/benchmarks.md for what each row means and how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from . import scenarios as sc
from .common import pin_self, raise_nofile
from .servers import ensure_node_modules

ALL = ["calibrate", "login", "p2p", "fanout", "drain"]
#: Scenarios whose ratios matter most; --repeat runs them several times, interleaved.
REPEATED = ("p2p", "fanout")


def _table(rows: list[sc.Row], ceiling: float) -> str:
    head = (
        f"{'scenario':<9} {'server':<31} {'load':<40} {'rate/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'srv us':>7}  notes"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        notes = " ".join(f"{k}={v}" for k, v in r.extra.items() if k != "offered")
        if ceiling and r.scenario in ("p2p", "fanout") and r.rate > ceiling / 2:
            notes += " [over half the load generator's ceiling]"
        busy = r.extra.get("client_us", 0) * r.rate / 1e6
        if busy > 0.5:
            notes += f" [load generator {busy:.0%} busy]"
        lines.append(
            f"{r.scenario:<9} {r.server:<31} {r.load:<40} {r.rate:>8.0f} {r.p50_ms:>8.1f} "
            f"{r.p99_ms:>8.1f} {r.us_per:>7.2f}  {notes}"
        )
    return "\n".join(lines)


def _ratios(rows: list[sc.Row]) -> str:
    """Our rows against Socket.IO's and our ``--before`` server's at the same load (server
    CPU per delivery and p99, lower is better): the figures issue 17's targets are about."""
    by_load: dict[tuple[str, str], dict[str, sc.Row]] = {}
    for r in rows:
        key = (r.scenario, r.load.replace(" (saturated)", ""))
        by_load.setdefault(key, {})[r.server] = r
    head = (
        f"{'scenario':<9} {'server':<31} {'load':<40} {'srv us / sio':>12} {'p99 / sio':>10} "
        f"{'srv us / before':>16}"
    )
    lines = [head, "-" * len(head)]
    for (scenario, load), group in by_load.items():
        sio = next((r for name, r in group.items() if name.startswith("socket.io")), None)
        for name, r in group.items():
            if not name.startswith("sigphone") or name.startswith(sc.BEFORE):
                continue
            before = group.get(name.replace("sigphone", sc.BEFORE, 1))
            cpu = f"{r.us_per / sio.us_per:.2f}" if sio and sio.us_per else "-"
            p99 = f"{r.p99_ms / sio.p99_ms:.2f}" if sio and sio.p99_ms else "-"
            old = f"{r.us_per / before.us_per:.2f}" if before and before.us_per else "-"
            lines.append(f"{scenario:<9} {name:<31} {load:<40} {cpu:>12} {p99:>10} {old:>16}")
    return "\n".join(lines) if len(lines) > 2 else ""


def _median_rows(rows: list[sc.Row]) -> list[sc.Row]:
    """One row per (scenario, server, load): the repetition with the median server CPU.

    The machine is shared: a neighbour's burst inflates one repetition, not all of them.
    """
    groups: dict[tuple[str, str, str], list[sc.Row]] = {}
    for r in rows:
        key = (r.scenario, r.server, r.load.replace(" (saturated)", ""))
        groups.setdefault(key, []).append(r)
    out = []
    for group in groups.values():
        group.sort(key=lambda r: r.us_per)
        best = group[(len(group) - 1) // 2]
        if len(group) > 1:
            best.extra["reps"] = len(group)
            best.extra["srv_us_range"] = f"{group[0].us_per:.1f}-{group[-1].us_per:.1f}"
        out.append(best)
    return out


async def run(args: argparse.Namespace) -> list[sc.Row]:
    s = sc.Settings.make(args.full)
    if args.cluster:
        from .cluster import Options, run_cluster

        opts = Options(node_cpu=args.node_cpu, period_ms=args.cpu_period_ms)
        rows = await run_cluster(args.cluster, s, opts)
        print(_table(rows, 0.0))
        if args.json:
            Path(args.json).write_text(
                json.dumps({"cluster": args.cluster, "rows": [r.as_dict() for r in rows]}, indent=1)
            )
        return rows
    only = args.only.split(",") if args.only else ALL
    servers = args.servers.split(",")
    sc.ACK_DELAY = args.ack_delay
    if args.before:
        sc.BEFORE_SRC = args.before
        servers.insert(servers.index("sigphone") + 1 if "sigphone" in servers else 0, sc.BEFORE)
    if "socket.io" in servers and not ensure_node_modules():
        print("npm/node missing: no Socket.IO baseline", file=sys.stderr)
        servers.remove("socket.io")
    rows: list[sc.Row] = []
    ceiling = 0.0

    async def step(label: str, coro: Awaitable[sc.Row | list[sc.Row]]) -> None:
        t0 = time.monotonic()
        print(f"... {label}", file=sys.stderr, flush=True)
        try:
            got = await coro
        except Exception as exc:  # one broken scenario must not hide the others
            print(f"    {label} failed: {exc!r}", file=sys.stderr, flush=True)
            return
        got = got if isinstance(got, list) else [got]
        rows.extend(got)
        for r in got:
            print(
                f"    {r.server}: {r.load}: {r.rate:.0f}/s p50 {r.p50_ms:.1f} ms "
                f"p99 {r.p99_ms:.1f} ms {r.us_per:.2f} us {r.extra} "
                f"({time.monotonic() - t0:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    if "calibrate" in only:
        await step("calibrate", sc.calibrate(s))
        if rows:
            ceiling = float(rows[-1].extra.get("ceiling", 0))
    runners: list[tuple[str, Callable[[], Awaitable[sc.Row | list[sc.Row]]]]] = []
    for kind in servers:
        if "login" in only:
            for n in s.login_sizes:
                runners.append((f"login {kind} {n}", lambda k=kind, n=n: sc.login_storm(k, n)))
    for kind in servers:
        if "p2p" in only:
            runners.append((f"p2p {kind}", lambda k=kind: sc.p2p(k, s)))
            if kind in ("sigphone", sc.BEFORE):
                runners.append((f"p2p {kind} --memory", lambda k=kind: sc.p2p(k, s, durable=False)))
    for kind in servers:
        if "fanout" in only:
            runners.append((f"fanout {kind} 1x1000", lambda k=kind: sc.fanout(k, s, 1, 1000)))
            runners.append((f"fanout {kind} 10x100", lambda k=kind: sc.fanout(k, s, 10, 100)))
    for kind in servers:
        if "drain" in only and kind in ("sigphone", sc.BEFORE):
            runners.append((f"drain {kind}", lambda k=kind: sc.drain(s, k)))
    repeated = [(label, make) for label, make in runners if label.split()[0] in REPEATED]
    once = [(label, make) for label, make in runners if label.split()[0] not in REPEATED]
    for label, make in once:
        await step(label, make())
    for rep in range(args.repeat):
        for label, make in repeated:  # interleaved: each server sees the same neighbours
            await step(f"{label} (repetition {rep + 1})", make())
    rows = _median_rows(rows)
    print(_table(rows, ceiling))
    ratios = _ratios(rows)
    if ratios:
        print("\nratios (lower is better; sio = Socket.IO in this run):\n" + ratios)
    if ceiling:
        print(
            f"\nload generator ceiling: {ceiling:.0f} deliveries/s (1 s / its CPU per "
            "delivery against a picows relay); rates above half of it are flagged."
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"full": args.full, "ceiling": ceiling, "rows": [r.as_dict() for r in rows]},
                indent=1,
            )
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--full", action="store_true", help="the long run for docs/benchmarks.md")
    p.add_argument("--only", help=f"comma-separated scenarios of {','.join(ALL)}")
    p.add_argument(
        "--servers",
        default="sigphone,websockets,socket.io",
        help="comma-separated: sigphone, websockets, socket.io",
    )
    p.add_argument("--json", help="also write the rows to this file")
    p.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="run p2p and fan-out this many times, interleaved; report the median "
        "(default 1, 3 with --full)",
    )
    p.add_argument(
        "--ack-delay",
        type=float,
        default=sc.ACK_DELAY,
        help="the quiet-connection ack delay of our sessions' AckClock (the SDK's default)",
    )
    p.add_argument(
        "--before",
        metavar="APP_DIR",
        help="also run our server from this source tree (its app/ folder, e.g. from "
        "git archive) as sigphone@before, for before/after ratios in one run",
    )
    p.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="N",
        help="only the cluster run: N nodes on one Redis against one node, fan-out and "
        "point-to-point across nodes (needs redis-server)",
    )
    p.add_argument(
        "--node-cpu",
        type=float,
        default=0.3,
        metavar="CORES",
        help="--cluster: each fan-out node's CPU budget (a cgroup v1 quota, needs root); "
        "0 pins each node to its own core instead",
    )
    p.add_argument(
        "--cpu-period-ms",
        type=float,
        default=20.0,
        help="--cluster: the quota period (a throttled node stalls at most this long)",
    )
    args = p.parse_args()
    args.repeat = args.repeat or (3 if args.full else 1)
    raise_nofile(65536)
    if not args.cluster:  # the cluster's nodes take cores 0..N-1; the generator floats
        pin_self(sc.CLIENT_CORE)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
