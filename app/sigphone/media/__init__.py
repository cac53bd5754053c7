"""Voice media (M1-M3): tones, audio devices, and WebRTC calls on aiortc. No Qt, no SDK.

from sigphone.media import AudioIO, CallAudio
audio = AudioIO()                         # the app's one sound card user
media = CallAudio(audio)
offer = await media.offer()               # caller: into the invite's extra
await media.accept_answer(answer_sdp)     # caller: from the accept's extra
answer = await media.answer(offer_sdp)    # callee: into the accept's extra
reply = await media.on_call_message(msg)  # renegotiation; send ``reply`` back if not None

See docs/media.md for the SDP keys, the threading model, the mixer and device handling.
"""

from .audio_io import AudioEvent, AudioIO
from .call_audio import SDP_KEY, CallAudio, MediaEvent
from .devices import NO_AUDIO_DEVICE, AudioDevice, DeviceList, choose, list_devices
from .engine import IceServer, MediaConfig, MediaEngine
from .stats import CallStats
from .tracks import MicrophoneTrack, ToneTrack, TrackReader

__all__ = [
    "NO_AUDIO_DEVICE",
    "SDP_KEY",
    "AudioDevice",
    "AudioEvent",
    "AudioIO",
    "CallAudio",
    "CallStats",
    "DeviceList",
    "IceServer",
    "MediaConfig",
    "MediaEngine",
    "MediaEvent",
    "MicrophoneTrack",
    "ToneTrack",
    "TrackReader",
    "choose",
    "list_devices",
]
