"""baresip calls a Sigphone user through the gateway (INVITE to sip:ACCOUNT@gateway)."""

from __future__ import annotations

from typing import Any

from sigphone.media.call_audio import CallAudio
from sigphone.protocol.call_payloads import DtmfMessage, read_call_message, read_invite_extra

from ..support.media_helpers import Collected
from ..support.waiting import until
from .calls import Events, tone_media
from .test_outbound_baresip import _has

CALLER_NUMBER = "+4940222"


def _dtmf(events: Events) -> str:
    digits = (read_call_message(extra) for name, extra in events.seen if name == "msg")
    return "".join(m.digits for m in digits if isinstance(m, DtmfMessage))


async def _ring_bob(login: Any, *, accept: bool) -> tuple[list[Any], Collected, list[Any]]:
    bob = await login("bob")
    calls: list[Any] = []
    medias: list[CallAudio] = []
    heard = Collected()

    async def on_invite_received(call: Any) -> None:
        media = tone_media(1000.0, heard)
        events = Events(call, media)
        calls.append((call, events))
        medias.append(media)
        if accept:
            await events.accept()

    bob.on_invite_received = on_invite_received
    return calls, heard, medias


async def test_sip_phone_calls_a_sigphone_user(server, gateway, baresip, login):
    gw = await gateway()
    calls, heard, medias = await _ring_bob(login, accept=True)
    phone = await baresip(user=CALLER_NUMBER, answer="manual", tone_hz=600)
    await phone.command("dial", f"sip:bob@127.0.0.1:{gw.config.port}")

    await until(lambda: phone.event("CALL_ESTABLISHED") is not None, 20)
    call, _events = calls[0]
    # It rang as an ordinary call from the gateway, with the SIP caller's number.
    assert call.direction == "in" and call.peer == gw.config.account
    assert read_invite_extra(call.extra).src_num == CALLER_NUMBER
    assert "CALL_RINGING" in phone.types()  # 180 once bob's client had the invite

    # Audio both ways: baresip's 600 Hz at bob, bob's 1 kHz in baresip's recording.
    await until(lambda: heard.has_tone(600.0), 20)
    await until(lambda: _has(phone.recording(), phone.recording_rate, 1000.0), 20)
    assert gw.live == 1 and server.calls.live == 1

    # Keys pressed on the SIP phone (RFC 4733) reach bob as on_invite_msg DTMF.
    await phone.command("sndcode", "7*")
    await until(lambda: _dtmf(calls[0][1]) == "7*", 20)

    await phone.command("hangup")
    await until(lambda: "end_by_peer" in calls[0][1].names(), 20)
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    for media in medias:
        await media.close()


async def test_sigphone_user_hangs_up_a_sip_call(server, gateway, baresip, login):
    gw = await gateway()
    calls, _heard, medias = await _ring_bob(login, accept=True)
    phone = await baresip(user=CALLER_NUMBER, answer="manual")
    await phone.command("dial", f"sip:bob@127.0.0.1:{gw.config.port}")
    await until(lambda: phone.event("CALL_ESTABLISHED") is not None, 20)
    await calls[0][0].channel_invite_end()
    await until(lambda: phone.event("CALL_CLOSED") is not None, 20)
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    for media in medias:
        await media.close()


async def test_sigphone_user_refuses_a_sip_call(server, gateway, baresip, login):
    gw = await gateway()
    calls, _heard, medias = await _ring_bob(login, accept=False)
    phone = await baresip(user=CALLER_NUMBER, answer="manual")
    await phone.command("dial", f"sip:bob@127.0.0.1:{gw.config.port}")
    await until(lambda: bool(calls), 20)
    await calls[0][0].channel_invite_refuse()
    await medias[0].close()
    await until(lambda: phone.event("CALL_CLOSED") is not None, 20)
    assert "603" in phone.event("CALL_CLOSED").get("param", "")
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)


async def test_sip_caller_cancels_while_ringing(server, gateway, baresip, login):
    gw = await gateway()
    calls, _heard, medias = await _ring_bob(login, accept=False)
    phone = await baresip(user=CALLER_NUMBER, answer="manual")
    await phone.command("dial", f"sip:bob@127.0.0.1:{gw.config.port}")
    await until(lambda: "CALL_RINGING" in phone.types(), 20)
    await phone.command("hangup")  # CANCEL
    await until(lambda: bool(calls) and "end_by_peer" in calls[0][1].names(), 20)
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    for media in medias:
        await media.close()
