"""Voice for one SDK ``Call``: offer/answer over the call's signaling, audio on and off.

The SDP travels inside the call itself (docs/media.md):

- the caller's offer: in the invite's ``extra`` JSON, key ``"sdp"`` (``channel_invite_user2``);
- the callee's answer: in ``channel_invite_accept``'s extra, JSON ``{"sdp": ...}``;
- anything later (renegotiation): ``channel_invite_msg`` text
  ``{"type": "sdp", "kind": "offer" | "answer", "sdp": ...}``, arriving in ``on_invite_msg``.

Both descriptions are complete (aiortc gathers before it answers), so there is no trickle.
The role follows the Call: ``direction == "out"`` offers, ``"in"`` answers.

This class hooks the Call's callbacks by wrapping the ones already set (set yours first, or
call ``on_accepted``/``on_msg``/``on_end`` from your own). It never imports Qt: the GUI's
bridge turns ``on_event`` into a signal.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from ..sdk.call import Call
from ..sdk.callbacks import invoke
from .audio_io import AudioIO
from .engine import MediaConfig, MediaEngine
from .stats import CallStats
from .tones import RINGBACK, RINGTONE, dtmf
from .tracks import TrackReader

__all__ = ["SDP_KEY", "CallAudio", "MediaEvent"]

log = logging.getLogger("sigphone.media")

#: Key of the SDP in the invite's and the accept's extra JSON.
SDP_KEY = "sdp"
#: ``type`` of an on_invite_msg JSON that carries SDP (DTMF uses "dtmf").
MSG_TYPE = "sdp"
#: The SDK's limit on an extra (docs/calls.md).
EXTRA_LIMIT = 8192

EventKind = Literal["connecting", "connected", "failed", "ended", "no-media", "no-audio-device"]


@dataclass(frozen=True)
class MediaEvent:
    kind: EventKind
    message: str = ""


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dumps(value: dict[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"))
    if len(text) > EXTRA_LIMIT:
        raise ValueError(
            f"the SDP does not fit a call's extra ({len(text)} > {EXTRA_LIMIT} characters): "
            "limit MediaConfig.host_addresses to fewer interfaces"
        )
    return text


class CallAudio:
    """Media for one call. Give it ``audio`` (the app's AudioIO) for the microphone and
    speaker, or ``source`` and ``sink`` for synthetic audio (tests, benchmarks).

    ``tones`` plays ringback to a caller while the far phone rings and the ringtone to a
    callee until it answers, through the same mixer as the call.
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
        self.call: Call | None = None
        self.reader: TrackReader | None = None
        self.events: list[MediaEvent] = []
        self._audio_started = False
        self._output_started = False
        self._tone: int | None = None
        self._closed = False
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- Setting up ---------------------------------------------------------------------

    @classmethod
    async def dial(
        cls, session: Any, channel: str, peer: str, extra: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[Call, CallAudio]:
        """Caller in one step: offer, ``channel_invite_user2``, attach."""
        media = cls(**kw)
        text = await media.offer_extra(extra)
        try:
            call = await session.channel_invite_user2(channel, peer, text)
        except BaseException:
            await media.close()
            raise
        media.attach(call)
        return call, media

    async def offer_extra(self, extra: dict[str, Any] | str | None = None) -> str:
        """Caller, before the invite: ``extra`` (JSON object or dict) plus our offer."""
        fields = _loads(extra) if isinstance(extra, str) else dict(extra or {})
        fields[SDP_KEY] = await self.engine.create_offer()
        return _dumps(fields)

    def attach(self, call: Call) -> None:
        """Follow ``call``: caller side right after the invite returns, callee side inside
        ``on_invite_received``."""
        self.call = call
        _chain(call, "on_invite_received_by_peer", self.on_ringing)
        _chain(call, "on_invite_accepted_by_peer", self.on_accepted)
        _chain(call, "on_invite_msg", self.on_msg, only_unhandled=True)
        for name in (
            "on_invite_failed",
            "on_invite_refused_by_peer",
            "on_invite_end_by_peer",
            "on_invite_end_by_myself",
        ):
            _chain(call, name, self.on_end)
        if call.direction == "in":
            if SDP_KEY not in _loads(call.extra):
                self._event(MediaEvent("no-media", "the caller offered no audio"))
            self._start_tone(RINGTONE.period())

    async def accept(self, extra: dict[str, Any] | None = None) -> None:
        """Callee: answer the offer and accept the call with the answer in its extra."""
        call = self._need_call()
        await call.channel_invite_accept(await self.answer_extra(extra))

    async def refuse(self, extra: str = "") -> None:
        """Callee: refuse the call and release the media (the SDK gives the callee no event
        for its own refusal, so refuse through here or call ``close``)."""
        await self._need_call().channel_invite_refuse(extra)
        await self.on_end()

    async def answer_extra(self, extra: dict[str, Any] | None = None) -> str:
        """Callee: the accept's extra with our answer (for apps that accept themselves)."""
        call = self._need_call()
        self._stop_tone()
        fields = dict(extra or {})
        offer = _loads(call.extra).get(SDP_KEY)
        if isinstance(offer, str):
            fields[SDP_KEY] = await self.engine.accept_offer(offer)
            self._spawn(self._start_audio())
        return _dumps(fields)

    # --- Call events (chained onto the Call's callbacks) ------------------------------

    def on_ringing(self, _extra: str = "") -> None:
        if self.call is not None and self.call.direction == "out":
            self._start_tone(RINGBACK.period())

    async def on_accepted(self, extra: str) -> None:
        self._stop_tone()
        answer = _loads(extra).get(SDP_KEY)
        if not isinstance(answer, str):
            self._event(MediaEvent("no-media", "the callee answered without audio"))
            return
        try:
            await self.engine.accept_answer(answer)
        except Exception as exc:  # a broken answer: say so instead of a silent call
            log.warning("bad SDP answer: %s", exc)
            self._event(MediaEvent("failed", f"bad SDP answer from the callee: {exc}"))
            return
        self._spawn(self._start_audio())

    async def on_msg(self, extra: str) -> bool:
        """Handle SDP sent with channel_invite_msg; False for anything else (DTMF, app
        messages), which the chained application callback then gets."""
        msg = _loads(extra)
        if msg.get("type") != MSG_TYPE or not isinstance(msg.get(SDP_KEY), str):
            return False
        if msg.get("kind") == "offer":
            answer = await self.engine.accept_offer(msg[SDP_KEY])
            reply = {"type": MSG_TYPE, "kind": "answer", SDP_KEY: answer}
            await self._need_call().channel_invite_msg(_dumps(reply))
        elif msg.get("kind") == "answer":
            await self.engine.accept_answer(msg[SDP_KEY])
        return True

    async def renegotiate(self) -> None:
        """Send a new offer over ``channel_invite_msg``; the answer comes back the same way."""
        offer = await self.engine.create_offer()
        msg = {"type": MSG_TYPE, "kind": "offer", SDP_KEY: offer}
        await self._need_call().channel_invite_msg(_dumps(msg))

    async def on_end(self, _extra: str = "") -> None:
        await self.close()
        self._event(MediaEvent("ended"))

    # --- During the call ----------------------------------------------------------------

    @property
    def muted(self) -> bool:
        return bool(getattr(self.source, "muted", False))

    def mute(self, on: bool = True) -> None:
        """Send silence (the RTP stream keeps flowing, so unmuting is instant)."""
        self.source.muted = on  # type: ignore[union-attr]

    def hold(self, on: bool = True) -> None:
        """Local hold: we send silence and drop what arrives; the connection stays up.
        (No SDP sendonly renegotiation: both ends are ours and this needs no round trip.)"""
        self.mute(on)
        if self.reader is not None:
            self.reader.enabled = not on

    async def send_dtmf(self, digits: str) -> None:
        """DTMF over signaling (channelInviteDTMF), with local key feedback in the mixer."""
        if self.audio is not None:
            for d in digits:
                self.audio.play_tone(dtmf(d, 0.08, 0.3))
        await self._need_call().channel_invite_dtmf(digits)

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

    # --- Internals ------------------------------------------------------------------------

    def _need_call(self) -> Call:
        if self.call is None:
            raise RuntimeError("CallAudio.attach(call) first")
        return self.call

    async def _start_audio(self) -> None:
        if self.audio is None or self._audio_started or self._closed:
            return
        self._audio_started = True
        await self.audio.start(capture=True)
        if self.audio.status is not None:
            self._event(MediaEvent("no-audio-device", self.audio.status))

    def _start_tone(self, period: np.ndarray) -> None:
        if not self.tones or self.audio is None or self._tone is not None:
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


def _chain(call: Call, name: str, ours: Callable[[str], Any], only_unhandled: bool = False) -> None:
    """Run ``ours`` then the callback already on ``call`` (the app's). With
    ``only_unhandled`` the app's runs only when ours returns False."""
    previous = getattr(call, name)

    async def both(extra: str) -> None:
        result = ours(extra)
        if asyncio.iscoroutine(result):
            result = await result
        if only_unhandled and result:
            return
        await invoke(previous, extra)

    setattr(call, name, both)
