"""Telephone tones (M2): DTMF per ITU-T Q.23, ringback and ringtone cadences, and a Goertzel
detector that decodes them.

Everything is mono float32 in [-1, 1] at 48 kHz (the rate of the whole media layer, Opus's
native rate), so a tone can go straight into the mixer; ``to_int16`` converts for files and
RTP. The Goertzel filter measures one frequency in O(N) without an FFT: it is how real DTMF
receivers work and how the tests check that a tone crossed the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DTMF_COLUMNS",
    "DTMF_FREQUENCIES",
    "DTMF_ROWS",
    "RINGBACK",
    "RINGTONE",
    "RINGTONES",
    "SAMPLE_RATE",
    "Cadence",
    "decode_dtmf",
    "decode_dtmf_block",
    "dtmf",
    "dtmf_sequence",
    "goertzel_amplitude",
    "ringtone_named",
    "to_int16",
    "tone",
    "tone_fraction",
]

SAMPLE_RATE = 48_000

#: Q.23 low group (rows) and high group (columns), in Hz.
DTMF_ROWS = (697.0, 770.0, 852.0, 941.0)
DTMF_COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")

#: digit -> (row frequency, column frequency).
DTMF_FREQUENCIES: dict[str, tuple[float, float]] = {
    key: (DTMF_ROWS[r], DTMF_COLUMNS[c])
    for r, row in enumerate(_KEYPAD)
    for c, key in enumerate(row)
}


def tone(
    frequencies: tuple[float, ...] | float,
    seconds: float,
    amplitude: float = 0.5,
    rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """A sum of sines with a total peak of ``amplitude`` (split evenly between frequencies).

    A 2 ms fade at both ends avoids the click a hard edge makes in a speaker.
    """
    freqs = (frequencies,) if isinstance(frequencies, int | float) else tuple(frequencies)
    n = round(seconds * rate)
    t = np.arange(n, dtype=np.float64) / rate
    out = np.zeros(n, dtype=np.float64)
    for f in freqs:
        out += np.sin(2 * math.pi * f * t)
    out *= amplitude / max(len(freqs), 1)
    fade = min(round(0.002 * rate), n // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:fade] *= ramp
        out[n - fade :] *= ramp[::-1]
    return out.astype(np.float32)


def dtmf(digit: str, seconds: float = 0.1, amplitude: float = 0.5) -> np.ndarray:
    """One DTMF key (0-9 * # A-D; a-d accepted). Q.24 asks for >= 40 ms; 100 ms is usual."""
    key = digit.upper()
    if key not in DTMF_FREQUENCIES:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return tone(DTMF_FREQUENCIES[key], seconds, amplitude)


def dtmf_sequence(
    digits: str, on: float = 0.1, off: float = 0.07, amplitude: float = 0.5
) -> np.ndarray:
    """Digits separated by silence, as an auto-dialer sends them."""
    gap = np.zeros(round(off * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for d in digits:
        parts += [dtmf(d, on, amplitude), gap]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class Cadence:
    """A repeating call-progress tone: frequencies played in (on, off) second pairs."""

    frequencies: tuple[float, ...]
    pattern: tuple[tuple[float, float], ...]
    amplitude: float = 0.3

    def period(self) -> np.ndarray:
        """One full period; the mixer loops it until told to stop."""
        parts: list[np.ndarray] = []
        for on, off in self.pattern:
            parts.append(tone(self.frequencies, on, self.amplitude))
            parts.append(np.zeros(round(off * SAMPLE_RATE), dtype=np.float32))
        return np.concatenate(parts)


#: Ringback the caller hears while the far phone rings: ETSI/CEPT 425 Hz, 1 s on, 4 s off
#: (ITU-T E.180 lists it for most of Europe).
RINGBACK = Cadence((425.0,), ((1.0, 4.0),), amplitude=0.25)

#: The callee's ringtone: a UK-style double ring (400+450 Hz, 0.4 on 0.2 off 0.4 on 2 off),
#: recognisable and distinct from the ringback so the two can be told apart in tests.
RINGTONE = Cadence((400.0, 450.0), ((0.4, 0.2), (0.4, 2.0)), amplitude=0.4)

#: The ringtones a user can choose (Settings "Ringtone"), by the name shown there. Each has
#: its own frequencies, none near 425 Hz (ringback) nor on a Q.23 DTMF frequency, so a test
#: (or a user) can tell them apart: "Classic" is ``RINGTONE``; "Soft" a quieter, slower
#: single ring (520+660 Hz, 1 s on 3 s off); "Digital" a fast electronic trill
#: (1800+2200 Hz, four 0.1 s beeps, then 2 s off).
RINGTONES: dict[str, Cadence] = {
    "Classic": RINGTONE,
    "Soft": Cadence((520.0, 660.0), ((1.0, 3.0),), amplitude=0.25),
    "Digital": Cadence(
        (1800.0, 2200.0), ((0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.1, 2.0)), amplitude=0.3
    ),
}


def ringtone_named(name: str) -> Cadence:
    """The ringtone called ``name``; "Classic" for an unknown name (a settings file written
    by another version must still ring)."""
    return RINGTONES.get(name, RINGTONE)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16, clipping instead of wrapping around."""
    clipped: np.ndarray = np.clip(samples, -1.0, 1.0) * 32767.0
    return clipped.astype(np.int16)


def _as_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples.astype(np.float64) / 32768.0
    return samples.astype(np.float64)


def goertzel_amplitude(samples: np.ndarray, frequency: float, rate: int = SAMPLE_RATE) -> float:
    """Amplitude of ``frequency`` in ``samples`` (a pure sine of peak A reads about A).

    The recurrence runs in numpy-free Python only over N samples per frequency, so it is used
    on short blocks (a 20-100 ms window), which is all DTMF and tone checks need.
    """
    x = _as_float(np.asarray(samples).reshape(-1))
    n = len(x)
    if n == 0:
        return 0.0
    w = 2 * math.pi * frequency / rate
    coeff = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x.tolist():
        s1, s2 = v + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def tone_fraction(samples: np.ndarray, frequency: float, rate: int = SAMPLE_RATE) -> float:
    """Share of the block's energy at ``frequency``: ~1 for a pure tone, ~0 for silence or
    another tone. Independent of level, so codec gain and device volume do not matter."""
    x = _as_float(np.asarray(samples).reshape(-1))
    energy = float(np.mean(x * x)) if len(x) else 0.0
    if energy < 1e-10:
        return 0.0
    a = goertzel_amplitude(x, frequency, rate)
    return min((a * a / 2) / energy, 1.0)


def decode_dtmf_block(
    samples: np.ndarray, rate: int = SAMPLE_RATE, min_fraction: float = 0.7
) -> str | None:
    """The DTMF digit in one block (>= 20 ms), or None.

    A digit needs one clear row and one clear column tone that together carry at least
    ``min_fraction`` of the block's energy (so speech or a single tone is not a digit).
    """
    x = _as_float(np.asarray(samples).reshape(-1))
    energy = float(np.mean(x * x)) if len(x) else 0.0
    if energy < 1e-8:
        return None
    rows = [goertzel_amplitude(x, f, rate) for f in DTMF_ROWS]
    cols = [goertzel_amplitude(x, f, rate) for f in DTMF_COLUMNS]
    r, c = int(np.argmax(rows)), int(np.argmax(cols))
    share = (rows[r] ** 2 / 2 + cols[c] ** 2 / 2) / energy
    if share < min_fraction:
        return None
    return _KEYPAD[r][c]


def decode_dtmf(samples: np.ndarray, rate: int = SAMPLE_RATE, block: float = 0.02) -> str:
    """All digits in a recording: a digit counts once per run of blocks that hold it."""
    size = round(block * rate)
    x = np.asarray(samples).reshape(-1)
    out: list[str] = []
    previous: str | None = None
    for start in range(0, len(x) - size + 1, size):
        digit = decode_dtmf_block(x[start : start + size], rate)
        if digit is not None and digit != previous:
            out.append(digit)
        previous = digit
    return "".join(out)
