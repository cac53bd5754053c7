"""The receive jitter buffer's prefetch: the main latency knob of aiortc audio.

aiortc builds every audio receiver with ``JitterBuffer(capacity=16, prefetch=4)``: a frame is
released only once four later frames have arrived, ~60-80 ms of delay on a quiet network
(measured in docs/media.md). There is no public setting, so ``set_prefetch`` replaces the
receiver's buffer before the first packet arrives. It touches one private attribute; if an
aiortc upgrade renames it, ``set_prefetch`` raises ``RuntimeError`` (never a silent no-op)
and tests/media/test_engine.py fails, so the upgrade cannot go unnoticed.

A smaller prefetch trades tolerance of reordered or bursty packets for delay: 1-2 frames
suits loopback and a LAN; keep aiortc's 4 across the internet.
"""

from __future__ import annotations

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer

__all__ = ["AIORTC_PREFETCH", "get_prefetch", "set_prefetch"]

#: aiortc's own audio prefetch, in frames.
AIORTC_PREFETCH = 4
_ATTR = "_RTCRtpReceiver__jitter_buffer"


def _buffer(receiver: RTCRtpReceiver) -> JitterBuffer:
    buffer = getattr(receiver, _ATTR, None)
    if not isinstance(buffer, JitterBuffer):
        raise RuntimeError(
            "aiortc's RTCRtpReceiver no longer keeps its jitter buffer in "
            f"{_ATTR}: update sigphone.media.jitter for this aiortc version"
        )
    return buffer


def get_prefetch(receiver: RTCRtpReceiver) -> int:
    """The audio receiver's current prefetch, in 20 ms frames."""
    return int(_buffer(receiver)._prefetch)


def set_prefetch(receiver: RTCRtpReceiver, frames: int) -> bool:
    """Give an audio receiver a buffer with ``frames`` of prefetch.

    Returns False (and changes nothing) once packets have arrived: swapping a buffer in use
    would drop audio. Call it right after the transceiver exists.
    """
    if frames < 0:
        raise ValueError("prefetch must be >= 0 frames")
    old = _buffer(receiver)
    if old._prefetch == frames:
        return True
    if old._origin is not None:
        return False
    setattr(receiver, _ATTR, JitterBuffer(capacity=old.capacity, prefetch=frames))
    return True
