"""Audio devices through sounddevice (PortAudio): listing, choosing, re-scanning (M3).

Every failure mode ends in a ``DeviceList`` whose ``error`` says why there is nothing to use,
never in an exception: ``import sounddevice`` raises OSError when the PortAudio library is
missing (Linux without libportaudio2; the Windows wheel bundles it), and a machine without a
sound card (CI, a server) lists no devices at all. The app shows ``error`` and carries on.

PortAudio reads the device list once, at initialisation: a headset plugged in later is not
seen. ``list_devices(rescan=True)`` terminates and re-initialises PortAudio to read it again.
That would also kill open streams, so it only re-scans while no stream of ours is open
(between calls); during a call it returns the list it has.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

__all__ = [
    "NO_AUDIO_DEVICE",
    "AudioDevice",
    "DeviceList",
    "choose",
    "list_devices",
    "load_sounddevice",
]

log = logging.getLogger("sigphone.media")

#: The message the UI shows when there is nothing to play or record with (M3).
NO_AUDIO_DEVICE = "no audio device"

Kind = Literal["input", "output"]

_lock = threading.Lock()
_open_streams = 0


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    @property
    def label(self) -> str:
        """What a settings combo box shows ("name (host API)")."""
        return f"{self.name} ({self.hostapi})" if self.hostapi else self.name


@dataclass(frozen=True)
class DeviceList:
    inputs: tuple[AudioDevice, ...] = ()
    outputs: tuple[AudioDevice, ...] = ()
    #: Why nothing can be used ("no audio device: ..."), None when devices exist.
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.error is None

    def default(self, kind: Kind) -> AudioDevice | None:
        devices = self.inputs if kind == "input" else self.outputs
        for d in devices:
            if d.is_default_input if kind == "input" else d.is_default_output:
                return d
        return devices[0] if devices else None


def load_sounddevice() -> tuple[ModuleType | None, str | None]:
    """The sounddevice module, or None and the reason it cannot be used."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # OSError: "PortAudio library not found"
        return None, f"{NO_AUDIO_DEVICE}: the PortAudio library is missing ({exc})"
    return sounddevice, None


def stream_opened() -> None:
    """AudioIO tells us, so a re-scan never pulls PortAudio from under a live stream."""
    global _open_streams
    with _lock:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with _lock:
        _open_streams = max(_open_streams - 1, 0)


def list_devices(rescan: bool = False) -> DeviceList:
    """Input and output devices; ``rescan`` re-reads the system's list (between calls)."""
    sd, error = load_sounddevice()
    if sd is None:
        return DeviceList(error=error)
    try:
        with _lock:
            if rescan and _open_streams == 0:
                sd._terminate()
                sd._initialize()
            raw = list(sd.query_devices())
            apis = [api["name"] for api in sd.query_hostapis()]
            default_in, default_out = _defaults(sd)
    except Exception as exc:  # PortAudioError and whatever a broken driver raises
        log.warning("audio device query failed: %s", exc)
        return DeviceList(error=f"{NO_AUDIO_DEVICE}: {exc}")
    inputs, outputs = [], []
    for i, d in enumerate(raw):
        dev = _device(i, d, apis, default_in, default_out)
        if dev.max_input_channels > 0:
            inputs.append(dev)
        if dev.max_output_channels > 0:
            outputs.append(dev)
    if not inputs and not outputs:
        return DeviceList(error=f"{NO_AUDIO_DEVICE}: no sound card found")
    return DeviceList(tuple(inputs), tuple(outputs))


def choose(devices: DeviceList, wanted: int | str | None, kind: Kind) -> AudioDevice | None:
    """The device the settings name: an index, an exact name or label, else a unique
    case-insensitive part of a name; None or "" means the system default. None if absent
    (the caller reports it; a saved headset that is unplugged must not crash the call)."""
    pool = devices.inputs if kind == "input" else devices.outputs
    if wanted is None or wanted == "":
        return devices.default(kind)
    if isinstance(wanted, int):
        return next((d for d in pool if d.index == wanted), None)
    exact = [d for d in pool if wanted in (d.name, d.label)]
    if exact:
        return exact[0]
    part = [d for d in pool if wanted.lower() in d.name.lower()]
    return part[0] if len(part) == 1 else None


def _defaults(sd: ModuleType) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except Exception:
        return -1, -1
    return int(default_in if default_in is not None else -1), int(
        default_out if default_out is not None else -1
    )


def _device(
    index: int, d: dict[str, Any], apis: list[str], default_in: int, default_out: int
) -> AudioDevice:
    api = d.get("hostapi", -1)
    return AudioDevice(
        index=index,
        name=str(d["name"]),
        hostapi=apis[api] if 0 <= api < len(apis) else "",
        max_input_channels=int(d["max_input_channels"]),
        max_output_channels=int(d["max_output_channels"]),
        default_samplerate=float(d["default_samplerate"]),
        is_default_input=index == default_in,
        is_default_output=index == default_out,
    )
