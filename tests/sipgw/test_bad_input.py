"""Bad input at the SIP edge gets the right SIP answer; the gateway keeps serving and no
call leaks (the gateway's and the server's live call counts return to 0)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ..support.waiting import until

CONTACT = "Contact: <sip:+4940333@[local_ip]:[local_port]>"


def _sdp(payloads: str, *rtpmap: str) -> str:
    lines = [
        "v=0",
        "o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]",
        "s=-",
        "c=IN IP[media_ip_type] [media_ip]",
        "t=0 0",
        f"m=audio [media_port] RTP/AVP {payloads}",
        *rtpmap,
    ]
    return "\n".join(lines)


GOOD_SDP = _sdp("0 8", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000")


def _invite(code: int, *, sdp: str = GOOD_SDP, contact: str = CONTACT) -> dict[str, str]:
    return {"__CODE__": str(code), "__SDP__": sdp, "__CONTACT__": contact}


CASES = [
    # Malformed: a body that is no SDP, an INVITE without Contact (pjsip answers both 400).
    ("junk body", "bob", _invite(400, sdp="this is not SDP")),
    ("no contact", "bob", _invite(400, contact="Subject: no contact")),
    # Not an account the gateway rings (inbound_accounts below), and a number (would loop).
    ("unknown account", "mallory", _invite(404)),
    ("a number", "+4930999", _invite(404)),
    # A valid account that is not logged in: the Sigphone call fails 703 -> 480.
    ("offline", "dave", _invite(480)),
    # Only G.729 offered: nothing in common.
    ("no common codec", "bob", _invite(488, sdp=_sdp("18", "a=rtpmap:18 G729/8000"))),
]


@pytest.mark.parametrize(("case", "user", "fill"), CASES, ids=[c[0] for c in CASES])
async def test_bad_invite_gets_its_answer_and_the_gateway_keeps_serving(
    server, gateway, login, sipp, case: str, user: str, fill: dict[str, str]
):
    gw = await gateway(inbound_accounts="bob|carol|dave")
    bob = await login("bob")
    rung: list[Any] = []

    async def refuse(call: Any) -> None:
        rung.append(call)
        await call.channel_invite_refuse()

    bob.on_invite_received = refuse
    target = f"127.0.0.1:{gw.config.port}"
    bad = await sipp("invite_expect.xml", fill, target, "-s", user)
    assert await bad.wait() == 0, bad.errors()
    assert not rung  # nothing reached a Sigphone user
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)

    # Still serving: an ordinary INVITE rings bob, who refuses it: 603.
    good = await sipp("invite_expect.xml", _invite(603), target, "-s", "bob")
    assert await good.wait() == 0, good.errors()
    assert len(rung) == 1
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)


async def test_unparseable_datagrams_are_dropped_and_the_gateway_keeps_serving(
    server, gateway, login, sipp
):
    """A request pjsip cannot parse (a broken header, binary noise) has no dialog to answer
    in: pjsip drops it (RFC 3261 18.3) and serves the next INVITE as usual."""
    gw = await gateway()
    bob = await login("bob")
    rung: list[Any] = []

    async def refuse(call: Any) -> None:
        rung.append(call)
        await call.channel_invite_refuse()

    bob.on_invite_received = refuse
    junk = [
        b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
        b"CSeq: not-a-number INVITE\r\n\r\n",
        bytes(range(256)) * 4,
        b"\r\n\r\n",
    ]
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    for packet in junk:
        transport.sendto(packet, ("127.0.0.1", gw.config.port))
    transport.close()
    good = await sipp("invite_expect.xml", _invite(603), f"127.0.0.1:{gw.config.port}", "-s", "bob")
    assert await good.wait() == 0, good.errors()
    assert len(rung) == 1
    await until(lambda: gw.live == 0 and server.calls.live == 0, 20)
