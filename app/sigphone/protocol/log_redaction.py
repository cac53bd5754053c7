"""No message body ever reaches a log, at any level, on either side of a connection.

At DEBUG the websockets library logs every frame it sends and receives with the start of
its text (``< TEXT '{"op":"send","peer":"bob","msg":"…' [123 bytes]``): private messages
in a log file. The server's connections and the SDK's log through loggers with this filter,
which keeps a frame's kind and size and drops its contents. It recognises a frame by its
shape (an ``opcode`` and ``data`` bytes), so ``protocol`` stays free of websockets.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["RedactFrames", "frame_safe_logger"]


def _is_frame(value: Any) -> bool:
    return hasattr(value, "opcode") and isinstance(
        getattr(value, "data", None), bytes | bytearray | memoryview
    )


def _summary(frame: Any) -> str:
    name = getattr(frame.opcode, "name", str(frame.opcode))
    return f"{name} [{len(frame.data)} bytes]"


class RedactFrames(logging.Filter):
    """Replaces every frame argument of a record by its opcode and length."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_is_frame(a) for a in args):
            record.args = tuple(_summary(a) if _is_frame(a) else a for a in args)
        return True


def frame_safe_logger(name: str) -> logging.Logger:
    """The logger ``name`` with the filter on (once): give it to websockets as ``logger=``."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactFrames) for f in logger.filters):
        logger.addFilter(RedactFrames())
    return logger
