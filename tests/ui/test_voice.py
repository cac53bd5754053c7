"""Voice through the GUI path (M1-M3 wired into the softphone): two phones on a real server,
dialer -> popup Accept -> call view, with real media (aiortc on loopback) underneath.

The audio path is the null/synthetic one the media tests rely on: no PortAudio
(``sounddevice`` made unimportable), so ``AudioIO`` is a null device; alice's microphone is
a ``ToneTrack`` and bob's speaker a collector, both handed to ``Voice`` as its source and
sink. Tones still go through alice's real mixer, which the test reads in place of the
missing output stream.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt

from sigphone.media import AudioIO, MediaConfig, ice
from sigphone.media.tones import RINGTONES, decode_dtmf, tone_fraction
from sigphone.media.tracks import ToneTrack
from sigphone.phone.sound import NO_ENGINE, SilentTones
from sigphone.phone.voice import Voice

from ..support.media_helpers import Collected
from ..support.waiting import until

LOOPBACK = MediaConfig(host_addresses=ice.LOOPBACK)


@pytest.fixture
def no_sound_card(monkeypatch: pytest.MonkeyPatch) -> None:
    """PortAudio unavailable: every AudioIO is the null device (M3), deterministically."""
    monkeypatch.setitem(sys.modules, "sounddevice", None)


async def _call(alice, bob, qtbot) -> None:
    """alice dials bob from the dialer; bob accepts in the popup; both views connected."""
    dialer = alice.main_window.dialer
    qtbot.keyClicks(dialer.field, "bob")
    qtbot.keyClick(dialer.field, Qt.Key.Key_Return)
    await until(lambda: bob.popup.isVisible())
    qtbot.mouseClick(bob.popup.accept_button, Qt.MouseButton.LeftButton)
    for phone in (alice, bob):
        await until(lambda p=phone: p.main_window.call_view.state.text() == "Connected")


async def test_gui_call_carries_voice_mute_and_dtmf(make_phone, qtbot, no_sound_card) -> None:
    heard = Collected()
    alice_voice = Voice(AudioIO(), LOOPBACK, source_factory=lambda: ToneTrack(1000.0))
    bob_voice = Voice(AudioIO(), LOOPBACK, sink=heard)
    alice = await make_phone("alice", tones=alice_voice)
    bob = await make_phone("bob", tones=bob_voice)
    invites: list[str] = []
    bob.bridge.incoming_call.connect(lambda *_: invites.append(bob.bridge.call.extra))

    dialer = alice.main_window.dialer
    qtbot.keyClicks(dialer.field, "bob")
    qtbot.keyClick(dialer.field, Qt.Key.Key_Return)
    await until(lambda: bob.popup.isVisible())
    # The invite carries the SDP offer next to the app's own keys; bob's phone rings
    # through its mixer, alice hears ringback through hers.
    offer = json.loads(invites[0])
    assert offer["srcNum"] == "alice" and offer["sdp"].startswith("v=0")
    assert bob_voice.ringing
    await until(lambda: alice_voice.ringing_back)

    qtbot.mouseClick(bob.popup.accept_button, Qt.MouseButton.LeftButton)
    for phone in (alice, bob):
        await until(lambda p=phone: p.main_window.call_view.state.text() == "Connected")
    assert not bob_voice.ringing and not alice_voice.ringing_back

    # alice's "microphone" tone reaches bob's "speaker" (Goertzel).
    await until(lambda: heard.has_tone(1000.0), within=20)

    # Mute in alice's call view: bob hears silence, frames still flowing; unmute restores.
    view = alice.main_window.call_view
    qtbot.mouseClick(view.mute, Qt.MouseButton.LeftButton)
    assert alice.bridge.media.muted
    frames = len(heard)
    await until(lambda: len(heard) > frames + 10 and heard.silent(), within=10)
    qtbot.mouseClick(view.mute, Qt.MouseButton.LeftButton)
    await until(lambda: heard.has_tone(1000.0), within=10)

    # A keypad digit: the Q.23 tone in alice's mixer and channel_invite_dtmf to bob.
    received: list[str] = []
    bob.bridge.dtmf_received.connect(received.append)
    alice_voice.audio.mixer.mix(48_000)  # drop what is queued (no output stream drains it)
    qtbot.mouseClick(view.keypad.buttons["5"], Qt.MouseButton.LeftButton)
    await until(lambda: received == ["5"])
    assert decode_dtmf(alice_voice.audio.mixer.mix(9_600)) == "5"

    # Call quality reaches the call view.
    await until(lambda: view.stats_label.text().startswith("RTT"), within=10)

    # Hang up: both sides' media closes.
    media = alice.bridge.media, bob.bridge.media
    qtbot.mouseClick(view.hangup, Qt.MouseButton.LeftButton)
    await until(lambda: bob.main_window.call_view.state.text() == "alice hung up.")
    await until(lambda: all(m.engine.state == "closed" for m in media))
    assert alice.bridge.media is None and bob.bridge.media is None


async def test_gui_call_without_audio_device_connects_and_says_so(
    make_phone, qtbot, no_sound_card
) -> None:
    alice_voice = Voice(AudioIO(), LOOPBACK)
    bob_voice = Voice(AudioIO(), LOOPBACK)
    assert alice_voice.problem is not None and alice_voice.problem.startswith("No audio device")
    alice = await make_phone("alice", tones=alice_voice)
    bob = await make_phone("bob", tones=bob_voice)
    await _call(alice, bob, qtbot)
    for phone in (alice, bob):
        label = phone.main_window.call_view.audio_label
        await until(lambda lb=label: lb.text().startswith("No audio device"), within=20)
        assert not label.isHidden()
    await until(lambda: alice.bridge.media.engine.state == "connected", within=20)
    qtbot.mouseClick(bob.main_window.call_view.hangup, Qt.MouseButton.LeftButton)
    await until(lambda: alice.bridge.call is None and bob.bridge.call is None)


async def test_device_lost_mid_call_is_shown_and_the_call_stays_up(
    make_phone, qtbot, no_sound_card
) -> None:
    """media's device-lost event (the watchdog's report of an unplugged headset) becomes a
    sentence in the call view; the call is not ended."""
    from sigphone.media.audio_io import AudioEvent

    alice_voice = Voice(AudioIO(), LOOPBACK)
    alice = await make_phone("alice", tones=alice_voice)
    bob = await make_phone("bob", tones=Voice(AudioIO(), LOOPBACK))
    await _call(alice, bob, qtbot)
    message = "audio device lost: USB Headset (MME) (input): the stream stopped"
    alice_voice.audio._event(AudioEvent("device-lost", message, "input"))
    label = alice.main_window.call_view.audio_label
    await until(lambda: label.text().startswith("Audio device lost: USB Headset"))
    assert "call stays up" in label.text()
    assert alice.bridge.call_status == "connected"
    alice.bridge.hang_up()
    await until(lambda: bob.bridge.call is None)


def test_gui_without_the_media_extra_says_voice_is_unavailable() -> None:
    """``pip install '.[gui]'`` alone: the UI imports, and make_voice gives SilentTones."""
    code = (
        "import sys; sys.modules['aiortc'] = None\n"
        "import importlib.util as u; real = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'aiortc' else real(n, *a)\n"
        "import sigphone.ui.app, sigphone.ui.phone, sigphone.demo\n"
        "from sigphone.phone.voice import make_voice\n"
        "t = make_voice(); print(type(t).__name__); print(t.problem)\n"
        "print('sigphone.media.call_audio' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    kind, problem, imported = out.stdout.strip().splitlines()[-3:]
    assert (kind, problem, imported) == (SilentTones.__name__, NO_ENGINE, "False")


async def test_gc_guard_collects_on_the_gui_thread(qapp) -> None:
    """The app switches automatic collection off and collects from a GUI-thread timer."""
    import gc
    import threading

    from sigphone.ui.gc_guard import GcGuard

    from ..support.waiting import until as wait_until

    freed_on: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed_on.append(threading.current_thread().name)

    guard = GcGuard(interval_ms=10).install()
    try:
        assert not gc.isenabled()
        Cycle()
        # Live allocations past the threshold: CPython would have collected right here.
        kept = [[] for _ in range(guard.threshold[0] + 1)]
        await wait_until(lambda: freed_on)
        del kept
        assert freed_on == [threading.main_thread().name] and guard.collections >= 1
    finally:
        guard.uninstall()
    assert gc.isenabled()


async def test_phone_voice_uses_the_devices_chosen_in_settings(tmp_path, no_sound_card) -> None:
    """A Phone builds its own Voice (the app's path) and opens the Settings choice."""
    from sigphone.phone.paths import Paths
    from sigphone.ui.phone import Phone

    phone = Phone(Paths.under(tmp_path / "dora"))
    try:
        voice = phone.bridge.voice
        assert isinstance(voice, Voice) and voice.problem is not None  # no sound card here
        phone.settings_view.input.addItems(["USB Headset Mic (MME)"])
        phone.settings_view.input.setCurrentText("USB Headset Mic (MME)")
        assert phone.settings.text("audio/input") == "USB Headset Mic (MME)"
        media = voice.new_call(lambda _event: None)
        await media.close()
        assert (voice.audio.input_device, voice.audio.output_device) == (
            "USB Headset Mic (MME)",
            None,
        )
    finally:
        await phone.bridge.shutdown()
        phone.close()


async def test_phone_rings_with_the_ringtone_chosen_in_settings(tmp_path, no_sound_card) -> None:
    """Settings "Ringtone" picks the pattern the mixer plays: for each choice, the mixer's
    first 50 ms carry that ringtone's frequencies and none of the other ringtones'."""
    from sigphone.phone.paths import Paths
    from sigphone.ui.phone import Phone

    phone = Phone(Paths.under(tmp_path / "erin"))
    try:
        voice = phone.bridge.voice
        assert isinstance(voice, Voice)
        others = {f for c in RINGTONES.values() for f in c.frequencies}
        for name in ("Soft", "Digital", "Classic"):
            phone.settings_view.ringtone.setCurrentText(name)
            assert phone.settings.text("audio/ringtone") == name
            voice.ringtone(True)
            block = voice.audio.mixer.mix(2400)
            voice.ringtone(False)
            wanted = set(RINGTONES[name].frequencies)
            for f in others:
                share = tone_fraction(block, f)
                assert (share > 0.3) if f in wanted else (share < 0.05), (name, f)
    finally:
        await phone.bridge.shutdown()
        phone.close()


async def test_hold_in_the_call_view_silences_both_ways_and_resume_restores(
    make_phone, qtbot, no_sound_card
) -> None:
    """Hold (call view, shown only while connected): bob hears silence while frames keep
    flowing, alice's own mute survives Resume, and Resume brings alice's tone back."""
    heard = Collected()
    alice_voice = Voice(AudioIO(), LOOPBACK, source_factory=lambda: ToneTrack(1000.0))
    alice = await make_phone("alice", tones=alice_voice)
    bob = await make_phone("bob", tones=Voice(AudioIO(), LOOPBACK, sink=heard))
    view = alice.main_window.call_view
    assert view.hold.isHidden()  # nothing to hold yet
    await _call(alice, bob, qtbot)
    assert not view.hold.isHidden() and view.hold.accessibleName() == "Hold call"
    assert view.hold.focusPolicy() & Qt.FocusPolicy.TabFocus  # keyboard reachable
    await until(lambda: heard.has_tone(1000.0), within=20)
    await until(lambda: alice.bridge.media.reader is not None)  # bob's audio reaches alice

    qtbot.mouseClick(view.hold, Qt.MouseButton.LeftButton)
    assert alice.bridge.held and view.hold.isChecked()
    assert view.hold.accessibleName() == "Resume call"
    assert not alice.bridge.media.reader.enabled  # what bob sends is dropped
    frames = len(heard)
    await until(lambda: len(heard) > frames + 10 and heard.silent(), within=10)
    # Unmuting while held must not let the microphone through.
    qtbot.mouseClick(view.mute, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.mute, Qt.MouseButton.LeftButton)
    assert alice.bridge.media.muted

    qtbot.mouseClick(view.hold, Qt.MouseButton.LeftButton)
    assert not alice.bridge.held and not view.hold.isChecked()
    assert not alice.bridge.media.muted and alice.bridge.media.reader.enabled
    await until(lambda: heard.has_tone(1000.0), within=10)

    qtbot.mouseClick(view.hangup, Qt.MouseButton.LeftButton)
    await until(lambda: bob.bridge.call is None)
    await until(lambda: view.hold.isHidden())


async def test_ringtone_goes_to_the_ringer_chosen_in_settings(tmp_path, no_sound_card) -> None:
    """Settings "Ringer": "Same as speaker" rings in the speaker's mixer; another device rings
    in a second, output-only AudioIO opened on it (its mixer is what that stream would play)
    and the speaker's mixer stays silent; a ringer that is not connected (no sound card
    here) falls back to the speaker, so the call is never silent."""
    from sigphone.phone.paths import Paths
    from sigphone.ui.phone import Phone
    from sigphone.ui.settings_view import SAME_AS_SPEAKER

    classic = RINGTONES["Classic"].frequencies
    phone = Phone(Paths.under(tmp_path / "fred"))
    try:
        voice = phone.bridge.voice
        assert isinstance(voice, Voice)
        ringer = phone.settings_view.ringer
        assert ringer.itemText(0) == SAME_AS_SPEAKER
        assert phone.settings.text("audio/ringer") == ""
        voice.ringtone(True)
        assert voice.ringing_device is voice.audio and voice.ringer_audio is None
        voice.ringtone(False)
        voice.audio.mixer.mix(48_000)

        ringer.addItems(["USB Ringer (MME)"])
        ringer.setCurrentText("USB Ringer (MME)")
        assert phone.settings.text("audio/ringer") == "USB Ringer (MME)"
        voice.ringtone(True)
        ring = voice.ringer_audio
        assert ring is not None and voice.ringing_device is ring
        assert ring.output_device == "USB Ringer (MME)"
        block = ring.mixer.mix(2400)
        assert all(tone_fraction(block, f) > 0.3 for f in classic)
        assert float(abs(voice.audio.mixer.mix(2400)).max()) == 0.0  # not on the speaker

        # The ringer cannot open (null device): the ring moves to the speaker.
        await until(lambda: voice.ringing_device is voice.audio)
        assert voice.ringing
        block = voice.audio.mixer.mix(2400)
        assert all(tone_fraction(block, f) > 0.3 for f in classic)
        voice.ringtone(False)
        assert not voice.ringing and voice.ringing_device is None
        await until(lambda: not ring.playing and not voice.audio.playing)
    finally:
        await phone.bridge.shutdown()
        phone.close()
