"""A Sigphone SDK user calls a number; baresip is the phone at the far end of the trunk."""

from __future__ import annotations

import numpy as np

from sigphone.media.tones import tone_fraction

from ..support.media_helpers import Collected
from ..support.waiting import until
from .calls import dial

NUMBER = "+4930123"
SRC = "+4940111"


def _has(rec: np.ndarray, rate: int, hz: float) -> bool:
    """Some 100 ms window of the recording is clearly ``hz`` (Goertzel)."""
    step = rate // 10
    return any(
        tone_fraction(rec[i : i + step], hz, rate) > 0.8 for i in range(0, len(rec) - step, step)
    )


async def test_sdk_user_calls_a_number_and_hangs_up(server, gateway, baresip, login):
    phone = await baresip(user="+4930123", tone_hz=600)
    gw = await gateway(trunk=f"sip:127.0.0.1:{phone.sip_port}")
    alice = await login("alice")
    heard = Collected()
    call, media, events = await dial(alice, NUMBER, SRC, heard, 1000.0)

    await until(lambda: "accepted_by_peer" in events.names(), 20)
    await until(lambda: phone.event("CALL_ESTABLISHED") is not None, 20)
    assert events.names()[:2] == ["received_by_peer", "accepted_by_peer"]
    # The far phone sees srcNum as the caller.
    established = phone.event("CALL_ESTABLISHED")
    assert SRC in established.get("peeruri", ""), established

    # DTMF from the SDK arrives at baresip as RFC 4733 telephone-events.
    await call.channel_invite_dtmf("123#")
    await until(lambda: phone.dtmf() == "123#", 20)

    # baresip's 600 Hz tone is heard on the Sigphone side, our 1 kHz tone at baresip.
    await until(lambda: heard.has_tone(600.0), 20)
    await until(lambda: _has(phone.recording(), phone.recording_rate, 1000.0), 20)
    assert server.calls.live == 1 and gw.live == 1

    await call.channel_invite_end()
    await until(lambda: phone.event("CALL_CLOSED") is not None, 20)
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    assert events.names()[-1] == "end_by_myself"
    await media.close()


async def test_far_phone_hangs_up(server, gateway, baresip, login):
    phone = await baresip(user="+4930123")
    gw = await gateway(trunk=f"sip:127.0.0.1:{phone.sip_port}")
    alice = await login("alice")
    _call, media, events = await dial(alice, NUMBER, None, Collected(), 1000.0)
    await until(lambda: phone.event("CALL_ESTABLISHED") is not None, 20)
    await until(lambda: "accepted_by_peer" in events.names(), 20)
    # Without srcNum the caller's account is the From.
    assert "sip:alice@" in phone.event("CALL_ESTABLISHED").get("peeruri", "")
    await phone.command("hangup")
    await until(lambda: "end_by_peer" in events.names(), 20)
    assert events.extra("end_by_peer").get("sip") is not None
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    await media.close()


async def test_g722_when_the_far_phone_offers_only_that(server, gateway, baresip, login):
    phone = await baresip(user="+4930123", codecs="G722/16000/1", tone_hz=600)
    gw = await gateway(trunk=f"sip:127.0.0.1:{phone.sip_port}")
    alice = await login("alice")
    heard = Collected()
    call, media, events = await dial(alice, NUMBER, SRC, heard, 1000.0)
    await until(lambda: "accepted_by_peer" in events.names(), 20)
    await until(lambda: any(b.sip is not None and b.sip.codec for b in gw.calls), 20)
    assert next(iter(gw.calls)).sip.codec == "G722/16000"
    await until(lambda: heard.has_tone(600.0), 20)
    await until(lambda: _has(phone.recording(), phone.recording_rate, 1000.0), 20)
    await call.channel_invite_end()
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    await media.close()
