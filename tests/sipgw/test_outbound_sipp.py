"""Outbound calls whose far end is sipp: every SIP outcome maps to the seed event and code
on the caller (docs/sip-gateway.md, "SIP response -> seed code"), and From carries srcNum
(each scenario fails unless From matches ``sip:+4940111@``)."""

from __future__ import annotations

import pytest

from sigphone.protocol.errors import ErrorCode

from ..support.media_helpers import Collected
from ..support.waiting import until
from .calls import dial
from .test_outbound_baresip import SRC


@pytest.mark.parametrize(
    ("status", "event", "ecode"),
    [
        (486, "refused_by_peer", None),
        (603, "refused_by_peer", None),
        (600, "refused_by_peer", None),
        (404, "failed", ErrorCode.INVITE_E_PEEROFFLINE),
        (480, "failed", ErrorCode.INVITE_E_PEEROFFLINE),
        (408, "failed", ErrorCode.INVITE_E_TIMEOUT),
        (500, "failed", ErrorCode.INVITE_E_OTHER),
    ],
)
async def test_final_answer_maps_to_seed_event(server, gateway, login, sipp, status, event, ecode):
    peer = await sipp("answer_with.xml", {"[code]": str(status)})
    gw = await gateway(trunk=f"sip:127.0.0.1:{peer.port}")
    alice = await login("alice")
    _call, media, events = await dial(alice, "+4930123", SRC, Collected(), 1000.0)
    await until(lambda: event in events.names(), 30)
    # The far phone rang first (180): the caller heard it before the outcome.
    assert events.names() == ["received_by_peer", event]
    extra = events.extra(event)
    assert extra.get("sip") == status
    assert extra.get("ecode") == ecode
    assert await peer.wait() == 0, peer.errors()
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    await media.close()


async def test_no_answer_is_cancelled_and_fails_704(server, gateway, login, sipp):
    peer = await sipp("ring_until_cancel.xml")
    gw = await gateway(trunk=f"sip:127.0.0.1:{peer.port}", no_answer_timeout=1.0)
    alice = await login("alice")
    _call, media, events = await dial(alice, "+4930123", SRC, Collected(), 1000.0)
    await until(lambda: "failed" in events.names(), 30)
    assert events.names() == ["received_by_peer", "failed"]
    assert events.extra("failed")["ecode"] == ErrorCode.INVITE_E_TIMEOUT
    assert await peer.wait() == 0, peer.errors()  # it got the CANCEL and answered 487
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    await media.close()


async def test_caller_cancels_while_ringing(server, gateway, login, sipp):
    peer = await sipp("ring_until_cancel.xml")
    gw = await gateway(trunk=f"sip:127.0.0.1:{peer.port}")
    alice = await login("alice")
    call, media, events = await dial(alice, "+4930123", SRC, Collected(), 1000.0)
    await until(lambda: "received_by_peer" in events.names(), 30)
    await call.channel_invite_end()
    assert await peer.wait() == 0, peer.errors()  # CANCEL reached it
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    assert events.names() == ["received_by_peer", "end_by_myself"]
    await media.close()


async def test_dtmf_falls_back_to_sip_info_without_telephone_event(server, gateway, login, sipp):
    peer = await sipp("answer_without_telephone_event.xml", None, "-trace_msg")
    gw = await gateway(trunk=f"sip:127.0.0.1:{peer.port}")
    alice = await login("alice")
    call, media, events = await dial(alice, "+4930123", SRC, Collected(), 1000.0)
    await until(lambda: "accepted_by_peer" in events.names(), 30)
    await call.channel_invite_dtmf("5")  # the scenario fails unless INFO carries Signal=5
    await until(lambda: _info_answered(peer), 30)
    await call.channel_invite_end()
    assert await peer.wait() == 0, peer.errors()  # INFO, then our BYE
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
    await media.close()


def _info_answered(peer) -> bool:
    """sipp's message log shows it has answered the INFO (it traces with -trace_msg)."""
    log = peer.folder / next((p.name for p in peer.folder.glob("*_messages.log")), "none")
    return log.exists() and "INFO sip:" in log.read_text(errors="replace")
