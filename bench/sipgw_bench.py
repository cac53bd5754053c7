"""SIP gateway benchmark (issue 14): audio delay through the bridge and gateway CPU per call.

Everything on 127.0.0.1: our server (in this process), ``sigphone-sipgw`` as its own process
(so its CPU is its own), and ``sipp -sn uas -rtp_echo`` as the far phone, which answers and
sends every RTP packet straight back.

1. Delay: an SDK user calls a number; its ToneTrack sends a 20 ms 1 kHz click every 0.5 s.
   The click goes WebRTC/Opus -> gateway -> PCMU/RTP -> sipp's echo -> gateway ->
   WebRTC/Opus and comes back to the caller: the time from the click's frame leaving the
   caller's track to the decoded echo's onset is the round trip, i.e. twice through the bridge
   (both directions) plus the two WebRTC legs.
2. CPU: the gateway process's user+system time (``/proc/PID/stat``) while N calls run, minus
   its idle rate, per call.

    python bench/sipgw_bench.py [--seconds 20] [--calls 1,5]

Linux only (``/proc``, apt sip-tester). Prints one JSON line per measurement;
docs/sip-gateway.md holds the numbers and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.ports import free_port

from sigphone.media import ice
from sigphone.media.call_audio import CallAudio
from sigphone.media.engine import MediaConfig
from sigphone.media.tones import tone
from sigphone.media.tracks import FRAME_SAMPLES, ToneTrack
from sigphone.protocol.call_payloads import InviteExtra, read_accept_sdp
from sigphone.sdk import Signal
from sigphone.server import ServerConfig, SignalServer

APP = "bench"
CLICK = tone(1000.0, 0.02, amplitude=0.8)
TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def poll(predicate, period: float = 0.01) -> None:
    while not predicate():
        await asyncio.sleep(period)


class Caller:
    """One SDK user with a click track, noting when each click's echo comes back."""

    def __init__(self) -> None:
        self.src = ToneTrack(0.0)
        self.sent: dict[int, float] = {}
        self.src.on_frame = lambda pts, t: self.sent.__setitem__(pts, t)
        self.onsets: list[float] = []
        self.frames = 0
        self._loud = False
        self.accepted = asyncio.Event()
        self.call: Any = None

    def sink(self, samples: np.ndarray) -> None:
        self.frames += 1
        loud = float(np.max(np.abs(samples))) > 0.1
        if loud and not self._loud:
            self.onsets.append(time.monotonic())
        self._loud = loud

    async def dial(self, session, number: str) -> CallAudio:
        media = CallAudio(
            None, MediaConfig(host_addresses=ice.LOOPBACK), source=self.src, sink=self.sink,
            tones=False,
        )  # fmt: skip
        extra = InviteExtra(src_num="+4940111", sdp=await media.offer()).encode()
        call = await session.channel_invite_user2("bench", number, extra)
        self.call = call

        async def accepted(extra: str) -> None:
            await media.accept_answer(read_accept_sdp(extra))
            self.accepted.set()

        call.on_invite_accepted_by_peer = accepted
        return media


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--calls", default="1,4", help="concurrent calls for the CPU measurement")
    args = p.parse_args()
    counts = [int(n) for n in args.calls.split(",")]

    cfg = ServerConfig(port=0, data=None, apps={APP: None})
    cfg.calls.gateways[APP] = ["sipgw"]
    folder = Path(tempfile.mkdtemp(prefix="sipgw-bench-"))
    async with SignalServer(cfg) as server:
        echo_port, sip_port = free_port("udp"), free_port("both")
        echo = subprocess.Popen(
            ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(echo_port), "-mi", "127.0.0.1",
             "-rtp_echo", "-nostdin", "-timeout", "600s"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        gw = subprocess.Popen(
            [sys.executable, "-m", "sigphone.sipgw.cli", "--server", server.url, "--app", APP,
             "--listen", f"127.0.0.1:{sip_port}", "--trunk", f"sip:127.0.0.1:{echo_port}",
             "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            await poll(lambda: (APP, "sipgw") in server.hub.sessions, 0.05)
            # Idle CPU of the gateway (the pjsip poll loop, the SDK's pings).
            c0, t0 = proc_cpu(gw.pid), time.monotonic()
            await asyncio.sleep(min(args.seconds, 10.0))
            idle = (proc_cpu(gw.pid) - c0) / (time.monotonic() - t0)
            print(json.dumps({"measure": "gateway idle", "cpu_percent": round(100 * idle, 2)}))

            for n in counts:
                sessions, callers, medias = [], [], []
                for i in range(n):
                    s = await Signal(APP, server=server.url).login(f"user{i}", "_no_need_token")
                    c = Caller()
                    medias.append(await c.dial(s, f"+49301230{i}"))
                    sessions.append(s)
                    callers.append(c)
                for c in callers:
                    await asyncio.wait_for(c.accepted.wait(), 30)
                await poll(lambda callers=callers: all(c.frames >= 25 for c in callers))
                c0, t0 = proc_cpu(gw.pid), time.monotonic()
                clicks: list[float] = []
                lead = callers[0]
                while time.monotonic() - t0 < args.seconds:
                    mark = lead.src._pts
                    lead.src.send_once(CLICK)
                    await asyncio.sleep(0.5)
                    t = lead.sent.get(mark) or lead.sent.get(mark + FRAME_SAMPLES)
                    if t is not None:
                        clicks.append(t)
                used = (proc_cpu(gw.pid) - c0) / (time.monotonic() - t0)
                delays = []
                for t in clicks:
                    after = [o - t for o in lead.onsets if 0 <= o - t < 0.45]
                    if after:
                        delays.append(after[0] * 1000)
                delays.sort()
                print(json.dumps({
                    "measure": "round trip caller -> gateway -> sipp echo -> gateway -> caller",
                    "calls": n,
                    "n": len(delays),
                    "median_ms": round(statistics.median(delays), 1) if delays else None,
                    "p90_ms": round(delays[int(0.9 * (len(delays) - 1))], 1) if delays else None,
                    "min_ms": round(delays[0], 1) if delays else None,
                    "gateway_cpu_percent": round(100 * used, 1),
                    "gateway_cpu_percent_per_call": round(100 * (used - idle) / n, 1),
                }), flush=True)  # fmt: skip
                for c, m in zip(callers, medias, strict=True):
                    await c.call.channel_invite_end()
                    await m.close()
                for s in sessions:
                    await s.logout()
        finally:
            gw.terminate()
            await asyncio.to_thread(gw.wait, 30)  # the server it logs out from runs here
            echo.kill()
            echo.wait()


if __name__ == "__main__":
    asyncio.run(main())
