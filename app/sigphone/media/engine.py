"""The media engine: one aiortc peer connection carrying one audio track each way.

ICE + DTLS-SRTP + Opus, negotiated by one offer and one answer. aiortc gathers every
candidate inside ``setLocalDescription`` (no trickle), so each description we hand out is
complete: one message each way over the signaling call is enough, and the signaling server
never sees media. The engine knows nothing of calls or of the signaling SDK; ``CallAudio``
(call_audio.py) carries its SDP over a Call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription

from . import ice, jitter
from .stats import CallStats, from_report

__all__ = ["IceServer", "MediaConfig", "MediaEngine"]

log = logging.getLogger("sigphone.media")

ice.install()


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server (settings), e.g. ``IceServer("stun:stun.example.org:3478")``."""

    urls: str
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class MediaConfig:
    """How calls set up media. The defaults suit loopback and a LAN."""

    #: None of them by default: no packet leaves for a public STUN server unless configured
    #: (aiortc would otherwise add Google's). Across NATs configure STUN and TURN here.
    ice_servers: tuple[IceServer, ...] = ()
    #: Local addresses offered as host candidates; None: every interface (aioice's choice,
    #: loopback excluded). Tests and same-machine demos use ``ice.LOOPBACK``.
    host_addresses: Sequence[str] | None = None
    #: Receive jitter-buffer prefetch in 20 ms frames (jitter.py); None keeps aiortc's 4
    #: (~80 ms). 1 measured 21 ms encoder-to-decoder on loopback (docs/media.md); network
    #: jitter is then absorbed by the playout queue in AudioIO. Use None across the internet.
    jitter_prefetch: int | None = 1
    #: Offer Opus only. The SIP gateway will want G.711 too; a softphone-to-softphone call
    #: never does.
    opus_only: bool = True

    def rtc_configuration(self) -> RTCConfiguration:
        return RTCConfiguration(
            iceServers=[RTCIceServer(s.urls, s.username, s.credential) for s in self.ice_servers]
        )


class MediaEngine:
    """One call's peer connection; ``source`` is what we send (microphone or a tone).

    ``on_track(track)`` fires with the far side's audio; ``on_state(state)`` with aiortc's
    connection state ("connecting", "connected", "failed", "closed").
    """

    def __init__(
        self,
        source: MediaStreamTrack,
        config: MediaConfig | None = None,
        on_track: Callable[[MediaStreamTrack], Any] | None = None,
        on_state: Callable[[str], Any] | None = None,
    ) -> None:
        self.config = config or MediaConfig()
        self.source = source
        self.on_track = on_track
        self.on_state = on_state
        self.remote_track: MediaStreamTrack | None = None
        self.pc = RTCPeerConnection(self.config.rtc_configuration())
        self._answer: str | None = None
        self._lock = asyncio.Lock()  # one negotiation at a time
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def state(self) -> str:
        return self.pc.connectionState

    # --- Negotiation ------------------------------------------------------------------

    async def create_offer(self) -> str:
        """Caller: the complete offer SDP (all candidates gathered)."""
        async with self._lock:
            if not self.pc.getTransceivers():
                self._add_source()
            await self._set_local(await self.pc.createOffer())
            return self.pc.localDescription.sdp

    async def accept_offer(self, sdp: str) -> str:
        """Callee (or either side on renegotiation): apply an offer, return the answer SDP."""
        async with self._lock:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            if self._sender() is None:
                self._add_source()
            self._tune_receivers()
            await self._set_local(await self.pc.createAnswer())
            self._answer = self.pc.localDescription.sdp
            return self._answer

    async def accept_answer(self, sdp: str) -> None:
        """Caller: apply the callee's answer; ICE and DTLS start now."""
        async with self._lock:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
            self._answer = sdp
            self._tune_receivers()

    @property
    def codec(self) -> str | None:
        """The negotiated codec, e.g. "opus/48000/2" (the answer's first audio codec)."""
        if self._answer is None:
            return None
        for media in SessionDescription.parse(self._answer).media:
            if media.kind == "audio" and media.rtp.codecs:
                c = media.rtp.codecs[0]
                name = c.mimeType.split("/", 1)[1].lower()
                return f"{name}/{c.clockRate}" + (f"/{c.channels}" if c.channels else "")
        return None

    # --- During the call --------------------------------------------------------------

    async def stats(self) -> CallStats:
        return from_report(await self.pc.getStats(), self.codec)

    async def close(self) -> None:
        await self.pc.close()

    # --- Internals ----------------------------------------------------------------------

    def _add_source(self) -> None:
        self.pc.addTrack(self.source)
        if self.config.opus_only:
            caps = RTCRtpSender.getCapabilities("audio").codecs
            opus = [c for c in caps if c.mimeType.lower() == "audio/opus"]
            for t in self.pc.getTransceivers():
                if t.kind == "audio":
                    t.setCodecPreferences(opus)
        self._tune_receivers()

    def _sender(self) -> RTCRtpSender | None:
        for t in self.pc.getTransceivers():
            if t.kind == "audio" and t.sender.track is not None:
                return t.sender
        return None

    async def _set_local(self, description: RTCSessionDescription) -> None:
        with ice.host_addresses(self.config.host_addresses):
            await self.pc.setLocalDescription(description)

    def _tune_receivers(self) -> None:
        prefetch = self.config.jitter_prefetch
        if prefetch is None:
            return
        for t in self.pc.getTransceivers():
            if t.kind == "audio":
                jitter.set_prefetch(t.receiver, prefetch)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio":
            return
        self.remote_track = track
        if self.on_track is not None:
            self.on_track(track)

    def _on_state(self) -> None:
        state = self.pc.connectionState
        log.info("media connection %s", state)
        if self.on_state is not None:
            self.on_state(state)
