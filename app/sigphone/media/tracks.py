"""aiortc audio tracks: what we send (microphone or a synthetic tone) and how we read what
arrives (``TrackReader``).

A sending track must hand aiortc one 20 ms frame at a time at the real-time pace: the RTP
timestamps come from our ``pts``. The microphone track is driven by the device's data (so a
device clock slightly off from the system clock causes no drift); when there is no data (no
device, a device that vanished, the slow first PortAudio callback) it falls back to a clocked
silence frame, so the RTP stream never stalls and the call stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .fifo import SampleFifo
from .tones import SAMPLE_RATE, to_int16

__all__ = ["FRAME_SAMPLES", "MicrophoneTrack", "ToneTrack", "TrackReader", "frame_to_mono"]

log = logging.getLogger("sigphone.media")

#: 20 ms at 48 kHz: Opus's usual frame and aiortc's packetisation time.
FRAME_SAMPLES = SAMPLE_RATE // 50
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


def _frame(samples: np.ndarray, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(
        to_int16(samples).reshape(1, -1), format="s16", layout="mono"
    )
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = _TIME_BASE
    return frame


class _Clock:
    """Real-time pacing for frames that no device clocks."""

    def __init__(self) -> None:
        self._next: float | None = None

    def reset(self) -> None:
        self._next = time.monotonic() + FRAME_SECONDS

    def deadline(self) -> float:
        if self._next is None:
            self._next = time.monotonic()
        return self._next

    async def tick(self) -> None:
        wait = self.deadline() - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # Fell far behind (a suspended laptop): restart the pace instead of bursting.
        now = time.monotonic()
        base = self._next if self._next is not None and now - self._next < 0.2 else now
        self._next = base + FRAME_SECONDS


class _SendTrack(MediaStreamTrack):
    """Shared by our sending tracks: pts bookkeeping and mute (silence, stream kept)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        #: Muted: frames keep flowing (the far side's jitter buffer and stats stay sane) but
        #: carry silence.
        self.muted = False
        #: Samples mixed into what we send (in-band DTMF), heard by the far side even while
        #: muted, as on a desk phone.
        self._inject = np.zeros(0, dtype=np.float32)

    def inject(self, samples: np.ndarray) -> None:
        """Mix ``samples`` into the next frames we send (after anything already queued)."""
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._inject = np.concatenate([self._inject, data])

    def _emit(self, samples: np.ndarray) -> av.AudioFrame:
        if self.muted:
            samples = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        if len(self._inject):
            take = self._inject[:FRAME_SAMPLES]
            self._inject = self._inject[FRAME_SAMPLES:]
            samples = samples.astype(np.float32, copy=True)
            samples[: len(take)] += take
            np.clip(samples, -1.0, 1.0, out=samples)
        frame = _frame(samples, self._pts)
        self._pts += FRAME_SAMPLES
        return frame


class MicrophoneTrack(_SendTrack):
    """Frames from a ``SampleFifo`` that the capture callback fills."""

    def __init__(self, fifo: SampleFifo) -> None:
        super().__init__()
        self.fifo = fifo
        self._clock = _Clock()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        samples = None
        if self.fifo.live:
            # Wait for the device up to one frame past the pace; later means no data.
            timeout = self._clock.deadline() + FRAME_SECONDS - time.monotonic()
            samples = await self.fifo.read_wait(FRAME_SAMPLES, max(timeout, 0.0))
        if samples is None:
            await self._clock.tick()
            samples = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        else:
            self._clock.reset()
            # Keep capture latency bounded: at most one frame queued behind us (more only
            # builds up when the loop was late, and would stay as added delay).
            self.fifo.trim(FRAME_SAMPLES)
        return self._emit(samples)


class ToneTrack(_SendTrack):
    """A clocked synthetic sine (tests, a "test call" button, the benchmark).

    ``frequency`` can change mid-call; ``samples`` replaces the sine with a fixed signal
    that is sent once (then silence), which the latency benchmark uses for clicks.
    """

    def __init__(self, frequency: float = 1000.0, amplitude: float = 0.5) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self._phase = 0.0
        self._clock = _Clock()
        self._queued: list[np.ndarray] = []
        #: Called with (pts, monotonic time) when a frame leaves, for latency measurement.
        self.on_frame: Callable[[int, float], None] | None = None

    def send_once(self, samples: np.ndarray) -> None:
        """Send ``samples`` (any length) instead of the sine, starting with the next frame."""
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        pad = (-len(data)) % FRAME_SAMPLES
        data = np.concatenate([data, np.zeros(pad, dtype=np.float32)])
        self._queued.extend(np.split(data, len(data) // FRAME_SAMPLES))

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._clock.tick()
        if self._queued:
            samples = self._queued.pop(0)
        elif self.frequency <= 0:
            samples = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        else:
            step = 2 * np.pi * self.frequency / SAMPLE_RATE
            phases = self._phase + step * np.arange(FRAME_SAMPLES)
            self._phase = float((self._phase + step * FRAME_SAMPLES) % (2 * np.pi))
            samples = (self.amplitude * np.sin(phases)).astype(np.float32)
        if self.on_frame is not None:
            self.on_frame(self._pts, time.monotonic())
        return self._emit(samples)


def frame_to_mono(frame: av.AudioFrame, resampler: av.AudioResampler) -> np.ndarray:
    """Any decoded frame -> mono float32 at 48 kHz (Opus decodes to stereo s16)."""
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(parts).astype(np.float32) / 32768.0


class TrackReader:
    """Pulls a remote track on the loop and hands mono 48 kHz blocks to ``sink``.

    ``sink`` runs on the loop and must be quick (a FIFO write, a list append). ``enabled``
    False discards audio (hold) without stopping the pull, so aiortc's queue stays empty.
    """

    def __init__(self, track: MediaStreamTrack, sink: Callable[[np.ndarray], None]) -> None:
        self.track = track
        self.sink = sink
        self.enabled = True
        self.frames = 0
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            try:
                frame = await self.track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue  # an audio track yields audio frames; anything else is not for us
            samples = frame_to_mono(frame, self._resampler)
            self.frames += 1
            if self.enabled:
                self.sink(samples)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
