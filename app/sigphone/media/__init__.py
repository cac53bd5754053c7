"""Voice media (M1-M3): tones, audio devices, and WebRTC calls on aiortc. No Qt in here.

from sigphone.media import AudioIO, CallAudio
audio = AudioIO()                                   # the app's one sound card user
call, media = await CallAudio.dial(session, "room", "bob", audio=audio)
# callee, inside on_invite_received: media = CallAudio(audio); media.attach(call);
# later await media.accept()

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
