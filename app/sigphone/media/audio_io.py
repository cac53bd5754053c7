"""The app's sound card: one capture stream and one output stream (with the mixer).

Threading model: PortAudio runs ``_on_input``/``_on_output`` on its own real-time thread.
They only copy samples into or out of a ``SampleFifo``/the ``Mixer`` (a short lock, no
allocation beyond one block, no logging, no event loop or Qt calls). Everything else runs on
the asyncio loop: opening and closing streams goes to a worker thread (PortAudio may block
for a while: PulseAudio connects, Windows drivers wake up), and a watchdog task notices a
stream that stopped on its own (device unplugged, server gone) and reports it.

Without a device (none found, PortAudio missing, open failed, device lost) the same object
keeps working as a null device: the microphone track sends clocked silence, the mixer's
output goes nowhere, the call stays up, and ``status`` plus one ``on_event`` say why (M3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import devices
from .devices import NO_AUDIO_DEVICE, AudioDevice, DeviceList
from .fifo import SampleFifo
from .mixer import Mixer
from .tones import SAMPLE_RATE
from .tracks import FRAME_SAMPLES, MicrophoneTrack

__all__ = ["AudioEvent", "AudioIO"]

log = logging.getLogger("sigphone.media")

#: How long a started stream may take to deliver its first callback before we call it dead
#: (PulseAudio's first duplex callback took 1.8 s on our CI machine) and how long a running one
#: may go quiet.
FIRST_CALLBACK_TIMEOUT = 5.0
STALL_TIMEOUT = 4.0
WATCHDOG_PERIOD = 0.25


@dataclass(frozen=True)
class AudioEvent:
    """What the UI shows: ``kind`` is "no-device", "device-lost" or "started"."""

    kind: Literal["no-device", "device-lost", "started"]
    message: str
    direction: Literal["input", "output", ""] = ""


class _Stream:
    """One sounddevice stream and the liveness numbers the watchdog reads."""

    def __init__(self, kind: Literal["input", "output"], device: AudioDevice) -> None:
        self.kind = kind
        self.device = device
        self.stream: Any = None
        self.callbacks = 0
        self.last_callback = 0.0
        self.blocksize = 0
        self.started_at = 0.0
        self.closing = False
        self.xruns = 0

    def tick(self, frames: int, status: Any) -> None:
        """Called by each PortAudio callback: the numbers the watchdog reads."""
        self.callbacks += 1
        self.last_callback = time.monotonic()
        self.blocksize = frames
        if status:
            self.xruns += 1


class AudioIO:
    """Microphone and speaker for calls and tones; ``start``/``stop`` are reference counted
    so a ringtone and a call can share the output stream."""

    def __init__(
        self,
        input_device: int | str | None = None,
        output_device: int | str | None = None,
        on_event: Callable[[AudioEvent], Any] | None = None,
        latency: str | float = "low",
        blocksize: int = FRAME_SAMPLES // 2,
        voice_keep_frames: int = 1,
    ) -> None:
        self.input_device = input_device
        self.output_device = output_device
        self.on_event = on_event
        self.latency = latency
        #: 10 ms blocks: PortAudio's variable blocks on ALSA/PulseAudio were ~2 ms, which
        #: costs a Python call each and under-ran now and then (each underrun paused output
        #: for ~1.7 s while PulseAudio re-buffered).
        self.blocksize = blocksize
        #: Far-side audio kept queued for the speaker, in 20 ms frames on top of one device
        #: block: the playout delay we accept to ride out network and scheduling jitter.
        self.voice_keep_frames = voice_keep_frames
        self.mixer = Mixer()
        self.mic = SampleFifo(SAMPLE_RATE // 5)
        #: None while devices work; otherwise the message to show ("no audio device: ...").
        self.status: str | None = None
        #: Peak level (0..1) of the last captured block: the Settings microphone meter.
        self.input_level = 0.0
        self.events: list[AudioEvent] = []
        self._users = {"input": 0, "output": 0}
        self._streams: dict[str, _Stream] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy = asyncio.Lock()

    # --- Public methods ------------------------------------------------------------------

    def set_devices(self, input_device: int | str | None, output_device: int | str | None) -> None:
        """Settings changed: the choice applies the next time the streams open (between
        calls; switching mid-call would glitch both directions)."""
        self.input_device = input_device
        self.output_device = output_device

    async def start(self, capture: bool = True) -> None:
        """Open the output stream (and the capture stream with ``capture``) if not open."""
        async with self._busy:
            self._loop = asyncio.get_running_loop()
            if not self._streams:
                self.status = None  # a fresh try: devices may be back
            kinds: list[Literal["input", "output"]] = ["output", "input"] if capture else ["output"]
            for kind in kinds:
                self._users[kind] += 1
                if self._users[kind] == 1:
                    await self._open(kind)
            if self._streams and self._watchdog is None:
                self._watchdog = asyncio.ensure_future(self._watch())

    async def stop(self, capture: bool = True) -> None:
        """Undo one ``start``; the last user closes the streams."""
        async with self._busy:
            kinds: list[Literal["input", "output"]] = ["output", "input"] if capture else ["output"]
            for kind in kinds:
                self._users[kind] = max(self._users[kind] - 1, 0)
                if self._users[kind] == 0:
                    await self._close(kind)
            if not self._streams and self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None

    async def close(self) -> None:
        """Close everything (app exit)."""
        async with self._busy:
            self._users = {"input": 0, "output": 0}
            for kind in list(self._streams):
                await self._close(kind)  # type: ignore[arg-type]
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None

    def microphone_track(self) -> MicrophoneTrack:
        """A new sending track for a call, fed by the capture stream (silence without one)."""
        return MicrophoneTrack(self.mic)

    def play_voice(self, samples: np.ndarray) -> None:
        """The far side's audio (from the loop). Keeps the queue short: if the output device
        falls behind (or is gone), old audio is dropped rather than delayed."""
        voice = self.mixer.voice
        voice.write(samples)
        block = max(s.blocksize for s in self._streams.values()) if self._streams else 0
        keep = self.voice_keep_frames * FRAME_SAMPLES + block
        if len(voice) > keep + FRAME_SAMPLES:
            voice.trim(keep)

    def play_tone(self, samples: np.ndarray, loop: bool = False, gain: float = 1.0) -> int:
        """A local tone (DTMF feedback, ringback, ringtone) mixed over the call's audio."""
        return self.mixer.play(samples, loop=loop, gain=gain)

    def stop_tone(self, key: int | None = None) -> None:
        self.mixer.stop(key)

    @property
    def capturing(self) -> bool:
        return "input" in self._streams

    @property
    def playing(self) -> bool:
        return "output" in self._streams

    def callbacks(self, kind: Literal["input", "output"]) -> int:
        """PortAudio callbacks so far on the open stream (0 when none): audio is flowing."""
        s = self._streams.get(kind)
        return s.callbacks if s else 0

    # --- Opening and closing (blocking PortAudio calls go to a worker thread) -------------

    async def _open(self, kind: Literal["input", "output"]) -> None:
        found = await asyncio.to_thread(devices.list_devices)
        wanted = self.input_device if kind == "input" else self.output_device
        device, error = _pick(found, wanted, kind)
        if device is None:
            self._no_device(kind, error or NO_AUDIO_DEVICE)
            return
        s = _Stream(kind, device)
        devices.stream_opened()  # counted before opening: no re-scan may pull PortAudio away
        try:
            s.stream = await asyncio.to_thread(self._make_stream, s)
        except asyncio.CancelledError:
            devices.stream_closed()
            raise
        except Exception as exc:
            devices.stream_closed()
            self._no_device(kind, f"{NO_AUDIO_DEVICE}: cannot open {device.label}: {exc}")
            return
        self._streams[kind] = s
        if kind == "input":
            self.mic.clear()
            self.mic.live = True
        self._event(AudioEvent("started", f"{kind}: {device.label}", kind))

    def _make_stream(self, s: _Stream) -> Any:
        sd, error = devices.load_sounddevice()
        if sd is None:
            raise RuntimeError(error)
        if s.kind == "input":
            cls, callback = sd.InputStream, self._input_callback(s)
        else:
            cls, callback = sd.OutputStream, self._output_callback(s)
        most = s.device.max_input_channels if s.kind == "input" else s.device.max_output_channels
        stream = None
        # Mono first; some Windows drivers (WASAPI, a few USB headsets) only open stereo. The
        # callbacks read channel 0 and write the mix to every channel, so either works.
        for channels in sorted({1, max(1, min(most, 2))}):
            try:
                stream = cls(
                    device=s.device.index,
                    samplerate=SAMPLE_RATE,
                    channels=channels,
                    dtype="float32",
                    latency=self.latency,
                    blocksize=self.blocksize,
                    callback=callback,
                    finished_callback=lambda: self._finished(s),
                )
                break
            except sd.PortAudioError:
                if channels >= min(most, 2):
                    raise
        assert stream is not None
        s.started_at = time.monotonic()
        stream.start()
        return stream

    async def _close(self, kind: Literal["input", "output"]) -> None:
        s = self._streams.pop(kind, None)
        if kind == "input":
            self.mic.close()
        if s is None:
            return
        s.closing = True
        try:
            await asyncio.to_thread(s.stream.close)
        except Exception as exc:  # a vanished device can fail to close; it is gone anyway
            log.warning("closing %s stream: %s", kind, exc)
        devices.stream_closed()

    # --- PortAudio thread ------------------------------------------------------------------

    def _input_callback(self, s: _Stream) -> Callable[..., None]:
        mic = self.mic

        def callback(indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
            s.tick(frames, status)
            block = indata[:, 0]
            mic.write(block)
            self.input_level = float(np.abs(block).max()) if len(block) else 0.0

        return callback

    def _output_callback(self, s: _Stream) -> Callable[..., None]:
        mixer = self.mixer

        def callback(outdata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
            s.tick(frames, status)
            outdata[:] = mixer.mix(frames).reshape(-1, 1)

        return callback

    def _finished(self, s: _Stream) -> None:
        """PortAudio ended a stream (maybe on its thread): if we did not ask, it died."""
        if s.closing or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the app is exiting
            self._loop.call_soon_threadsafe(self._lost, s, "the stream stopped")

    # --- Loop side -------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD)
            now = time.monotonic()
            for s in list(self._streams.values()):
                # An output stream pre-fills a few blocks at once, then may pause up to
                # ~2 s (PulseAudio) before real-time callbacks begin: judge stalls only
                # once the stream has been running past its start-up allowance.
                starting = now - s.started_at < FIRST_CALLBACK_TIMEOUT
                if s.callbacks == 0 and not starting:
                    self._lost(s, "it never delivered audio")
                elif not starting and now - s.last_callback > STALL_TIMEOUT:
                    self._lost(s, "it stopped delivering audio")
                elif s.stream is not None and not s.stream.active and not s.closing:
                    self._lost(s, "the stream stopped")

    def _lost(self, s: _Stream, why: str) -> None:
        if self._streams.get(s.kind) is not s or s.closing:
            return
        del self._streams[s.kind]
        s.closing = True
        if s.kind == "input":
            self.mic.close()
        message = f"audio device lost: {s.device.label} ({s.kind}): {why}"
        log.warning("%s", message)
        self.status = message
        self._event(AudioEvent("device-lost", message, s.kind))
        task = asyncio.ensure_future(asyncio.to_thread(_quiet_close, s.stream))
        task.add_done_callback(lambda _t: devices.stream_closed())

    def _no_device(self, kind: Literal["input", "output"], message: str) -> None:
        if kind == "input":
            self.mic.close()
        self.status = message
        log.warning("%s (%s)", message, kind)
        self._event(AudioEvent("no-device", message, kind))

    def _event(self, event: AudioEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("AudioIO on_event raised")


def _pick(
    found: DeviceList, wanted: int | str | None, kind: Literal["input", "output"]
) -> tuple[AudioDevice | None, str | None]:
    if not found.available:
        return None, found.error
    device = devices.choose(found, wanted, kind)
    if device is None:
        if wanted not in (None, ""):
            return None, f"{NO_AUDIO_DEVICE}: the {kind} device {wanted!r} is not connected"
        return None, f"{NO_AUDIO_DEVICE}: no {kind} device"
    return device, None


def _quiet_close(stream: Any) -> None:
    try:
        stream.close()
    except Exception as exc:
        log.debug("closing a lost stream: %s", exc)
