"""The Sigphone ends of the gateway tests: SDK calls with synthetic audio (a tone out, what
arrives collected), their SDP routed by hand like the phone's call controller does
(media.call_audio: the call's owner routes the offer and the answer)."""

from __future__ import annotations

import json
from typing import Any

from sigphone.media.call_audio import CallAudio
from sigphone.media.engine import MediaConfig
from sigphone.media.ice import LOOPBACK
from sigphone.media.tracks import ToneTrack
from sigphone.protocol.call_payloads import (
    InviteExtra,
    encode_accept_extra,
    read_accept_sdp,
    read_invite_extra,
)
from sigphone.protocol.calls import CALL_EVENTS

from ..support.media_helpers import Collected

_OVER = {"refused_by_peer", "failed", "end_by_peer", "end_by_myself"}


def tone_media(hz: float, heard: Collected) -> CallAudio:
    return CallAudio(
        None, MediaConfig(host_addresses=LOOPBACK), source=ToneTrack(hz, 0.5), sink=heard,
        tones=False,
    )  # fmt: skip


class Events:
    """Every callback of a Call, in order; the accept's SDP answer goes to ``media``, and
    the media closes with the call."""

    def __init__(self, call: Any, media: CallAudio | None = None) -> None:
        self.call = call
        self.media = media
        self.seen: list[tuple[str, str]] = []
        for name in CALL_EVENTS:
            setattr(call, "on_invite_" + name, self._make(name))

    def _make(self, name: str) -> Any:
        async def record(extra: str) -> None:
            self.seen.append((name, extra))
            if self.media is None:
                return
            if name == "accepted_by_peer":
                await self.media.accept_answer(read_accept_sdp(extra))
            elif name in _OVER:
                await self.media.close()

        return record

    def names(self) -> list[str]:
        return [n for n, _ in self.seen]

    def extra(self, name: str) -> dict[str, Any]:
        return json.loads(next(e for n, e in self.seen if n == name) or "{}")

    async def accept(self) -> None:
        """Callee: answer the invite's offer and accept with the answer."""
        assert self.media is not None
        answer = await self.media.answer(read_invite_extra(self.call.extra).sdp)
        await self.call.channel_invite_accept(encode_accept_extra(answer))


async def dial(session: Any, number: str, src: str | None, heard: Collected, tone_hz: float):
    """Caller: a call to ``number`` with an offer (and ``srcNum``), its audio a tone."""
    media = tone_media(tone_hz, heard)
    extra = InviteExtra(src_num=src, sdp=await media.offer()).encode()
    call = await session.channel_invite_user2("room", number, extra)
    return call, media, Events(call, media)
