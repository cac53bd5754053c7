"""The full path through real (virtual) sound devices: PulseAudio null sinks as microphone
and speaker, PortAudio streams, the mixer, WebRTC over the real signaling server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import numpy as np
import pytest

from sigphone.media import ice
from sigphone.media.audio_io import AudioIO
from sigphone.media.call_audio import CallAudio
from sigphone.media.devices import NO_AUDIO_DEVICE, list_devices
from sigphone.media.engine import MediaConfig
from sigphone.media.tones import decode_dtmf, dtmf_sequence, tone, tone_fraction
from sigphone.media.tracks import ToneTrack
from sigphone.sdk import Call

from ..support.media_helpers import Collected, accept, attach, dial
from ..support.pulse import PulseAudio
from ..support.waiting import until

LOOPBACK = MediaConfig(host_addresses=ice.LOOPBACK)


def hears(rec, frequency: float, share: float = 0.8) -> bool:
    tail = rec.samples(last=0.2)
    return len(tail) == 9600 and tone_fraction(tail, frequency) > share


@pytest.fixture
async def audio(pulse: PulseAudio) -> AsyncIterator[list[AudioIO]]:
    made: list[AudioIO] = []
    yield made
    for a in made:
        await a.close()


def test_pulse_devices_are_listed(pulse: PulseAudio) -> None:
    found = list_devices()
    assert found.available, found.error
    assert found.default("input") is not None and found.default("output") is not None


async def test_voice_from_alices_microphone_reaches_bobs_speaker(
    pulse: PulseAudio, login, audio: list[AudioIO]
) -> None:
    alice_audio, bob_audio = AudioIO(), AudioIO()
    audio += [alice_audio, bob_audio]
    alice, bob = await login("alice"), await login("bob")
    incoming: list[CallAudio] = []

    calls: list = []

    def received(call: Call) -> None:
        # bob's own microphone would hear the same virtual source: he sends silence instead
        # and plays what he receives on the real (virtual) speaker.
        media = CallAudio(bob_audio, LOOPBACK, source=ToneTrack(0.0), tones=False)
        attach(call, media)
        calls.append(call)
        incoming.append(media)

    bob.on_invite_received = received
    speaker = pulse.record()
    call, media = await dial(alice, "room", "bob", audio=alice_audio, config=LOOPBACK)
    try:
        # While bob's phone rings alice's speaker plays the 425 Hz ringback, through the mixer.
        await until(lambda: incoming, within=10)
        await until(lambda: hears(speaker, 425.0, 0.5), within=20)
        pulse.play(tone(1000.0, 60.0, amplitude=0.5))  # someone speaks into alice's mic
        await accept(calls[0], incoming[0])
        await until(lambda: media.engine.state == "connected", within=20)
        await until(lambda: alice_audio.callbacks("input") > 0, within=20)
        # Wait for the tone to travel mic -> Opus/SRTP -> bob's speaker; ringback is gone.
        await until(lambda: hears(speaker, 1000.0), within=30)
        assert not hears(speaker, 425.0, 0.1)
        assert alice_audio.status is None and bob_audio.status is None

        # Local DTMF feedback mixes into bob's speaker over the call audio.
        media.mute(True)
        await until(lambda: float(np.max(np.abs(speaker.samples(last=0.2)))) < 0.01, 20)
        mark = len(speaker.samples())
        bob_audio.play_tone(dtmf_sequence("159#", on=0.08, off=0.08))
        await until(lambda: decode_dtmf(speaker.samples()[mark:]) == "159#", within=20)
        await call.channel_invite_end()
        await until(lambda: not bob_audio.capturing and not alice_audio.capturing, 20)
    finally:
        speaker.stop()
        await media.close()
        for m in incoming:
            await m.close()


async def test_saved_device_that_is_not_connected_is_named(pulse: PulseAudio) -> None:
    audio = AudioIO(input_device="Gone Headset", output_device="Gone Headset")
    try:
        await audio.start()
        assert audio.status is not None and audio.status.startswith(NO_AUDIO_DEVICE)
        assert "'Gone Headset' is not connected" in audio.status
        assert not audio.capturing and not audio.playing
    finally:
        await audio.close()


async def test_device_vanishing_mid_call_is_a_clear_event_and_the_call_goes_on(
    pulse: PulseAudio, login, audio: list[AudioIO]
) -> None:
    """alice's sound server disappears mid-call (like unplugging a USB headset): both her
    streams end in "device-lost" events, nothing raises, and the call keeps its media
    flowing (bob keeps receiving frames, now silence) until someone hangs up."""
    own = PulseAudio()  # alice's "USB headset": a second sound server we can pull
    own.start()
    previous = os.environ["PULSE_SERVER"]
    alice_audio = AudioIO()
    audio.append(alice_audio)
    alice, bob = await login("alice"), await login("bob")
    heard = Collected()
    incoming: list[CallAudio] = []

    calls: list = []

    def received(call: Call) -> None:
        media = CallAudio(source=ToneTrack(440.0), sink=heard, config=LOOPBACK)
        attach(call, media)
        calls.append(call)
        incoming.append(media)

    bob.on_invite_received = received
    try:
        os.environ["PULSE_SERVER"] = own.server  # PortAudio connects when a stream opens
        call, media = await dial(
            alice, "room", "bob", audio=alice_audio, config=LOOPBACK, tones=False
        )
        await until(lambda: incoming, within=10)
        await accept(calls[0], incoming[0])
        await until(lambda: alice_audio.callbacks("input") > 20, within=20)
        os.environ["PULSE_SERVER"] = previous
        await until(lambda: len(heard) > 20, within=20)
        assert own.proc is not None
        own.proc.kill()
        await until(lambda: not alice_audio.capturing and not alice_audio.playing, within=20)
        lost = [e for e in alice_audio.events if e.kind == "device-lost"]
        assert {e.direction for e in lost} == {"input", "output"}
        assert all(e.message.startswith("audio device lost: ") for e in lost)
        assert alice_audio.status is not None
        frames = len(heard)
        await until(lambda: len(heard) > frames + 25, within=20)  # media still flows
        assert media.engine.state == "connected" and call.state == "accepted"
        await call.channel_invite_end()
        await until(lambda: media.events[-1].kind == "ended", within=10)
    finally:
        os.environ["PULSE_SERVER"] = previous
        own.stop()
        for m in incoming:
            await m.close()


async def test_switching_devices_between_calls_and_rescanning(
    pulse: PulseAudio, audio: list[AudioIO]
) -> None:
    """The settings' choice applies when the streams next open; a re-scan between calls
    re-reads PortAudio's list, and during a call leaves the open streams alone."""
    io = AudioIO(input_device="pulse", output_device="pulse")
    audio.append(io)
    await io.start()
    await until(lambda: io.callbacks("input") > 5 and io.callbacks("output") > 5, within=20)
    assert [e.message for e in io.events] == ["output: pulse (ALSA)", "input: pulse (ALSA)"]
    during = list_devices(rescan=True)  # streams open: no re-initialisation
    assert during.available
    await until(lambda: io.callbacks("input") > 50, within=20)  # still flowing
    await io.stop()
    assert not io.capturing and not io.playing
    assert list_devices(rescan=True).available  # between calls: re-read
    io.set_devices("default", "default")
    await io.start(capture=False)
    await until(lambda: io.callbacks("output") > 5, within=20)
    assert io.events[-1].message == "output: default (ALSA)" and not io.capturing
    await io.stop(capture=False)
