"""Tones (M2): DTMF per ITU-T Q.23, ringback and ringtone, decoded by a Goertzel check."""

from __future__ import annotations

import numpy as np
import pytest

from sigphone.media import tones
from sigphone.media.mixer import Mixer
from sigphone.media.tones import (
    DTMF_FREQUENCIES,
    RINGBACK,
    RINGTONE,
    SAMPLE_RATE,
    decode_dtmf,
    decode_dtmf_block,
    dtmf,
    dtmf_sequence,
    goertzel_amplitude,
    tone_fraction,
)

KEYS = "123A456B789C*0#D"


def test_q23_frequency_table() -> None:
    assert DTMF_FREQUENCIES["1"] == (697.0, 1209.0)
    assert DTMF_FREQUENCIES["5"] == (770.0, 1336.0)
    assert DTMF_FREQUENCIES["9"] == (852.0, 1477.0)
    assert DTMF_FREQUENCIES["0"] == (941.0, 1336.0)
    assert DTMF_FREQUENCIES["*"] == (941.0, 1209.0)
    assert DTMF_FREQUENCIES["#"] == (941.0, 1477.0)
    assert DTMF_FREQUENCIES["D"] == (941.0, 1633.0)
    assert sorted(DTMF_FREQUENCIES) == sorted(KEYS)


@pytest.mark.parametrize("key", list(KEYS))
def test_each_key_decodes_and_holds_exactly_its_two_tones(key: str) -> None:
    samples = dtmf(key, 0.1)
    assert samples.dtype == np.float32 and len(samples) == SAMPLE_RATE // 10
    assert decode_dtmf_block(samples[480:-480]) == key
    low, high = DTMF_FREQUENCIES[key]
    body = samples[480:-480]
    assert goertzel_amplitude(body, low) == pytest.approx(0.25, abs=0.02)
    assert goertzel_amplitude(body, high) == pytest.approx(0.25, abs=0.02)
    others = {f for pair in DTMF_FREQUENCIES.values() for f in pair} - {low, high}
    assert all(goertzel_amplitude(body, f) < 0.02 for f in others)


def test_sequence_decodes_in_order_lower_case_and_int16() -> None:
    samples = dtmf_sequence("19*#ad0", on=0.06, off=0.04)
    assert decode_dtmf(samples) == "19*#AD0"
    assert decode_dtmf(tones.to_int16(samples)) == "19*#AD0"


def test_not_a_digit() -> None:
    with pytest.raises(ValueError):
        dtmf("x")
    assert decode_dtmf_block(np.zeros(960, dtype=np.float32)) is None
    assert decode_dtmf_block(tones.tone(1000.0, 0.02)) is None  # one tone is not a digit
    noise = np.random.default_rng(1).normal(0, 0.3, 4800).astype(np.float32)
    assert decode_dtmf(noise) == ""


def test_ringback_and_ringtone_cadences() -> None:
    period = RINGBACK.period()
    assert len(period) == 5 * SAMPLE_RATE  # 1 s on, 4 s off
    assert tone_fraction(period[SAMPLE_RATE // 4 : SAMPLE_RATE // 2], 425.0) > 0.99
    assert float(np.max(np.abs(period[2 * SAMPLE_RATE :]))) == 0.0
    ring = RINGTONE.period()
    assert len(ring) == 3 * SAMPLE_RATE  # 0.4 on 0.2 off 0.4 on 2.0 off
    burst = ring[4800:14400]
    assert goertzel_amplitude(burst, 400.0) > 0.15 and goertzel_amplitude(burst, 450.0) > 0.15
    assert decode_dtmf(ring) == ""  # never mistaken for a key


def test_each_ringtone_has_its_own_frequencies() -> None:
    """The Settings choices are distinct patterns: each one's burst carries its own pair and
    none of the others', none is a DTMF key, and an unknown name rings Classic."""
    assert tones.RINGTONES["Classic"] is RINGTONE
    assert tones.ringtone_named("no such ringtone") is RINGTONE
    for name, cadence in tones.RINGTONES.items():
        period = cadence.period()
        burst = period[SAMPLE_RATE // 50 : SAMPLE_RATE // 50 + 2400]  # 50 ms inside the first on
        for other in tones.RINGTONES.values():
            for f in other.frequencies:
                share = tone_fraction(burst, f)
                assert (share > 0.3) if f in cadence.frequencies else (share < 0.05), (name, f)
        assert decode_dtmf(period) == "", name
    periods = {len(c.period()) for c in tones.RINGTONES.values()}
    assert len(periods) == len(tones.RINGTONES)  # different cadences too


def test_mixer_sums_voice_and_tones_and_loops() -> None:
    mixer = Mixer()
    mixer.voice.write(tones.tone(1000.0, 0.1, amplitude=0.3))
    key = mixer.play(dtmf("5", 0.05), loop=False)
    # 400 Hz fits 8 whole cycles in 20 ms, so looping it is seamless.
    cycle = (0.1 * np.sin(2 * np.pi * 400.0 * np.arange(960) / SAMPLE_RATE)).astype(np.float32)
    ring = mixer.play(cycle, loop=True)
    block = mixer.mix(1920)
    assert goertzel_amplitude(block[480:1440], 1000.0) == pytest.approx(0.3, abs=0.03)
    assert goertzel_amplitude(block[480:1440], 770.0) == pytest.approx(0.25, abs=0.03)
    assert goertzel_amplitude(block[480:1440], 400.0) == pytest.approx(0.1, abs=0.03)
    mixer.mix(2400)
    assert not mixer.playing(key) and mixer.playing(ring)  # one-shot done, loop goes on
    mixer.stop()
    quiet = mixer.mix(480)
    assert float(np.max(np.abs(quiet))) < 0.35  # only the rest of the voice
    assert float(np.max(np.abs(mixer.mix(4800)))) <= 1.0
