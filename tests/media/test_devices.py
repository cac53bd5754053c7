"""Audio devices (M3): no sound card is a clear "no audio device" state, never a crash, and
a call without one still connects."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sigphone.media import devices, ice
from sigphone.media.audio_io import AudioIO
from sigphone.media.call_audio import CallAudio
from sigphone.media.devices import NO_AUDIO_DEVICE, AudioDevice, DeviceList, choose
from sigphone.media.engine import MediaConfig
from sigphone.media.tracks import ToneTrack

from ..support.media_helpers import Collected, accept, attach, dial
from ..support.waiting import until

LOOPBACK = MediaConfig(host_addresses=ice.LOOPBACK)

LIST_IN_CHILD = """
import json
from sigphone.media.devices import list_devices
found = list_devices()
print(json.dumps({"error": found.error, "inputs": len(found.inputs),
                  "outputs": len(found.outputs), "available": found.available}))
"""


def test_machine_without_a_sound_card_lists_no_audio_device() -> None:
    """A child process whose PortAudio finds nothing (no sound card, no reachable sound
    server: the state of CI before the PulseAudio fixture, and of servers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE")}
    env["PULSE_SERVER"] = "unix:/nonexistent/sigphone-no-sound"
    out = subprocess.run(
        [sys.executable, "-c", LIST_IN_CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "error": f"{NO_AUDIO_DEVICE}: no sound card found",
        "inputs": 0,
        "outputs": 0,
        "available": False,
    }


def test_missing_portaudio_is_no_audio_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import sounddevice`` fails without libportaudio2: a message, not an exception."""
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # makes the import fail
    found = devices.list_devices(rescan=True)
    assert not found.available and found.inputs == () and found.outputs == ()
    assert found.error is not None and found.error.startswith(NO_AUDIO_DEVICE)
    assert "PortAudio" in found.error


def test_choose_by_index_name_part_and_default() -> None:
    mic = AudioDevice(3, "USB Headset Mic", "MME", 1, 0, 48000.0, is_default_input=False)
    built_in = AudioDevice(1, "Microphone Array", "MME", 2, 0, 48000.0, is_default_input=True)
    spk = AudioDevice(4, "USB Headset", "MME", 0, 2, 48000.0, is_default_output=True)
    found = DeviceList((built_in, mic), (spk,))
    assert choose(found, None, "input") is built_in
    assert choose(found, "", "output") is spk
    assert choose(found, 3, "input") is mic
    assert choose(found, "USB Headset Mic (MME)", "input") is mic
    assert choose(found, "headset", "input") is mic
    assert choose(found, "micro", "input") is built_in
    assert choose(found, "unplugged thing", "input") is None
    assert choose(found, 9, "output") is None
    assert choose(DeviceList(error="x"), None, "input") is None


async def test_call_without_audio_device_connects_and_says_so(
    login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alice has no sound card at all (PortAudio missing): her call still connects, bob
    hears her (silence: frames keep flowing), and she is told "no audio device"."""
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    alice_audio = AudioIO()
    alice_session, bob_session = await login("alice"), await login("bob")
    heard = Collected()
    bob_media: list[CallAudio] = []

    calls: list = []

    def received(call) -> None:
        media = CallAudio(source=ToneTrack(440.0), sink=heard, config=LOOPBACK)
        attach(call, media)
        calls.append(call)
        bob_media.append(media)

    bob_session.on_invite_received = received
    call, media = await dial(alice_session, "room", "bob", audio=alice_audio, config=LOOPBACK)
    try:
        await until(lambda: bob_media)
        await accept(calls[0], bob_media[0])
        await until(lambda: any(e.kind == "no-audio-device" for e in media.events), within=20)
        await until(lambda: media.engine.state == "connected", within=20)
        assert alice_audio.status is not None and alice_audio.status.startswith(NO_AUDIO_DEVICE)
        assert {e.kind for e in alice_audio.events} == {"no-device"}
        assert not alice_audio.capturing and not alice_audio.playing
        # The null microphone keeps the RTP stream clocked: bob gets frames of silence.
        await until(lambda: len(heard) > 10 and heard.silent(), within=20)
        await call.channel_invite_end()
        await until(lambda: media.events[-1].kind == "ended")
    finally:
        await media.close()
        for m in bob_media:
            await m.close()
        await alice_audio.close()


async def test_null_microphone_gives_clocked_silence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    audio = AudioIO()
    await audio.start()
    try:
        assert audio.status is not None and NO_AUDIO_DEVICE in audio.status
        track = audio.microphone_track()
        frame = await track.recv()  # silence, not a hang
        assert frame.samples == 960 and not any(frame.to_ndarray().reshape(-1))
    finally:
        await audio.close()
