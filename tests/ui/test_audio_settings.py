"""M3: without a sound card the app says so once and everything else works."""

from __future__ import annotations

from pathlib import Path

from sigphone.phone import sound as audio
from sigphone.phone.paths import Paths
from sigphone.phone.sound import NO_DEVICE, AudioDevices, SilentTones
from sigphone.ui.settings import AppSettings
from sigphone.ui.settings_view import SettingsView


def test_no_sound_card_gives_silent_tones_with_the_sentence(monkeypatch) -> None:
    monkeypatch.setattr(audio, "list_devices", lambda rescan=False: AudioDevices([], [], NO_DEVICE))
    tones = audio.make_tones()
    assert isinstance(tones, SilentTones)
    assert tones.problem == NO_DEVICE and NO_DEVICE.startswith("No audio device")


def test_settings_page_lists_devices_or_says_none(qapp, tmp_path: Path) -> None:
    settings = AppSettings(Paths.under(tmp_path))
    view = SettingsView(settings, tmp_path / "x.log", AudioDevices([], [], NO_DEVICE))
    assert not view.audio_problem.isHidden() and view.audio_problem.text() == NO_DEVICE
    assert not view.output.isEnabled()
    view.show_devices(AudioDevices(["USB mic"], ["Headset", "Speakers"], None))
    assert view.audio_problem.isHidden()
    assert view.output.isEnabled()
    view.output.setCurrentText("Headset")
    assert settings.text("audio/output") == "Headset"
    # A remembered device is selected again after a rescan.
    view.show_devices(AudioDevices(["USB mic"], ["Speakers", "Headset"], None))
    assert view.output.currentText() == "Headset"
    light = qapp.palette().window().color().lightness()
    view.theme.setCurrentText("Dark")
    assert settings.text("ui/theme") == "dark"
    assert qapp.palette().window().color().lightness() < 128
    view.theme.setCurrentText("System")  # back to the platform's palette
    assert qapp.palette().window().color().lightness() == light
