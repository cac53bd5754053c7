"""Softphone start-up and footprint: time from spawn to a shown login window, resident
memory and idle CPU after login, and invite-to-ring time on loopback. Not a test (no timing
is asserted anywhere); numbers go to docs/ui.md and docs/benchmarks.md.

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


IDLE_SECONDS = 10.0


def memory_after_login() -> tuple[float, float, float]:
    import qasync
    from PySide6.QtWidgets import QApplication

    from sigphone.phone.paths import Paths
    from sigphone.phone.sound import SilentTones
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

        async def run() -> tuple[float, float, float]:
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
                # Idle CPU: this process's CPU time while logged in and doing nothing.
                cpu0, wall0 = time.process_time(), time.monotonic()
                await asyncio.sleep(IDLE_SECONDS)
                idle = (time.process_time() - cpu0) / (time.monotonic() - wall0)
                await phone.bridge.shutdown()
                phone.close()
                return before, after, idle

        with loop:
            return loop.run_until_complete(run())
    finally:
        server.terminate()
        server.wait(10)


def invite_to_ring(calls: int) -> tuple[list[float], list[float]]:
    """Two SDK sessions on an embedded server on loopback: from ``channel_invite_user2`` to
    the callee's ``on_invite_received`` (ringing there) and to the caller's
    ``on_invite_received_by_peer`` (ringback here), in milliseconds."""
    from sigphone.sdk import Signal
    from sigphone.server import ServerConfig, SignalServer

    async def run() -> tuple[list[float], list[float]]:
        ring: list[float] = []
        back: list[float] = []
        async with SignalServer(ServerConfig(port=0, data=None, apps={"demo": None})) as srv:
            alice = await Signal("demo", srv.url).login("alice", "_no_need_token")
            bob = await Signal("demo", srv.url).login("bob", "_no_need_token")
            for i in range(calls):
                rang: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                heard: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                bob.on_invite_received = lambda call, f=rang: f.set_result(time.perf_counter())
                start = time.perf_counter()
                call = await alice.channel_invite_user2(f"room{i}", "bob")
                call.on_invite_received_by_peer = lambda extra, f=heard: (
                    f.done() or f.set_result(time.perf_counter())
                )
                ring.append((await rang - start) * 1000)
                back.append((await heard - start) * 1000)
                await call.channel_invite_end()
            await alice.logout()
            await bob.logout()
        return ring, back

    return asyncio.run(run())


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
    before, after, idle = memory_after_login()
    print(f"resident memory: {before:.0f} MB with the login window, {after:.0f} MB after login")
    print(f"idle CPU after login: {idle * 100:.2f} % of one core over {IDLE_SECONDS:.0f} s")
    # After the memory reading: the embedded server it imports would inflate it.
    ring, back = invite_to_ring(50)
    for name, values in (("callee rings", ring), ("caller hears ringback", back)):
        values.sort()
        print(
            f"invite -> {name}: median {statistics.median(values):.1f} ms, "
            f"p90 {values[int(len(values) * 0.9)]:.1f} ms (50 calls, loopback)"
        )


if __name__ == "__main__":
    main()
