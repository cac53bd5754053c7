"""A bounded, thread-safe sample FIFO between PortAudio's callback thread and the event loop.

PortAudio calls us on its own real-time thread. That thread must never wait for the event
loop (a late callback is an audible click) and the loop must never wait for it (the UI would
stall). So both sides only take a short lock to copy samples in or out; the loop side can
also ``await`` data, woken with ``call_soon_threadsafe`` (no ``add_reader``: Windows'
proactor loop has none). A full FIFO drops its *oldest* samples: for live voice a bounded
delay is better than a growing one when two clocks drift apart.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import numpy as np

__all__ = ["SampleFifo"]


class SampleFifo:
    """Mono float32 samples; ``write`` from any thread, ``read``/``read_wait`` from the loop
    (``read`` also from the PortAudio thread: it never blocks)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._chunks: deque[np.ndarray] = deque()
        self._size = 0
        self._lock = threading.Lock()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None], int] | None = None
        #: Samples thrown away because the reader fell behind (a clock-drift/latency signal).
        self.dropped = 0
        #: Reads that found too little (an audible gap once audio has started) and samples
        #: written so far.
        self.underruns = 0
        self.written = 0
        #: False once the producer is gone (no device, device lost): readers stop waiting.
        self.live = True

    def __len__(self) -> int:
        return self._size

    def write(self, samples: np.ndarray) -> None:
        """Append samples (copied); drop the oldest beyond ``capacity``."""
        data = np.array(samples, dtype=np.float32, copy=True).reshape(-1)
        wake = None
        with self._lock:
            self._chunks.append(data)
            self._size += len(data)
            self.written += len(data)
            excess = self._size - self.capacity
            if excess > 0:
                self._discard(excess)
                self.dropped += excess
            if self._waiter is not None and self._size >= self._waiter[2]:
                wake = self._waiter
                self._waiter = None
        if wake is not None:
            loop, future, _ = wake
            loop.call_soon_threadsafe(_resolve, future)

    def read(self, count: int) -> np.ndarray | None:
        """Exactly ``count`` samples, or None if fewer are buffered (nothing is taken)."""
        with self._lock:
            if self._size < count:
                return None
            return self._take(count)

    def read_available(self, count: int) -> np.ndarray:
        """Up to ``count`` samples, zero-padded at the end: what an output callback needs."""
        out = np.zeros(count, dtype=np.float32)
        with self._lock:
            got = self._take(min(count, self._size))
            if len(got) < count and self.written:
                self.underruns += 1
        out[: len(got)] = got
        return out

    def trim(self, keep: int) -> int:
        """Drop the oldest samples so at most ``keep`` remain; returns how many went."""
        with self._lock:
            excess = max(self._size - keep, 0)
            self._discard(excess)
            self.dropped += excess
            return excess

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._size = 0

    def close(self) -> None:
        """The producer is gone: wake a waiting reader so it can fall back to silence."""
        self.live = False
        with self._lock:
            wake, self._waiter = self._waiter, None
        if wake is not None:
            wake[0].call_soon_threadsafe(_resolve, wake[1])

    async def read_wait(self, count: int, within: float) -> np.ndarray | None:
        """Wait up to ``within`` s for ``count`` samples; None if they did not come."""
        data = self.read(count)
        if data is not None or not self.live:
            return data
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._size >= count:
                return self._take(count)
            self._waiter = (loop, future, count)
        try:
            async with asyncio.timeout(within):
                await future
        except TimeoutError:
            pass
        finally:
            with self._lock:
                if self._waiter is not None and self._waiter[1] is future:
                    self._waiter = None
        return self.read(count)

    # --- Internals (lock held) ---------------------------------------------------------

    def _take(self, count: int) -> np.ndarray:
        parts: list[np.ndarray] = []
        need = count
        while need:
            head = self._chunks[0]
            if len(head) <= need:
                parts.append(self._chunks.popleft())
                need -= len(head)
            else:
                parts.append(head[:need])
                self._chunks[0] = head[need:]
                need = 0
        self._size -= count
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _discard(self, count: int) -> None:
        if count > 0:
            self._take(count)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
