"""Voice latency benchmark (issue 6): mouth-to-ear delay on loopback, and CPU per call.

1. Network part: encoder input to decoder output. Two MediaEngines on 127.0.0.1; alice's
   ToneTrack sends a 20 ms click every 0.5 s and notes when its frame left ``recv``; bob's
   TrackReader notes when the decoded frame holding the click's onset arrived. Run for each
   jitter-buffer prefetch (aiortc's 4, and smaller).
2. Device to device: a private PulseAudio (tests/support/pulse.py) with a combine sink that plays
   each click into alice's virtual microphone and straight into bob's virtual speaker at
   the same instant; one recording of the speaker then holds the click twice, and the gap is
   microphone -> PortAudio -> Opus/SRTP -> PortAudio -> speaker.

    python bench/media_latency.py [--seconds 20] [--skip-devices]

Prints one JSON line per measurement; docs/media.md holds the numbers and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sigphone.media import ice
from sigphone.media.audio_io import AudioIO
from sigphone.media.devices import list_devices
from sigphone.media.engine import MediaConfig, MediaEngine
from sigphone.media.tones import SAMPLE_RATE, tone
from sigphone.media.tracks import FRAME_SAMPLES, ToneTrack, TrackReader

CLICK = tone(1000.0, 0.02, amplitude=0.8)


async def poll(predicate: Callable[[], bool], period: float = 0.01) -> None:
    """Wait until audio flows (events from other tasks and threads make it true)."""
    while not predicate():
        await asyncio.sleep(period)


def cpu() -> float:
    """CPU seconds of this process, all threads (PortAudio's and aiortc's decoder too)."""
    return time.process_time()


def summary(name: str, values: list[float], **extra: object) -> None:
    ms = sorted(v * 1000 for v in values)
    print(
        json.dumps(
            {
                "measure": name,
                "n": len(ms),
                "median_ms": round(statistics.median(ms), 1) if ms else None,
                "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1) if ms else None,
                "min_ms": round(ms[0], 1) if ms else None,
                **extra,
            }
        ),
        flush=True,
    )


async def network(prefetch: int | None, seconds: float) -> None:
    config = MediaConfig(host_addresses=ice.LOOPBACK, jitter_prefetch=prefetch)
    src = ToneTrack(0.0)
    sent: dict[int, float] = {}
    src.on_frame = lambda pts, t: sent.__setitem__(pts, t)
    onsets: list[float] = []
    state = {"loud": False}

    def sink(samples: np.ndarray) -> None:
        loud = float(np.max(np.abs(samples))) > 0.2
        if loud and not state["loud"]:
            onsets.append(time.monotonic())
        state["loud"] = loud

    readers: list[TrackReader] = []
    alice = MediaEngine(src, config)
    bob = MediaEngine(
        ToneTrack(0.0), config, on_track=lambda t: readers.append(TrackReader(t, sink))
    )
    await alice.accept_answer(await bob.accept_offer(await alice.create_offer()))
    await poll(lambda: bool(readers) and readers[0].frames >= 25)
    c0, t0 = cpu(), time.monotonic()
    clicks: list[float] = []
    while time.monotonic() - t0 < seconds:
        mark = src._pts  # the click goes out in the next frame
        src.send_once(CLICK)
        await asyncio.sleep(0.5)
        if mark in sent:
            clicks.append(sent[mark])
        elif mark + FRAME_SAMPLES in sent:
            clicks.append(sent[mark + FRAME_SAMPLES])
    used = cpu() - c0
    delays = []
    for t in clicks:
        after = [o - t for o in onsets if 0 <= o - t < 0.45]
        if after:
            delays.append(after[0])
    summary(
        "network encoder-in to decoder-out",
        delays,
        prefetch=prefetch if prefetch is not None else 4,
        cpu_percent_both_ends=round(100 * used / (time.monotonic() - t0), 1),
    )
    for r in readers:
        await r.stop()
    await alice.close()
    await bob.close()


async def devices(seconds: float) -> None:
    from tests.pulse import PulseAudio

    pulse = PulseAudio()
    pulse.start()
    pulse.pactl("load-module", "module-combine-sink", "sink_name=both", "slaves=vmic_src,vspk")
    os.environ["PULSE_SERVER"] = pulse.server
    list_devices(rescan=True)
    prefetch = int(os.environ.get("BENCH_PREFETCH", "1"))
    config = MediaConfig(host_addresses=ice.LOOPBACK, jitter_prefetch=prefetch)
    latency = float(os.environ.get("BENCH_LATENCY", "0")) or "low"
    keep = int(os.environ.get("BENCH_KEEP", "1"))
    alice_audio = AudioIO(latency=latency, voice_keep_frames=keep)
    bob_audio = AudioIO(latency=latency, voice_keep_frames=keep)
    readers: list[TrackReader] = []
    alice = MediaEngine(alice_audio.microphone_track(), config)
    bob = MediaEngine(
        ToneTrack(0.0),
        config,
        on_track=lambda t: readers.append(TrackReader(t, bob_audio.play_voice)),
    )
    await alice_audio.start(capture=True)
    await bob_audio.start(capture=False)
    await alice.accept_answer(await bob.accept_offer(await alice.create_offer()))
    await poll(lambda: alice_audio.callbacks("input") > 50 and bob_audio.callbacks("output") > 50)
    await asyncio.sleep(1.0)
    period = 0.6
    n = int(seconds / period)
    clicks = np.zeros(round(period * SAMPLE_RATE) * n, dtype=np.float32)
    for i in range(n):
        start = round(i * period * SAMPLE_RATE)
        clicks[start : start + len(CLICK)] = CLICK
    rec = pulse.record()
    await asyncio.sleep(0.5)
    c0, t0 = cpu(), time.monotonic()
    player = pulse.play(clicks, sink="both")
    await poll(lambda: player.poll() is not None)
    await asyncio.sleep(1.0)
    used = cpu() - c0
    x = rec.samples()
    rec.stop()
    loud = np.abs(x) > 0.1
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    # Keep one onset per burst (the burst's sine crosses 0.1 many times).
    bursts = [
        int(o) for i, o in enumerate(onsets) if i == 0 or o - onsets[i - 1] > 0.05 * SAMPLE_RATE
    ]
    # Direct clicks sit on the period grid; the first burst after each is the app's copy.
    delays = []
    first = bursts[0] if bursts else 0
    for a, b in itertools.pairwise(bursts):
        phase = ((a - first) / SAMPLE_RATE) % period
        if min(phase, period - phase) < 0.03 and 0.02 < (b - a) / SAMPLE_RATE < period - 0.03:
            delays.append((b - a) / SAMPLE_RATE)
    if os.environ.get("BENCH_VERBOSE"):
        print([round((b - bursts[0]) / SAMPLE_RATE, 3) for b in bursts], file=sys.stderr)
        print(
            {k: (s.blocksize, s.xruns) for k, s in alice_audio._streams.items()},
            len(alice_audio.mic),
            len(bob_audio.mixer.voice),
            bob_audio.mixer.voice.dropped,
            "underruns",
            bob_audio.mixer.voice.underruns,
            alice_audio.mic.dropped,
            file=sys.stderr,
        )
    summary(
        "device to device (PulseAudio null sinks)",
        delays,
        prefetch=config.jitter_prefetch,
        blocksize=alice_audio.blocksize,
        latency=latency,
        cpu_percent_process=round(100 * used / (time.monotonic() - t0), 1),
    )
    for r in readers:
        await r.stop()
    await alice.close()
    await bob.close()
    await alice_audio.close()
    await bob_audio.close()
    pulse.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-devices", action="store_true")
    parser.add_argument("--skip-network", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    for prefetch in () if args.skip_network else (None, 2, 1, 0):
        await network(prefetch, args.seconds)
    if not args.skip_devices:
        await devices(args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
