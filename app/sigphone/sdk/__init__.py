"""The Python SDK: the Web API's object model with Pythonic names (docs/sdk.md).

from sigphone.sdk import Signal
signal = Signal("APPID", server="ws://127.0.0.1:9000")
session = await signal.login("alice", token)
"""

from ..protocol.errors import ErrorCode, SignalError
from .call import Call
from .channel import Channel
from .session import Session, Status
from .signal import Signal

__all__ = ["Call", "Channel", "ErrorCode", "Session", "Signal", "SignalError", "Status"]
