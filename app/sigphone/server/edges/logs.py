"""The logger the server's WebSocket connections use: frames are logged by kind and size,
never with their text (protocol/log_redaction.py says why)."""

from __future__ import annotations

from sigphone.protocol.log_redaction import RedactFrames, frame_safe_logger

__all__ = ["FRAME_SAFE_LOGGER", "RedactFrames"]

FRAME_SAFE_LOGGER = frame_safe_logger("sigphone.server.websocket")
