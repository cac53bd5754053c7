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


def _table(rows: list[sc.Row], ceiling: float) -> str:
    head = (
        f"{'scenario':<9} {'server':<24} {'load':<30} {'rate/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'srv us':>7}  notes"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        notes = " ".join(f"{k}={v}" for k, v in r.extra.items() if k != "offered")
        if ceiling and r.scenario in ("p2p", "fanout") and r.rate > ceiling / 2:
            notes += " [over half the load generator's ceiling]"
        lines.append(
            f"{r.scenario:<9} {r.server:<24} {r.load:<30} {r.rate:>9.0f} {r.p50_ms:>8.1f} "
            f"{r.p99_ms:>8.1f} {r.us_per:>7.2f}  {notes}"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[sc.Row]:
    s = sc.Settings.make(args.full)
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
            if kind == "sigphone":
                runners.append(
                    ("p2p sigphone --memory", lambda: sc.p2p("sigphone", s, durable=False))
                )
    for kind in servers:
        if "fanout" in only:
            runners.append((f"fanout {kind} 1x1000", lambda k=kind: sc.fanout(k, s, 1, 1000)))
            runners.append((f"fanout {kind} 10x100", lambda k=kind: sc.fanout(k, s, 10, 100)))
    for kind in servers:
        if "drain" in only and kind in ("sigphone", sc.BEFORE):
            runners.append((f"drain {kind}", lambda k=kind: sc.drain(s, k)))
    for label, make in runners:
        await step(label, make())
    print(_table(rows, ceiling))
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
        "--ack-delay",
        type=float,
        default=0.02,
        help="seconds our sessions wait before acknowledging (SDK default 0.02)",
    )
    p.add_argument(
        "--before",
        metavar="APP_DIR",
        help="also run our server from this source tree (its app/ folder, e.g. from "
        "git archive) as sigphone@before, for before/after ratios in one run",
    )
    args = p.parse_args()
    raise_nofile(65536)
    pin_self(sc.CLIENT_CORE)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
