"""Helpers for the media tests: collecting received audio and checking its tones."""

from __future__ import annotations

import numpy as np

from sigphone.media.tones import tone_fraction


class Collected:
    """A sink for TrackReader/CallAudio: keeps every block the far side delivered."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []

    def __call__(self, samples: np.ndarray) -> None:
        self.blocks.append(samples)

    def __len__(self) -> int:
        return len(self.blocks)

    def tail(self, blocks: int = 10) -> np.ndarray:
        if not self.blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.blocks[-blocks:])

    def has_tone(self, frequency: float, blocks: int = 10) -> bool:
        """The last ``blocks`` (20 ms each) are clearly ``frequency``."""
        tail = self.tail(blocks)
        return len(tail) > 0 and tone_fraction(tail, frequency) > 0.9

    def silent(self, blocks: int = 10) -> bool:
        tail = self.tail(blocks)
        return len(tail) > 0 and float(np.max(np.abs(tail))) < 1e-3


# --- Routing an SDK Call to a CallAudio (what the phone's call controller does) ----------


def attach(call, media, app_msg=None) -> None:  # type: ignore[no-untyped-def]
    """Route ``call``'s events to ``media`` explicitly: ringback/ringtone while ringing, the
    answer in the accept, SDP call messages (answered over the call), close on every end.
    Other call messages go to ``app_msg`` (the application's own handler)."""
    from sigphone.protocol.call_payloads import (
        SdpMessage,
        encode_call_message,
        read_accept_sdp,
        read_call_message,
    )

    async def on_msg(extra: str) -> None:
        msg = read_call_message(extra)
        if isinstance(msg, SdpMessage):
            reply = await media.on_call_message(msg)
            if reply is not None:
                await call.channel_invite_msg(encode_call_message(reply))
        elif app_msg is not None:
            app_msg(extra)

    async def on_end(_extra: str = "") -> None:
        await media.close()

    call.on_invite_received_by_peer = lambda _e: media.ringback(True)
    call.on_invite_accepted_by_peer = lambda extra: media.accept_answer(read_accept_sdp(extra))
    call.on_invite_msg = on_msg
    for name in ("failed", "refused_by_peer", "end_by_peer", "end_by_myself"):
        setattr(call, f"on_invite_{name}", on_end)
    if call.direction == "in":
        media.ringtone(True)


def read_invite(call):  # type: ignore[no-untyped-def]
    from sigphone.protocol.call_payloads import read_invite_extra

    return read_invite_extra(call.extra)


async def dial(session, channel: str, peer: str, fields=None, **kw):  # type: ignore[no-untyped-def]
    """Caller in one step: the offer in the invite's extra, the call routed to the media."""
    from sigphone.media.call_audio import CallAudio
    from sigphone.protocol.call_payloads import InviteExtra

    media = CallAudio(**kw)
    fields = dict(fields or {})
    src = fields.pop("srcNum", None)
    extra = InviteExtra(src_num=src, sdp=await media.offer(), other=fields).encode()
    try:
        call = await session.channel_invite_user2(channel, peer, extra)
    except BaseException:
        await media.close()
        raise
    attach(call, media)
    return call, media


async def accept(call, media) -> None:  # type: ignore[no-untyped-def]
    """Callee: answer the invite's offer inside the accept's extra."""
    from sigphone.protocol.call_payloads import encode_accept_extra

    await call.channel_invite_accept(encode_accept_extra(await media.answer(read_invite(call).sdp)))


async def refuse(call, media) -> None:  # type: ignore[no-untyped-def]
    await call.channel_invite_refuse("")
    await media.close()
