"""The softphone's sound: ``Voice`` plays the phone's tones and gives each call its media.

Why a separate module: the call controller owns the call, but ``sigphone.media`` (aiortc,
numpy, sounddevice) is an optional extra. This module is the only place in the phone that
imports it, and only inside functions: ``pip install '.[gui]'`` alone still runs
(``SilentTones`` with a sentence saying voice is unavailable).

One ``Voice`` per phone holds one ``AudioIO``: key tones, ringtone, ringback and the far
side's voice all go through its single mixed output stream, so a ringing phone and a call
never fight over a device. The one exception is a ringer device (Settings "Ringer") other
than the speaker: the ringtone then plays on a second, output-only ``AudioIO`` opened only
while ringing, and moves back to the speaker if that device cannot be opened or is lost.

Tone methods are plain calls from Qt slots; opening and closing streams is reference counted
in ``AudioIO`` and runs as tasks tracked here (PortAudio work goes to a worker thread
there), so nothing blocks the GUI thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .sound import NO_DEVICE, NO_ENGINE, SilentTones, Tones

if TYPE_CHECKING:
    import numpy as np
    from aiortc.mediastreams import MediaStreamTrack

    from ..media import AudioIO, CallAudio, MediaConfig, MediaEvent

__all__ = ["Voice", "make_voice", "media_available"]

log = logging.getLogger("sigphone.phone")

#: How long the output stays open after the last key tone in the idle dialer: typing a
#: number should not open and close the sound card for every digit.
KEY_HOLD_SECONDS = 1.5

DeviceChoice = Callable[[], tuple[str, str]]
#: The ringtone's name (Settings "audio/ringtone"), read each time the phone starts ringing.
RingtoneChoice = Callable[[], str]
#: The ringer output's label (Settings "audio/ringer"; "" = same as the speaker), read each
#: time the phone starts ringing.
RingerChoice = Callable[[], str]
#: Ring and speaker volume (0..1; Settings), read when a ring starts and a call starts.
VolumeChoice = Callable[[], tuple[float, float]]


def media_available() -> bool:
    """True when the media extra (aiortc, numpy) is installed; sounddevice is optional
    (without it, or without PortAudio, calls connect with "no audio device")."""
    return all(importlib.util.find_spec(m) is not None for m in ("aiortc", "numpy"))


class Voice:
    """Tones (the ``Tones`` protocol) and per-call media over one ``AudioIO``.

    ``source_factory``/``sink`` replace the microphone and the speaker for a call (tests use
    a ``ToneTrack`` and a collector); tones still go through the mixer. ``ringtone_name``
    gives the chosen ringtone (``media.tones.RINGTONES``) when a call starts ringing, so a
    change in Settings applies to the next call without rebuilding anything.
    """

    def __init__(
        self,
        audio: AudioIO,
        config: MediaConfig | None = None,
        devices: DeviceChoice | None = None,
        source_factory: Callable[[], MediaStreamTrack] | None = None,
        sink: Callable[[np.ndarray], None] | None = None,
        ringtone_name: RingtoneChoice | None = None,
        ringer_device: RingerChoice | None = None,
        volumes: VolumeChoice | None = None,
    ) -> None:
        from ..media.devices import list_devices

        self.audio = audio
        self.config = config
        self.devices = devices
        self.source_factory = source_factory
        self.sink = sink
        self.ringtone_name = ringtone_name
        self.ringer_device = ringer_device
        self.volumes = volumes
        self._preview: int | None = None
        self._preview_timer: asyncio.TimerHandle | None = None
        self._metering = False
        #: A second AudioIO, output only, opened only while ringing on a ringer device other
        #: than the speaker (a loud external ringer, the laptop speaker while a headset is
        #: the call's speaker). Built on first use; None when the ringer is the speaker.
        self.ringer_audio: AudioIO | None = None
        #: The AudioIO the current ringtone plays on (main or ringer), None when silent.
        self._ringing_on: AudioIO | None = None
        self._ringer_failed = False
        found = list_devices()
        self.problem: str | None = None if found.available else NO_DEVICE
        #: Called with (kind, message) for AudioIO events: "no-device", "device-lost".
        self.on_audio_event: Callable[[str, str], None] | None = None
        audio.on_event = self._audio_event
        self._ringtone: int | None = None
        self._ringback: int | None = None
        self._holds = 0
        self._key_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- Tones (called from Qt slots on the loop's thread) ----------------------------

    def key(self, digit: str) -> None:
        """Q.23 key feedback; keeps the output open briefly for the next key."""
        from ..media.tones import dtmf

        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            return
        self.audio.play_tone(dtmf(digit, 0.1, 0.3))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._key_timer is None:
            self._hold(True)
        else:
            self._key_timer.cancel()
        self._key_timer = loop.call_later(KEY_HOLD_SECONDS, self._release_keys)

    def ringtone(self, on: bool) -> None:
        """Loop the ringtone chosen in Settings (Classic without a choice) until off, on the
        ringer device when one other than the speaker is chosen."""
        from ..media.tones import ringtone_named

        if on and self._ringtone is None:
            name = self.ringtone_name() if self.ringtone_name is not None else "Classic"
            period = ringtone_named(name).period() * self._ring_gain()
            ringer = self._ringer_audio()
            if ringer is None:
                self._ringtone = self._loop_tone(None, True, lambda: period)
                self._ringing_on = self.audio
            else:
                self._ringtone = ringer.play_tone(period, loop=True)
                self._ringing_on = ringer
                self._spawn(ringer.start(capture=False))
        elif not on and self._ringtone is not None:
            if self._ringing_on is self.audio:
                self._ringtone = self._loop_tone(self._ringtone, False, lambda: None)
            elif self._ringing_on is not None:
                self._ringing_on.stop_tone(self._ringtone)
                self._spawn(self._ringing_on.stop(capture=False))
                self._ringtone = None
            self._ringing_on = None

    def ringback(self, on: bool) -> None:
        from ..media.tones import RINGBACK

        self._ringback = self._loop_tone(self._ringback, on, RINGBACK.period)

    def stop(self) -> None:
        self.ringtone(False)
        self.ringback(False)
        if self._key_timer is not None:
            self._key_timer.cancel()
            self._release_keys()
        self.audio.stop_tone()

    def preview(self, ringtone: str) -> None:
        """Settings: play one period of ``ringtone`` at the ring volume (again: restart)."""
        from ..media.tones import ringtone_named

        samples = ringtone_named(ringtone).period() * self._ring_gain()
        self._play_for(samples)

    def test_sound(self) -> None:
        """Settings: a short two-note chime on the speaker at the speaker volume."""
        import numpy as np

        from ..media.tones import tone

        gain = self._speaker_gain()
        samples = np.concatenate([tone(660.0, 0.25, 0.4), tone(880.0, 0.35, 0.4)]) * gain
        self._play_for(samples)

    def message_sound(self) -> None:
        """A new chat message: one soft blip (a ringing phone or a call is never disturbed
        by more than that)."""
        from ..media.tones import tone

        self._play_for(tone(1046.5, 0.08, 0.25) * self._ring_gain())

    def meter(self, on: bool) -> None:
        """Settings' microphone meter: keep the capture stream open while it is shown."""
        if on == self._metering:
            return
        self._metering = on
        if on:
            self._apply_devices()
            self._spawn(self.audio.start(capture=True))
        else:
            self._spawn(self.audio.stop(capture=True))
            self.audio.input_level = 0.0

    def input_level(self) -> float:
        return float(self.audio.input_level)

    @property
    def ringing_device(self) -> AudioIO | None:
        """The AudioIO the ringtone plays on now (``audio`` or ``ringer_audio``)."""
        return self._ringing_on

    @property
    def ringing(self) -> bool:
        return self._ringtone is not None

    @property
    def ringing_back(self) -> bool:
        return self._ringback is not None

    # --- Calls ---------------------------------------------------------------------------

    def new_call(self, on_event: Callable[[MediaEvent], Any]) -> CallAudio:
        """Media for the next call (caller: ``offer_extra`` then ``attach``; callee:
        ``attach`` then ``accept``). Tones stay with the bridge (``tones=False``) so there
        is one ringback/ringtone path with or without media."""
        from ..media import CallAudio

        self._apply_devices()
        self.audio.mixer.voice_gain = self._speaker_gain()
        source = self.source_factory() if self.source_factory is not None else None
        return CallAudio(
            self.audio, self.config, source=source, sink=self.sink, on_event=on_event, tones=False
        )

    def rescan(self) -> None:
        """Re-read the problem sentence (the settings page re-scanned the devices)."""
        from ..media.devices import list_devices

        self.problem = None if list_devices().available else NO_DEVICE

    async def aclose(self) -> None:
        """Quit: stop tones, let pending stream opens finish, close the devices."""
        self.stop()
        self.meter(False)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.audio.close()
        if self.ringer_audio is not None:
            await self.ringer_audio.close()

    # --- Internals -------------------------------------------------------------------------

    def _ring_gain(self) -> float:
        return max(0.0, min(1.0, self.volumes()[0])) if self.volumes is not None else 1.0

    def _speaker_gain(self) -> float:
        return max(0.0, min(1.0, self.volumes()[1])) if self.volumes is not None else 1.0

    def _play_for(self, samples: Any) -> None:
        """A one-shot tone with the output held open for its length."""
        if self._preview is not None:
            self.audio.stop_tone(self._preview)
        if self._preview_timer is not None:
            self._preview_timer.cancel()
            self._preview_timer = None
        else:
            self._hold(True)
        self._preview = self.audio.play_tone(samples)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._release_preview()
            return
        self._preview_timer = loop.call_later(len(samples) / 48_000 + 0.3, self._release_preview)

    def _release_preview(self) -> None:
        self._preview_timer = None
        self._preview = None
        self._hold(False)

    def _ringer_audio(self) -> AudioIO | None:
        """The ringer's AudioIO, or None to ring on the speaker (no choice, or the same
        device as the speaker: one stream per device, never two on one card)."""
        from ..media import AudioIO

        ringer = self.ringer_device() if self.ringer_device is not None else ""
        if self._ringer_failed:  # this ring already fell back; the next ring tries again
            self._ringer_failed = False
            return None
        speaker = self.devices()[1] if self.devices is not None else ""
        if not ringer or ringer == speaker:
            return None
        if self.ringer_audio is None:
            self.ringer_audio = AudioIO()
            self.ringer_audio.on_event = self._ringer_event
        self.ringer_audio.set_devices(None, ringer)
        return self.ringer_audio

    def _ringer_event(self, event: Any) -> None:
        """The ringer device is missing or was lost while ringing: ring on the speaker
        instead, so an unplugged ringer never means a silent incoming call."""
        if event.kind not in ("no-device", "device-lost"):
            return
        log.warning("ringer: %s; ringing on the speaker", event.message)
        ringer = self.ringer_audio
        if ringer is None or self._ringing_on is not ringer or self._ringtone is None:
            return
        ringer.stop_tone(self._ringtone)
        self._spawn(ringer.stop(capture=False))
        self._ringtone = None
        self._ringing_on = None
        self._ringer_failed = True
        self.ringtone(True)

    def _apply_devices(self) -> None:
        if self.devices is not None:
            mic, speaker = self.devices()
            self.audio.set_devices(mic or None, speaker or None)

    def _loop_tone(self, key: int | None, on: bool, period: Callable[[], Any]) -> int | None:
        if on and key is None:
            key = self.audio.play_tone(period(), loop=True)
            self._hold(True)
        elif not on and key is not None:
            self.audio.stop_tone(key)
            key = None
            self._hold(False)
        return key

    def _release_keys(self) -> None:
        self._key_timer = None
        self._hold(False)

    def _hold(self, on: bool) -> None:
        """Keep the output stream open (reference counted in AudioIO, in order: its lock
        is first come, first served)."""
        if on:
            self._holds += 1
            if self._holds == 1:
                self._apply_devices()
            self._spawn(self.audio.start(capture=False))
        elif self._holds > 0:
            self._holds -= 1
            self._spawn(self.audio.stop(capture=False))

    def _spawn(self, coro: Any) -> None:
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:  # no loop (a test without one): nothing to open
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("audio device: %r", task.exception())

    def _audio_event(self, event: Any) -> None:
        if event.kind in ("no-device", "device-lost"):
            if event.kind == "device-lost":
                self.problem = None  # the next open tries again
            if self.on_audio_event is not None:
                self.on_audio_event(event.kind, event.message)


def make_voice(
    devices: DeviceChoice | None = None,
    config: MediaConfig | None = None,
    ringtone_name: RingtoneChoice | None = None,
    ringer_device: RingerChoice | None = None,
    volumes: VolumeChoice | None = None,
) -> Tones:
    """A ``Voice`` when the media extra is installed, else ``SilentTones`` saying why."""
    if not media_available():
        log.info("voice unavailable: the media extra (aiortc) is not installed")
        return SilentTones(problem=NO_ENGINE)
    from ..media import AudioIO

    audio = AudioIO()
    voice = Voice(
        audio,
        config,
        devices,
        ringtone_name=ringtone_name,
        ringer_device=ringer_device,
        volumes=volumes,
    )
    return voice
