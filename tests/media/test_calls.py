"""Voice over a real call (M1): offer in the invite's extra, answer in the accept's extra,
renegotiation over channel_invite_msg, all through the real signaling server and SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import numpy as np
import pytest

from sigphone.media import ice
from sigphone.media.call_audio import SDP_KEY, CallAudio
from sigphone.media.engine import MediaConfig
from sigphone.media.tracks import ToneTrack
from sigphone.protocol.call_payloads import InviteExtra, encode_call_message
from sigphone.sdk import Call

from ..support.media_helpers import Collected, accept, attach, dial, refuse
from ..support.waiting import until

LOOPBACK = MediaConfig(host_addresses=ice.LOOPBACK)


class Phone:
    """A logged-in session whose calls get synthetic voice (a tone) through CallAudio."""

    def __init__(self, session, frequency: float) -> None:
        self.session = session
        self.frequency = frequency
        self.heard = Collected()
        self.media: list[CallAudio] = []
        self.incoming: list[Call] = []
        self.app_msgs: list[str] = []
        session.on_invite_received = self._received

    def new_media(self) -> CallAudio:
        media = CallAudio(source=ToneTrack(self.frequency), sink=self.heard, config=LOOPBACK)
        self.media.append(media)
        return media

    def _received(self, call: Call) -> None:
        self.incoming.append(call)
        # The app's own handler gets every call message that is not media's (DTMF, text).
        attach(call, self.new_media(), app_msg=self.app_msgs.append)

    async def close(self) -> None:
        for media in self.media:
            await media.close()


@pytest.fixture
async def phones(login) -> AsyncIterator[tuple[Phone, Phone]]:
    alice = Phone(await login("alice"), 1000.0)
    bob = Phone(await login("bob"), 440.0)
    yield alice, bob
    await alice.close()
    await bob.close()


async def test_call_carries_voice_both_ways(phones: tuple[Phone, Phone]) -> None:
    alice, bob = phones
    media = alice.new_media()
    accepted: list[str] = []
    extra = InviteExtra(src_num="+4930123", sdp=await media.offer()).encode()
    call = await alice.session.channel_invite_user2("room", "bob", extra)
    attach(call, media)
    routed = call.on_invite_accepted_by_peer

    def on_accepted(extra: str):  # the app sees the accept's extra as well
        accepted.append(extra)
        return routed(extra)

    call.on_invite_accepted_by_peer = on_accepted
    await until(lambda: bob.incoming)
    invite = json.loads(bob.incoming[0].extra)
    assert invite["srcNum"] == "+4930123" and invite[SDP_KEY].startswith("v=0")
    await accept(bob.incoming[0], bob.media[0])
    await until(lambda: accepted and call.state == "accepted")
    assert SDP_KEY in json.loads(accepted[0])  # the app still sees the accept's extra
    await until(lambda: bob.heard.has_tone(1000.0) and alice.heard.has_tone(440.0), within=20)
    assert media.engine.codec == bob.media[0].engine.codec == "opus/48000/2"
    assert [e.kind for e in media.events][-1] == "connected"

    # Mute on alice's side: bob hears silence; unmute brings the tone back.
    media.mute(True)
    await until(lambda: bob.heard.silent(), within=10)
    media.mute(False)
    await until(lambda: bob.heard.has_tone(1000.0), within=10)

    # Hold: both directions go quiet (alice sends silence and drops what arrives).
    media.hold(True)
    frames = len(alice.heard)
    await until(lambda: bob.heard.silent(), within=10)
    assert len(alice.heard) == frames
    media.hold(False)
    await until(lambda: bob.heard.has_tone(1000.0) and len(alice.heard) > frames, within=10)

    # DTMF and app messages still reach the app; SDP messages are handled by CallAudio.
    await call.channel_invite_dtmf("12#")
    await until(lambda: bob.app_msgs)
    assert json.loads(bob.app_msgs[0]) == {"type": "dtmf", "dtmf": "12#"}

    await call.channel_invite_end()
    await until(lambda: all(m.events[-1].kind == "ended" for m in (media, bob.media[0])))
    assert media.engine.state == bob.media[0].engine.state == "closed"


async def test_dial_helper_and_renegotiation_over_invite_msg(phones: tuple[Phone, Phone]) -> None:
    alice, bob = phones
    call, media = await dial(
        alice.session, "room", "bob", source=ToneTrack(1000.0), sink=alice.heard, config=LOOPBACK
    )
    alice.media.append(media)
    await until(lambda: bob.incoming)
    await accept(bob.incoming[0], bob.media[0])
    await until(lambda: bob.heard.has_tone(1000.0) and alice.heard.has_tone(440.0), within=20)
    # A new offer/answer round over channel_invite_msg keeps the call's audio going.
    await call.channel_invite_msg(encode_call_message(await media.renegotiate()))
    await until(lambda: media.engine.pc.signalingState == "stable", within=10)
    assert bob.app_msgs == []  # SDP messages never reach the app's on_invite_msg
    bob.media[0].source.frequency = 660.0
    await until(lambda: alice.heard.has_tone(660.0), within=10)
    await call.channel_invite_end()


async def test_callee_refuses_and_media_closes(phones: tuple[Phone, Phone]) -> None:
    alice, bob = phones
    call, media = await dial(
        alice.session, "room", "bob", source=ToneTrack(1000.0), sink=alice.heard, config=LOOPBACK
    )
    alice.media.append(media)
    await until(lambda: bob.incoming)
    await refuse(bob.incoming[0], bob.media[0])
    await until(lambda: media.events and media.events[-1].kind == "ended")
    assert media.engine.state == "closed" and call.state == "ended"
    assert bob.media[0].engine.state == "closed"


async def test_a_caller_without_media_is_accepted_without_audio(
    phones: tuple[Phone, Phone],
) -> None:
    alice, bob = phones
    call = await alice.session.channel_invite_user2("room", "bob", '{"srcNum":"1"}')
    await until(lambda: bob.incoming)
    await accept(bob.incoming[0], bob.media[0])
    assert [e.kind for e in bob.media[0].events] == ["no-media"]
    await until(lambda: call.state == "accepted")
    await call.channel_invite_end()


async def test_a_broken_answer_is_a_failed_event_not_a_silent_call(
    phones: tuple[Phone, Phone],
) -> None:
    alice, bob = phones
    call, media = await dial(
        alice.session, "room", "bob", source=ToneTrack(1000.0), sink=alice.heard, config=LOOPBACK
    )
    alice.media.append(media)
    await until(lambda: bob.incoming)
    await bob.incoming[0].channel_invite_accept('{"sdp":"v=0 not really"}')
    await until(lambda: media.events and media.events[-1].kind == "failed")
    assert "bad SDP answer" in media.events[-1].message
    await call.channel_invite_end()


async def test_dtmf_is_played_in_band_to_the_far_side(phones: tuple[Phone, Phone]) -> None:
    """send_dtmf puts the digits' Q.23 tones into what we send: the far side hears them."""
    from sigphone.media.tones import decode_dtmf

    alice, bob = phones
    call, media = await dial(
        alice.session, "room", "bob", source=ToneTrack(0.0), sink=alice.heard, config=LOOPBACK
    )
    alice.media.append(media)
    await until(lambda: bob.incoming)
    await accept(bob.incoming[0], bob.media[0])
    await until(lambda: len(bob.heard) > 20, within=20)
    mark = len(bob.heard.blocks)
    media.send_dtmf("159#")

    def heard() -> str:
        blocks = bob.heard.blocks[mark:]
        return decode_dtmf(np.concatenate(blocks)) if blocks else ""

    await until(lambda: heard() == "159#", within=20)
    await call.channel_invite_end()
