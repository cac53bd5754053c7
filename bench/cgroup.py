"""A fixed CPU budget per server node (cgroup v1 ``cpu`` quota), for the cluster bench.

On a 2-core machine two nodes, Redis and the load generator cannot each have a core, so
pinning measures the machine (docs/benchmarks.md, "Cluster"). A quota gives every node the
same fraction of a core instead, and leaves the rest to Redis and the load generator: one
budgeted node against two is then a fair comparison of what the design does with its CPU.

A short period (20 ms by default) keeps the stall of a throttled node short; the default
kernel period of 100 ms would add up to 100 ms to p99 whenever a node spends its budget early.
Without a writable ``/sys/fs/cgroup/cpu`` (not root, cgroup v2 only) ``Budget.open`` returns
None and the caller falls back to pinning, and says so.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Budget"]

ROOT = Path("/sys/fs/cgroup/cpu")


@dataclass
class Budget:
    """One cgroup with ``cores`` of CPU per ``period_ms``; remove it with ``close``."""

    path: Path
    cores: float
    period_ms: float

    @classmethod
    def open(cls, name: str, cores: float, period_ms: float = 20.0) -> Budget | None:
        """Create the group, or None when cgroup v1 quotas are not writable here."""
        path = ROOT / f"sigphone-bench-{os.getpid()}-{name}"
        period = int(period_ms * 1000)
        try:
            path.mkdir()
        except OSError:
            return None
        budget = cls(path, cores, period_ms)
        try:
            (path / "cpu.cfs_period_us").write_text(str(period))
            (path / "cpu.cfs_quota_us").write_text(str(max(1000, int(period * cores))))
        except OSError:
            budget.close()
            return None
        return budget

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into the group."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def throttled(self) -> tuple[int, float]:
        """(periods in which the group ran out of budget, seconds it waited): cpu.stat."""
        stat = dict(
            line.split() for line in (self.path / "cpu.stat").read_text().splitlines() if line
        )
        return int(stat.get("nr_throttled", 0)), int(stat.get("throttled_time", 0)) / 1e9

    def close(self) -> None:
        """Move any process still inside back to the root group, then remove the group."""
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (ROOT / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.path.rmdir()
