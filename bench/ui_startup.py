"""Softphone start-up and footprint: time from spawn to a shown login window, and resident
memory after login. Not a test (no timing is asserted anywhere); numbers go to docs/ui.md.

    QT_QPA_PLATFORM=offscreen python bench/ui_startup.py [--runs 10]

Start-up: each run spawns ``python -m sigphone --startup-probe`` with a fresh profile; the
child prints the wall-clock time at which the login window has been shown and the event
loop has turned once; the difference from just before the spawn is the number (it includes
the interpreter start and every import). Memory: this process logs one softphone in to a
``sigphone-server`` child and reads its own resident set size (Linux /proc, else psutil if
installed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def startup(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as profile:
            start = time.time()
            out = subprocess.run(
                [sys.executable, "-m", "sigphone", "--profile", profile, "--startup-probe"],
                capture_output=True, text=True, timeout=60, check=True,
            ).stdout  # fmt: skip
        shown = float(next(x for x in out.splitlines() if x.startswith("shown_at:")).split()[1])
        times.append(shown - start)
    return times


def rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import psutil  # type: ignore[import-not-found]

    return psutil.Process().memory_info().rss / 2**20


def memory_after_login() -> tuple[float, float]:
    import qasync
    from PySide6.QtWidgets import QApplication

    from sigphone.ui.audio import SilentTones
    from sigphone.ui.paths import Paths
    from sigphone.ui.phone import Phone

    server = subprocess.Popen(
        [sys.executable, "-m", "sigphone.server.cli", "--app", "demo", "--port", "0",
         "--no-api"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = ""
        while "ws://" not in line:
            line = server.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        app = QApplication(sys.argv[:1])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)

        async def run() -> tuple[float, float]:
            with tempfile.TemporaryDirectory() as tmp:
                phone = Phone(Paths.under(Path(tmp)), SilentTones())
                phone.start()
                before = rss_mb()
                phone.bridge.login(url, "demo", "alice", "_no_need_token")
                async with asyncio.timeout(30):
                    while phone.bridge.status != "online":
                        await asyncio.sleep(0.01)
                await asyncio.sleep(1.0)  # let the main window paint and settle
                after = rss_mb()
                await phone.bridge.shutdown()
                phone.close()
                return before, after

        with loop:
            return loop.run_until_complete(run())
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    times = startup(args.runs)
    ms = [t * 1000 for t in times]
    print(
        f"spawn -> login window shown: median {statistics.median(ms):.0f} ms, "
        f"min {min(ms):.0f} ms, max {max(ms):.0f} ms ({args.runs} runs)"
    )
    before, after = memory_after_login()
    print(f"resident memory: {before:.0f} MB with the login window, {after:.0f} MB after login")


if __name__ == "__main__":
    main()
