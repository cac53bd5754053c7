"""Shared pieces of the benchmarks: process probes, payloads, pinning, results.

The machine is shared and noisy, so every number that compares servers is taken side by side
in one run, and the server's own CPU time per delivery (from ``/proc``) is reported next to
rates: it does not depend on how fast the load generator happens to be.
"""

from __future__ import annotations

import os
import resource
import shutil
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLK_TCK",
    "Result",
    "cpu_seconds",
    "make_msg",
    "parse_k",
    "pin_self",
    "raise_nofile",
    "rss_bytes",
    "taskset",
]

CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Padding of every message body, so that the frames on the wire are 128-256 bytes for every
#: server (ours: 212 bytes per channel event, 230 per P2P event; Socket.IO: 181; raw: ours).
PAD = "x" * 96


def make_msg(k: int, t_ns: int) -> str:
    """The body of message ``k``: its number, the sender's monotonic time, fixed padding."""
    return f"{k:08d} {t_ns:019d} {PAD}"


def parse_k(msg: str) -> int:
    """The message number of a body made by ``make_msg`` (receivers parse only this)."""
    return int(msg[:8])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def raise_nofile(want: int = 65536) -> int:
    """Raise this process's open-file limit (children inherit it): 10k sockets per side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pin_self(core: int) -> None:
    """Pin the load generator (this process) to ``core`` if the machine has it."""
    if core in _cores():
        os.sched_setaffinity(0, {core})


def taskset(core: int, argv: list[str]) -> list[str]:
    """``argv`` pinned to ``core`` (unpinned where taskset or the core is missing)."""
    if shutil.which("taskset") and core < (os.cpu_count() or 1):
        return ["taskset", "-c", str(core), *argv]
    return argv


@dataclass
class Result:
    """One row of the results table."""

    scenario: str
    server: str
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""
