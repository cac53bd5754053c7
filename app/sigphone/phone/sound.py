"""Sound for the UI behind a small interface: key tones, ringtone, ringback, device list.

The UI only needs the four calls of ``Tones``. ``voice.Voice`` implements them over
``sigphone.media`` (one mixed output stream) and also gives each call its media;
``SilentTones`` is what runs without the media extra, and what the tests that need no sound
use: it records what would have played and carries the one sentence the UI shows. Nothing
here touches Qt, and nothing blocks: device probing happens once, and ``rescan`` is the
user's explicit request (between calls).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["AudioDevices", "SilentTones", "Tones", "list_devices", "make_tones"]

log = logging.getLogger("sigphone.phone")

NO_DEVICE = "No audio device: calls, chat and channels work, but without sound."
NO_ENGINE = (
    "Voice is unavailable: the media extra is not installed (pip install 'sigphone[gui,media]'); "
    "calls carry signaling and DTMF only."
)


class Tones(Protocol):
    """What the dialer, the incoming-call popup, the call view and Settings ask for."""

    problem: str | None  # None when sound works; else one sentence for the user

    def key(self, digit: str) -> None: ...
    def ringtone(self, on: bool) -> None: ...
    def ringback(self, on: bool) -> None: ...
    def stop(self) -> None: ...
    def preview(self, ringtone: str) -> None: ...
    def test_sound(self) -> None: ...
    def meter(self, on: bool) -> None: ...
    def input_level(self) -> float: ...
    def message_sound(self) -> None: ...


@dataclass
class SilentTones:
    """Plays nothing; remembers what it was asked (the UI works the same without sound)."""

    problem: str | None = NO_DEVICE
    played: list[str] = field(default_factory=list)
    ringing: bool = False
    ringing_back: bool = False
    metering: bool = False

    def key(self, digit: str) -> None:
        self.played.append(digit)

    def ringtone(self, on: bool) -> None:
        self.ringing = on

    def ringback(self, on: bool) -> None:
        self.ringing_back = on

    def stop(self) -> None:
        self.ringing = self.ringing_back = False

    def preview(self, ringtone: str) -> None:
        self.played.append(f"preview:{ringtone}")

    def test_sound(self) -> None:
        self.played.append("test")

    def meter(self, on: bool) -> None:
        self.metering = on

    def input_level(self) -> float:
        return 0.0

    def message_sound(self) -> None:
        self.played.append("message")


@dataclass(frozen=True)
class AudioDevices:
    inputs: list[str]
    outputs: list[str]
    problem: str | None


def _sounddevice() -> Any:
    try:
        return importlib.import_module("sounddevice")
    except (ImportError, OSError) as exc:  # OSError: PortAudio library missing
        log.info("sounddevice unavailable: %s", exc)
        return None


def list_devices(rescan: bool = False) -> AudioDevices:
    """Input and output device labels as ``sigphone.media`` chooses them (so a saved label
    finds its device again). PortAudio freezes its list at start-up, so ``rescan``
    re-initialises it; media refuses that while a stream is open (during a call)."""
    if importlib.util.find_spec("numpy") is not None:
        try:
            from ..media import devices as media_devices
        except ImportError:
            media_devices = None  # type: ignore[assignment]
        if media_devices is not None:
            found = media_devices.list_devices(rescan=rescan)
            if not found.available:
                return AudioDevices([], [], NO_DEVICE)
            inputs = [d.label for d in found.inputs]
            outputs = [d.label for d in found.outputs]
            return AudioDevices(inputs, outputs, None if outputs else NO_DEVICE)
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
    """Silence with the right sentence (the app uses ``voice.make_voice`` instead)."""
    return SilentTones(problem=list_devices().problem or NO_ENGINE)
