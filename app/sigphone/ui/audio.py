"""Sound for the UI behind a small interface: key tones, ringtone, ringback, device list.

The voice and tone engine (``sigphone.media``: Q.23 tones, a mixer, WebRTC) arrived in main
just before this softphone's last merge and is not wired in yet; the UI only needs the four
calls of ``Tones``. Until the adapter exists, ``make_tones`` returns ``SilentTones``, which
records what would have played (tests read it) and carries the one sentence the UI shows:
"No audio device" without a sound card, or that sound is not in this build. The adapter is
small: ``key`` -> ``AudioIO.play_tone(tones.dtmf(digit, 0.1))``, ``ringtone``/``ringback``
-> ``play_tone(..., loop=True)`` / ``stop_tone``, with ``AudioIO.start(capture=False)`` held
while a tone plays (docs/media.md). Nothing here touches Qt, and nothing blocks: device
probing happens once, and ``rescan`` is the user's explicit request.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["AudioDevices", "SilentTones", "Tones", "list_devices", "make_tones"]

log = logging.getLogger("sigphone.ui")

NO_DEVICE = "No audio device: calls, chat and channels work, but without sound."
NO_ENGINE = "Sound is not part of this build yet: calls carry signaling and DTMF only."


class Tones(Protocol):
    """What the dialer, the incoming-call popup and the call view ask for."""

    problem: str | None  # None when sound works; else one sentence for the user

    def key(self, digit: str) -> None: ...
    def ringtone(self, on: bool) -> None: ...
    def ringback(self, on: bool) -> None: ...
    def stop(self) -> None: ...


@dataclass
class SilentTones:
    """Plays nothing; remembers what it was asked (the UI works the same without sound)."""

    problem: str | None = NO_DEVICE
    played: list[str] = field(default_factory=list)
    ringing: bool = False
    ringing_back: bool = False

    def key(self, digit: str) -> None:
        self.played.append(digit)

    def ringtone(self, on: bool) -> None:
        self.ringing = on

    def ringback(self, on: bool) -> None:
        self.ringing_back = on

    def stop(self) -> None:
        self.ringing = self.ringing_back = False


@dataclass(frozen=True)
class AudioDevices:
    inputs: list[str]
    outputs: list[str]
    problem: str | None


def _sounddevice():  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module("sounddevice")
    except (ImportError, OSError) as exc:  # OSError: PortAudio library missing
        log.info("sounddevice unavailable: %s", exc)
        return None


def list_devices(rescan: bool = False) -> AudioDevices:
    """Input and output device names. PortAudio freezes its list at start-up, so
    ``rescan`` re-initialises it (only between calls: it closes open streams)."""
    sd = _sounddevice()
    if sd is None:
        return AudioDevices([], [], NO_DEVICE)
    try:
        if rescan:
            sd._terminate()
            sd._initialize()
        devices = list(sd.query_devices())
    except Exception as exc:
        log.warning("listing audio devices failed: %s", exc)
        return AudioDevices([], [], NO_DEVICE)
    inputs = [d["name"] for d in devices if d.get("max_input_channels", 0) > 0]
    outputs = [d["name"] for d in devices if d.get("max_output_channels", 0) > 0]
    return AudioDevices(inputs, outputs, None if outputs else NO_DEVICE)


def make_tones() -> Tones:
    """Silence with the right sentence (see the module docstring for the media adapter)."""
    return SilentTones(problem=list_devices().problem or NO_ENGINE)
