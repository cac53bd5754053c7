"""The wire protocol, shared by server and SDK: no I/O, no asyncio.

Frames and their codec, error codes, limits, name validation, rate limiting and tokens.
"""

from . import (
    calls,  # registers the call frames before any decoder is built
    channels,  # registers the channel frames and events before decoders are built
)
from .errors import ErrorCode, SignalError
from .frames import decode_client, decode_event, decode_server, encode, encode_event
from .names import check_name, check_text, is_valid_name
from .token import NO_NEED_TOKEN, make_token, verify_token

__all__ = [
    "NO_NEED_TOKEN",
    "ErrorCode",
    "SignalError",
    "calls",
    "channels",
    "check_name",
    "check_text",
    "decode_client",
    "decode_event",
    "decode_server",
    "encode",
    "encode_event",
    "is_valid_name",
    "make_token",
    "verify_token",
]
