"""No message body ever reaches a log, at any level.

At DEBUG the websockets library logs every frame it sends and receives with the start of
its text (``< TEXT '{"op":"send","peer":"bob","msg":"…' [123 bytes]``): private messages
in the log file. The server's connections log through this logger instead, whose filter
keeps the frame's kind and size and drops its contents. Our own log lines never format a
message, an attribute value or an exception's text (which can quote its input).
"""

from __future__ import annotations

import logging

from websockets.frames import Frame

__all__ = ["FRAME_SAFE_LOGGER", "RedactFrames"]


class RedactFrames(logging.Filter):
    """Replaces every Frame argument of a record by its opcode and length."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, Frame) for a in args):
            record.args = tuple(
                f"{a.opcode.name} [{len(a.data)} bytes]" if isinstance(a, Frame) else a
                for a in args
            )
        return True


FRAME_SAFE_LOGGER = logging.getLogger("sigphone.server.websocket")
FRAME_SAFE_LOGGER.addFilter(RedactFrames())
