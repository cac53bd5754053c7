"""The output mixer: call audio plus local tones into the one output stream.

Windows drivers (and many USB headsets everywhere) do not like two streams on one device, and
two streams would each add their own buffering. So there is exactly one output stream and
its callback asks this mixer for each block: the far side's voice (a ``SampleFifo`` filled by
the event loop) plus every playing tone (DTMF feedback, ringback, ringtone), summed and
clipped. ``mix`` runs on the PortAudio thread; ``play``/``stop`` come from the loop. A short
lock guards the voice list; no allocation-heavy work happens under it.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import numpy as np

from .fifo import SampleFifo

__all__ = ["Mixer"]

#: Far-side voice buffered for the output device: enough to ride out loop hiccups, small
#: enough to keep mouth-to-ear delay down. Beyond it the oldest audio is dropped.
VOICE_CAPACITY = 48_000 * 200 // 1000


@dataclass
class _Voice:
    samples: np.ndarray
    loop: bool
    gain: float
    pos: int = 0


class Mixer:
    """Sums the call's voice and any number of tones; ``mix(n)`` gives the next n samples."""

    def __init__(self) -> None:
        self.voice = SampleFifo(VOICE_CAPACITY)
        self._tones: dict[int, _Voice] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        #: Speaker volume for the far side's voice (0..1; Settings "Speaker volume").
        self.voice_gain = 1.0

    def play(self, samples: np.ndarray, loop: bool = False, gain: float = 1.0) -> int:
        """Start a tone (a ringtone period with ``loop=True``); returns an id for ``stop``."""
        voice = _Voice(np.asarray(samples, dtype=np.float32).reshape(-1), loop, gain)
        with self._lock:
            key = next(self._ids)
            self._tones[key] = voice
        return key

    def stop(self, key: int | None = None) -> None:
        """Stop one tone, or every tone when ``key`` is None (the call's voice keeps going)."""
        with self._lock:
            if key is None:
                self._tones.clear()
            else:
                self._tones.pop(key, None)

    def playing(self, key: int) -> bool:
        with self._lock:
            return key in self._tones

    def mix(self, frames: int) -> np.ndarray:
        """The next ``frames`` samples (float32, clipped to [-1, 1])."""
        out = self.voice.read_available(frames)
        if self.voice_gain != 1.0:
            out *= self.voice_gain
        with self._lock:
            finished = []
            for key, tone in self._tones.items():
                self._add(out, tone)
                if not tone.loop and tone.pos >= len(tone.samples):
                    finished.append(key)
            for key in finished:
                del self._tones[key]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    @staticmethod
    def _add(out: np.ndarray, tone: _Voice) -> None:
        n = len(out)
        total = len(tone.samples)
        if total == 0:
            tone.pos = 0
            return
        done = 0
        while done < n and (tone.loop or tone.pos < total):
            if tone.pos >= total:
                tone.pos = 0
            take = min(n - done, total - tone.pos)
            out[done : done + take] += tone.samples[tone.pos : tone.pos + take] * tone.gain
            tone.pos += take
            done += take
