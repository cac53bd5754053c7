"""Two media engines in one process on loopback (M1): real aiortc, ICE, DTLS-SRTP and Opus,
synthetic tones in place of microphones."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection

from sigphone.media import ice, jitter
from sigphone.media.engine import IceServer, MediaConfig, MediaEngine
from sigphone.media.tracks import ToneTrack, TrackReader

from ..support.media_helpers import Collected
from ..support.waiting import until

LOOPBACK = MediaConfig(host_addresses=ice.LOOPBACK)


class Side:
    def __init__(self, frequency: float, config: MediaConfig = LOOPBACK) -> None:
        self.source = ToneTrack(frequency)
        self.heard = Collected()
        self.readers: list[TrackReader] = []
        self.engine = MediaEngine(self.source, config, on_track=self._track)

    def _track(self, track) -> None:
        self.readers.append(TrackReader(track, self.heard))

    async def close(self) -> None:
        for reader in self.readers:
            await reader.stop()
        await self.engine.close()


async def connect(alice: Side, bob: Side) -> None:
    answer = await bob.engine.accept_offer(await alice.engine.create_offer())
    await alice.engine.accept_answer(answer)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Side, Side]]:
    alice, bob = Side(1000.0), Side(440.0)
    yield alice, bob
    await alice.close()
    await bob.close()


async def test_opus_and_tones_both_ways(pair: tuple[Side, Side]) -> None:
    alice, bob = pair
    await connect(alice, bob)
    assert alice.engine.codec == bob.engine.codec == "opus/48000/2"
    # Wait for a second of audio each way, then look at the latest 200 ms.
    await until(lambda: len(bob.heard) > 50 and len(alice.heard) > 50, within=20)
    await until(lambda: bob.heard.has_tone(1000.0) and alice.heard.has_tone(440.0), within=10)
    assert not bob.heard.has_tone(440.0)
    assert not alice.heard.has_tone(1000.0)


async def test_mute_sends_silence_and_keeps_the_stream(pair: tuple[Side, Side]) -> None:
    alice, bob = pair
    await connect(alice, bob)
    await until(lambda: bob.heard.has_tone(1000.0), within=20)
    alice.source.muted = True
    await until(lambda: bob.heard.silent(), within=10)
    frames = len(bob.heard)
    await until(lambda: len(bob.heard) > frames + 10, within=10)  # packets keep coming
    assert bob.heard.silent()
    alice.source.muted = False
    await until(lambda: bob.heard.has_tone(1000.0), within=10)


async def test_offer_is_complete_opus_only_and_loopback_only() -> None:
    side = Side(1000.0)
    try:
        sdp = await side.engine.create_offer()
    finally:
        await side.close()
    assert "a=end-of-candidates" in sdp  # trickle-free: every candidate is in the offer
    candidates = re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ host", sdp)
    assert candidates == ["127.0.0.1"]
    assert re.findall(r"a=rtpmap:\d+ (\S+)", sdp) == ["opus/48000/2"]


async def test_host_filter_is_scoped_to_our_engine() -> None:
    """Another peer connection in the process keeps aioice's own choice (no 127.0.0.1)."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio")
        with ice.host_addresses(None):
            await pc.setLocalDescription(await pc.createOffer())
        assert " 127.0.0.1 " not in pc.localDescription.sdp
    finally:
        await pc.close()


async def test_stats_report_rtt_jitter_and_counts(pair: tuple[Side, Side]) -> None:
    alice, bob = pair
    await connect(alice, bob)
    # RTT needs the far side's RTCP receiver report (sent about once a second): poll.
    for _ in range(200):
        stats = await alice.engine.stats()
        if stats.rtt_ms is not None:
            break
        await asyncio.sleep(0.1)
    assert stats is not None
    assert stats.codec == "opus/48000/2"
    assert stats.packets_sent > 0 and stats.packets_received > 0
    assert stats.jitter_ms is not None and stats.rtt_ms >= 0
    assert set(stats.as_dict()) >= {"rtt_ms", "packets_lost", "jitter_ms"}


async def test_jitter_prefetch_is_applied_and_detects_aiortc_changes() -> None:
    """The documented prefetch knob (jitter.py): set on both receivers before media flows,
    audio still arrives, and aiortc's default is still the one we documented."""
    plain = RTCPeerConnection()
    try:
        receiver = plain.addTransceiver("audio").receiver
        assert jitter.get_prefetch(receiver) == jitter.AIORTC_PREFETCH
    finally:
        await plain.close()
    alice = Side(1000.0, MediaConfig(host_addresses=ice.LOOPBACK, jitter_prefetch=1))
    bob = Side(440.0, MediaConfig(host_addresses=ice.LOOPBACK, jitter_prefetch=0))
    try:
        await connect(alice, bob)
        (a,) = alice.engine.pc.getTransceivers()
        (b,) = bob.engine.pc.getTransceivers()
        assert jitter.get_prefetch(a.receiver) == 1
        assert jitter.get_prefetch(b.receiver) == 0
        await until(lambda: bob.heard.has_tone(1000.0) and alice.heard.has_tone(440.0), 20)
        assert jitter.set_prefetch(b.receiver, 3) is False  # in use: left alone
    finally:
        await alice.close()
        await bob.close()


def test_ice_servers_are_configurable_and_none_by_default() -> None:
    """No packet goes to a public STUN server unless configured (aiortc would add one)."""
    assert MediaConfig().rtc_configuration().iceServers == []
    config = MediaConfig(
        ice_servers=(
            IceServer("stun:stun.example.org:3478"),
            IceServer("turn:turn.example.org:3478", "alice", "secret"),
        )
    )
    stun, turn = config.rtc_configuration().iceServers
    assert stun.urls == "stun:stun.example.org:3478" and stun.username is None
    assert (turn.urls, turn.username, turn.credential) == (
        "turn:turn.example.org:3478",
        "alice",
        "secret",
    )
