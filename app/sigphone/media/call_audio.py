"""Voice for one call: the offer/answer exchange and audio on and off, with no call object.

``CallAudio`` knows nothing of the SDK. Whoever owns the call (the phone's call controller,
a test, the SIP gateway) routes it explicitly, as aiortc's own examples do:

- caller: ``sdp = await media.offer()`` goes into the invite's extra; when the callee
  accepts, ``await media.accept_answer(sdp_from_the_accept)``;
- callee: ``sdp = await media.answer(offer_from_the_invite)`` goes into the accept's extra;
- during the call: every call message (``protocol.call_payloads.read_call_message``) goes to
  ``await media.on_call_message(msg)``; a returned message (an SDP answer to a
  renegotiation offer) is sent back with ``channel_invite_msg``;
- every way a call ends: ``await media.close()``.

Both descriptions are complete (aiortc gathers before it answers), so there is no trickle.
The payload shapes (the ``sdp`` keys, the ``{"type": "sdp", ...}`` message) live in
``sigphone.protocol.call_payloads``; this module only ever sees SDP text. It never imports Qt
nor the SDK (``tests/media/test_layering.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from ..protocol.call_payloads import CallMessage, SdpMessage
from .audio_io import AudioIO
from .engine import MediaConfig, MediaEngine
from .stats import CallStats
from .tones import RINGBACK, RINGTONE, dtmf
from .tracks import TrackReader

__all__ = ["SDP_KEY", "CallAudio", "MediaEvent"]

log = logging.getLogger("sigphone.media")

#: Key of the SDP in the invite's and the accept's extra JSON (protocol.call_payloads).
SDP_KEY = "sdp"

EventKind = Literal["connecting", "connected", "failed", "ended", "no-media", "no-audio-device"]

#: In-band DTMF: each digit's Q.23 pair for 100 ms, then 60 ms of silence.
DTMF_ON, DTMF_OFF = 0.1, 0.06


@dataclass(frozen=True)
class MediaEvent:
    kind: EventKind
    message: str = ""


class CallAudio:
    """Media for one call. Give it ``audio`` (the app's AudioIO) for the microphone and
    speaker, or ``source`` and ``sink`` for synthetic audio (tests, benchmarks).

    ``tones`` lets ``ringback(True)``/``ringtone(True)`` play through the same mixer as the
    call (the softphone plays its tones itself and passes False).
    """

    def __init__(
        self,
        audio: AudioIO | None = None,
        config: MediaConfig | None = None,
        *,
        source: MediaStreamTrack | None = None,
        sink: Callable[[np.ndarray], None] | None = None,
        on_event: Callable[[MediaEvent], Any] | None = None,
        tones: bool = True,
    ) -> None:
        if audio is None and (source is None or sink is None):
            raise ValueError("CallAudio needs an AudioIO, or both a source and a sink")
        self.audio = audio
        self.source = source if source is not None else audio.microphone_track()  # type: ignore[union-attr]
        self.sink = sink if sink is not None else audio.play_voice  # type: ignore[union-attr]
        self.on_event = on_event
        self.tones = tones and audio is not None
        self.engine = MediaEngine(self.source, config, self._on_track, self._on_state)
        self.reader: TrackReader | None = None
        self.events: list[MediaEvent] = []
        self._audio_started = False
        self._output_started = False
        self._tone: int | None = None
        self._closed = False
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- The offer/answer exchange -----------------------------------------------------

    async def offer(self) -> str:
        """Caller, before the invite: our SDP offer (for the invite's ``sdp`` key)."""
        return await self.engine.create_offer()

    async def answer(self, offer: str | None) -> str | None:
        """Callee, when accepting: the SDP answer to the caller's ``offer`` (for the
        accept's ``sdp`` key), and audio starts. None when the caller offered no audio."""
        self._stop_tone()
        if offer is None:
            self._event(MediaEvent("no-media", "the caller offered no audio"))
            return None
        answer = await self.engine.accept_offer(offer)
        self._spawn(self._start_audio())
        return answer

    async def accept_answer(self, sdp: str | None) -> None:
        """Caller, when the callee accepted: apply its answer (None: it has no audio)."""
        self._stop_tone()
        if sdp is None:
            self._event(MediaEvent("no-media", "the callee answered without audio"))
            return
        try:
            await self.engine.accept_answer(sdp)
        except Exception as exc:  # a broken answer: say so instead of a silent call
            log.warning("bad SDP answer: %s", exc)
            self._event(MediaEvent("failed", f"bad SDP answer from the callee: {exc}"))
            return
        self._spawn(self._start_audio())

    async def on_call_message(self, msg: CallMessage) -> CallMessage | None:
        """A message of the connected call. SDP offers are answered (send the returned
        message back over the call), SDP answers applied; anything else (DTMF, hold, the
        application's text) is not media's business and gives None."""
        if not isinstance(msg, SdpMessage) or self._closed:
            return None
        if msg.kind == "offer":
            return SdpMessage("answer", await self.engine.accept_offer(msg.sdp))
        await self.engine.accept_answer(msg.sdp)
        return None

    async def renegotiate(self) -> SdpMessage:
        """A new offer to send over the call; its answer comes back to ``on_call_message``."""
        return SdpMessage("offer", await self.engine.create_offer())

    # --- Tones of the call (with ``tones``) -------------------------------------------------

    def ringback(self, on: bool = True) -> None:
        """The caller's ringback while the far phone rings."""
        self._start_tone(RINGBACK.period()) if on else self._stop_tone()

    def ringtone(self, on: bool = True) -> None:
        """The callee's ringtone until it answers or refuses."""
        self._start_tone(RINGTONE.period()) if on else self._stop_tone()

    # --- During the call ----------------------------------------------------------------

    @property
    def muted(self) -> bool:
        return bool(getattr(self.source, "muted", False))

    def mute(self, on: bool = True) -> None:
        """Send silence (the RTP stream keeps flowing, so unmuting is instant)."""
        self.source.muted = on  # type: ignore[union-attr]

    def hold(self, on: bool = True) -> None:
        """Hold: we send silence and drop what arrives; the connection stays up. The far
        side is told with a call message (``HoldMessage``) by whoever routes the call."""
        self.mute(on)
        if self.reader is not None:
            self.reader.enabled = not on

    def send_dtmf(self, digits: str) -> None:
        """Play ``digits`` in-band: into what we send, so the far side hears them, and into
        our own speaker as key feedback. (The signaling DTMF, ``channel_invite_dtmf``, is the
        caller's to send: it is what an application reads.)"""
        samples = [dtmf(d, DTMF_ON, 0.3) for d in digits if d in "0123456789*#ABCD"]
        if not samples:
            return
        gap = np.zeros(int(DTMF_OFF * 48_000), dtype=np.float32)
        burst = np.concatenate([part for s in samples for part in (s, gap)])
        inject = getattr(self.source, "inject", None)
        if inject is not None:
            inject(burst)
        if self.audio is not None:
            self.audio.play_tone(burst)

    async def stats(self) -> CallStats:
        return await self.engine.stats()

    async def close(self) -> None:
        """Stop audio and close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop_tone()
        if self.reader is not None:
            await self.reader.stop()
        await self.engine.close()
        self.source.stop()
        # Let pending stream opens finish (cancelling one mid-open would leak the stream).
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.audio is not None and self._audio_started:
            self._audio_started = False
            await self.audio.stop(capture=True)
        if self.audio is not None and self._output_started:
            self._output_started = False
            await self.audio.stop(capture=False)
        self._event(MediaEvent("ended"))

    @property
    def closed(self) -> bool:
        return self._closed

    # --- Internals ------------------------------------------------------------------------

    async def _start_audio(self) -> None:
        if self.audio is None or self._audio_started or self._closed:
            return
        self._audio_started = True
        await self.audio.start(capture=True)
        if self.audio.status is not None:
            self._event(MediaEvent("no-audio-device", self.audio.status))

    def _start_tone(self, period: np.ndarray) -> None:
        if not self.tones or self.audio is None or self._tone is not None or self._closed:
            return
        self._tone = self.audio.play_tone(period, loop=True)
        self._spawn(self._start_audio_output())

    async def _start_audio_output(self) -> None:
        # Tones need the speaker only; the microphone opens with the call.
        if self.audio is not None and not self._closed and not self._output_started:
            self._output_started = True
            await self.audio.start(capture=False)

    def _stop_tone(self) -> None:
        if self._tone is not None and self.audio is not None:
            self.audio.stop_tone(self._tone)
        self._tone = None

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.reader = TrackReader(track, self.sink)

    def _on_state(self, state: str) -> None:
        if state == "connecting":
            self._event(MediaEvent("connecting"))
        elif state == "connected":
            self._event(MediaEvent("connected", self.engine.codec or ""))
        elif state == "failed":
            self._event(MediaEvent("failed", "media connection failed (ICE/DTLS)"))

    def _event(self, event: MediaEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("CallAudio on_event raised")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
