"""Voice media (M1-M3): tones, audio devices, and WebRTC calls on aiortc. No Qt in here.

See docs/media.md for the SDP keys, the threading model, the mixer and device handling.
"""
