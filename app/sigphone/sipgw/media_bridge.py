"""One call's audio across the gateway: WebRTC/Opus (aiortc) <-> 16-bit PCM at the bridge
rate, which pjsip encodes as G.711 or G.722 RTP.

The WebRTC side is the softphone's own ``MediaEngine`` (ICE, DTLS-SRTP, Opus, the same
jitter tuning), unchanged. Its source is a ``MicrophoneTrack`` whose FIFO the SIP side fills
(so it is paced by pjsip's clock and falls back to clocked silence if SIP audio stops); what
arrives from WebRTC is read by a ``TrackReader`` and queued for pjsip. Resampling both ways is
``av.AudioResampler``: 8 (or 16) kHz mono <-> 48 kHz.

``from_sip`` and ``to_sip`` run on pjsip's clock thread and only touch the two thread-safe
``SampleFifo`` queues and the up-sampler, which no other thread uses.
"""

from __future__ import annotations

import fractions

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from ..media.engine import MediaConfig, MediaEngine
from ..media.fifo import SampleFifo
from ..media.tones import SAMPLE_RATE, to_int16
from ..media.tracks import MicrophoneTrack, TrackReader

__all__ = ["MediaBridge"]

#: Audio queued for pjsip beyond this is dropped (oldest first): a bounded delay when the
#: two clocks (aiortc's pacing, pjsip's null device) drift. 3 frames = 60 ms.
TO_SIP_KEEP_FRAMES = 3


class MediaBridge:
    """Implements the SIP stack's ``AudioPipe``; ``engine`` is the WebRTC side."""

    def __init__(self, config: MediaConfig, rate: int = 8000) -> None:
        self.rate = rate
        self.frame = rate // 50
        self._to_webrtc = SampleFifo(SAMPLE_RATE // 5)
        self._to_sip = SampleFifo(self.frame * TO_SIP_KEEP_FRAMES)
        self.source = MicrophoneTrack(self._to_webrtc)
        self.engine = MediaEngine(self.source, config, on_track=self._on_track)
        self.reader: TrackReader | None = None
        self._up = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._down = av.AudioResampler(format="s16", layout="mono", rate=rate)
        self._in_pts = 0
        self._out_pts = 0
        self._closed = False
        #: Frames each way (for stats and tests).
        self.frames_from_sip = 0
        self.frames_to_sip = 0

    # --- SIP side (pjsip's clock thread) -------------------------------------------------

    def from_sip(self, pcm: bytes) -> None:
        if self._closed:
            return
        samples = np.frombuffer(pcm, dtype=np.int16)
        frame = _frame(samples, self.rate, self._in_pts)
        self._in_pts += len(samples)
        for out in self._up.resample(frame):
            self._to_webrtc.write(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)
        self.frames_from_sip += 1

    def to_sip(self, size: int) -> bytes:
        samples = self._to_sip.read_available(size // 2)
        self.frames_to_sip += 1
        return to_int16(samples).tobytes()

    # --- WebRTC side (the loop) ------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.reader = TrackReader(track, self._from_webrtc)

    def _from_webrtc(self, samples: np.ndarray) -> None:
        frame = _frame(to_int16(samples), SAMPLE_RATE, self._out_pts)
        self._out_pts += len(samples)
        for out in self._down.resample(frame):
            self._to_sip.write(out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.reader is not None:
            await self.reader.stop()
        await self.engine.close()
        self.source.stop()
        self._to_webrtc.close()


def _frame(samples: np.ndarray, rate: int, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, rate)
    return frame
