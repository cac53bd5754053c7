"""What the cluster-wide quotas and rate budgets cost Redis: ``python -m bench.redis_checks``.

Each check runs inside the Lua script the request already sends (no extra round trip), so
the cost is Redis CPU per call. This runs each script 20,000 times (pipelined, EVALSHA) on a
throwaway redis-server and reads Redis's own ``usec_per_call`` (INFO commandstats), with and
without the check: the store's original scripts (scripts.py) against their quota-counting
wrappers (quota_scripts.py), and a channel message without and with its rate budget
(channel_scripts.POST). Best of ``--runs``. Results: docs/deployment.md, "Cluster".
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import time
from collections.abc import Callable, Sequence

import redis

from sigphone.server.backends.redis import channel_scripts as cs
from sigphone.server.backends.redis import quota_scripts as q
from sigphone.server.backends.redis import scripts as s

CALLS = 20_000
BATCH = 200
CHANNEL = "sig:ch:app room"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cost(r: redis.Redis, script: str, keys: int, args: Callable[[int], Sequence[object]]) -> float:
    """Redis-side microseconds per call of ``script`` with ``args(i)`` for call i."""
    r.config_resetstat()
    sha = r.script_load(script)
    for start in range(0, CALLS, BATCH):
        pipe = r.pipeline(transaction=False)
        for i in range(start, start + BATCH):
            pipe.evalsha(sha, keys, *args(i))
        pipe.execute()
    return float(r.info("commandstats")["cmdstat_evalsha"]["usec_per_call"])


def _inbox_args(i: int, counted: bool | None) -> tuple[object, ...]:
    """APPEND's keys and arguments for message i (``counted`` None: the original script's)."""
    record = json.dumps(["s", "hello " * 10, 1.0, 9e9])
    base = (
        f"sig:inbox:app u{i % 100}", "sig:mark:app s", "sig:pres:app nobody",
        "c", i + 1, 10_000, 3600, record, "", "app", f"u{i % 100}",
    )  # fmt: skip
    if counted is None:
        return base
    return (*base, "1" if counted else "0", 10**6, 10**6, time.time(), 9e9, "s")


def _delete_args(i: int) -> tuple[object, ...]:
    """DELETE of message i (the ack path: one id per call)."""
    return (f"sig:inbox:app u{i % 100}", i + 1)


def _channel(r: redis.Redis, limit: str = "") -> None:
    r.flushall()
    r.hset(CHANNEL + ":mn", "alice", "n1")
    r.hset(CHANNEL + ":n", "n1", 1)
    r.zadd(CHANNEL + ":m", {"alice": 1})
    if limit:
        r.hset(CHANNEL + ":a", "_sendmsg_limit", limit)


def _post_args(i: int, budget: bool) -> tuple[object, ...]:
    payload = json.dumps(["m", "alice", "x" * 100])
    return (
        CHANNEL, "app", "room", 10_000, "alice", payload, "c", i + 1, "sig:mark:app alice",
        "1" if budget else "0", 1000, 100,
    )  # fmt: skip


def measure(r: redis.Redis) -> dict[str, float]:
    out: dict[str, float] = {}
    r.flushall()
    out["store a message (scripts.APPEND)"] = _cost(r, s.APPEND, 3, lambda i: _inbox_args(i, None))
    out["delete it (scripts.DELETE)"] = _cost(r, s.DELETE, 1, _delete_args)
    r.flushall()
    out["store a message, counted (quota_scripts.APPEND)"] = _cost(
        r, q.APPEND, 3, lambda i: _inbox_args(i, True)
    )
    out["delete it, uncounted (quota_scripts.DELETE)"] = _cost(r, q.DELETE, 1, _delete_args)
    _channel(r)
    out["channel message, no budget check (POST)"] = _cost(
        r, cs.POST, 0, lambda i: _post_args(i, False)
    )
    _channel(r)
    out["channel message, small channel, checked (POST)"] = _cost(
        r, cs.POST, 0, lambda i: _post_args(i, True)
    )
    _channel(r, limit="1000000")
    out["channel message, _sendmsg_limit spent (POST)"] = _cost(
        r, cs.POST, 0, lambda i: _post_args(i, True)
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        r = redis.Redis(port=port)
        for _ in range(100):  # up within a few seconds
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        best: dict[str, float] = {}
        for _ in range(args.runs):
            for name, cost in measure(r).items():
                best[name] = min(best.get(name, float("inf")), cost)
        for name, cost in best.items():
            print(f"{name:<50} {cost:6.2f} us/call (best of {args.runs})")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
