"""Item 15 on the real sound path (``phone.voice.Voice`` over ``media.AudioIO`` as the null
device, read from its mixer): ringtone preview at the ring volume, the test sound at the
speaker volume, the speaker volume on the far side's voice, the microphone meter."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sigphone.media import AudioIO
from sigphone.media.tones import RINGTONES, tone_fraction
from sigphone.phone.voice import Voice


@pytest.fixture
def voice(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # the null device, deterministically
    volumes = [(0.5, 0.25)]
    v = Voice(AudioIO(), volumes=lambda: volumes[0])
    v.volumes_box = volumes  # type: ignore[attr-defined]
    return v


def _energy(samples: np.ndarray, frequencies: tuple[float, ...]) -> float:
    return sum(tone_fraction(samples, f) for f in frequencies)


async def test_preview_plays_the_chosen_ringtone_at_the_ring_volume(voice) -> None:
    soft = RINGTONES["Soft"].frequencies
    voice.preview("Soft")
    out = voice.audio.mixer.mix(48_000)
    assert _energy(out, soft) > 0.9
    peak = float(np.max(np.abs(out)))
    voice.audio.mixer.stop()
    voice.volumes_box[0] = (1.0, 0.25)
    voice.preview("Soft")
    louder = float(np.max(np.abs(voice.audio.mixer.mix(48_000))))
    assert louder == pytest.approx(2 * peak, rel=0.05)
    await voice.aclose()


async def test_test_sound_and_speaker_volume(voice) -> None:
    voice.test_sound()
    out = voice.audio.mixer.mix(24_000)
    assert tone_fraction(out[:9_600], 660.0) > 0.9
    assert float(np.max(np.abs(out))) <= 0.4 * 0.25 + 1e-3  # at the speaker volume
    voice.audio.mixer.stop()
    media = voice.new_call(lambda _e: None)  # a call takes the speaker volume
    assert voice.audio.mixer.voice_gain == 0.25
    voice.audio.mixer.voice.write(np.full(960, 0.8, dtype=np.float32))
    assert float(np.max(voice.audio.mixer.mix(960))) == pytest.approx(0.2)
    await media.close()
    await voice.aclose()


async def test_meter_opens_the_microphone_while_shown(voice) -> None:
    voice.meter(True)
    await voice.audio.start(capture=False)  # wait for the queued open to be done
    await voice.audio.stop(capture=False)
    assert voice.audio._users["input"] == 1
    voice.audio.input_level = 0.5
    assert voice.input_level() == 0.5
    voice.meter(False)
    await voice.aclose()
    assert voice.audio._users["input"] == 0 and voice.input_level() == 0.0
