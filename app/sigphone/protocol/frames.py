"""Frames of the native wire protocol and their codec (sans-I/O: bytes in, structs out).

Every frame is one WebSocket text message holding a JSON object whose ``op`` names its kind.
Client requests carry an ``id`` the reply echoes; server events carry a per-session ``seq``
the client acknowledges (``ack``) and resumes from. See docs/protocol.md.

The frame types are closed: ``ClientFrame``, ``ServerEvent`` and ``ServerFrame`` below are
explicit unions of every kind (the session's here, the channels', calls' and presence
frames from their modules), and the decoders are built from them once.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from . import calls as k
from . import channels as ch
from . import presence as p
from .base import Event, Id, Request, Seq
from .errors import ErrorCode, SignalError
from .limits import MAX_FRAME_BYTES

__all__ = [
    "Ack",
    "ClientFrame",
    "ErrorFrame",
    "Event",
    "EventFrame",
    "GetAttr",
    "GetAttrAll",
    "Login",
    "Logout",
    "LogoutFrame",
    "MsgEvent",
    "Ping",
    "QueryStatus",
    "Reply",
    "Request",
    "Resume",
    "SendMsg",
    "ServerEvent",
    "ServerFrame",
    "SetAttr",
    "decode_client",
    "decode_event",
    "decode_server",
    "encode",
    "encode_event",
    "encode_event_body",
    "request_id_of",
]

# --- Client -> server ---------------------------------------------------------------


class Resume(msgspec.Struct, omit_defaults=True):
    """Continue server session ``session``: replay events after ``seq`` (the last one
    received); ``ack`` is the last one the application has finished with."""

    session: str
    seq: Seq = 0
    ack: Seq = 0


class Login(Request, tag="login"):
    app_id: str
    account: str
    token: str
    #: Random per SDK session object; scopes the send sequence used for de-duplication.
    client_id: str = ""
    #: The client's reconnect window in seconds; the server keeps the session that long.
    reconnect_time: float = 30.0
    sdk: str = ""
    resume: Resume | None = None
    #: Highest inbox message id the client has already handed to its application.
    inbox_ack: Seq = 0


class Logout(Request, tag="logout"):
    pass


class Ping(Request, tag="ping"):
    pass


class Ack(msgspec.Struct, tag_field="op", tag="ack"):
    """Everything up to and including ``seq`` has been processed by the application."""

    seq: Seq


class SetAttr(Request, tag="set_attr"):
    name: str
    value: str


class GetAttr(Request, tag="get_attr"):
    name: str
    account: str | None = None  # None: my own


class GetAttrAll(Request, tag="get_attr_all"):
    account: str | None = None


class QueryStatus(Request, tag="query_status"):
    account: str


class SendMsg(Request, tag="send"):
    peer: str
    msg: str
    msg_id: str = ""
    #: Per-client_id increasing send number: a resent frame with a number already
    #: applied is acknowledged again instead of being delivered twice.
    cseq: Seq = 0


# --- Server -> client ---------------------------------------------------------------


class Reply(msgspec.Struct, tag_field="op", tag="reply", omit_defaults=True):
    id: Id
    code: int = 0
    reason: str = ""
    data: dict[str, Any] | None = None


class ErrorFrame(msgspec.Struct, tag_field="op", tag="error", omit_defaults=True):
    """A frame the server could not take, when it carried no usable ``id``."""

    code: int
    reason: str = ""


class LogoutFrame(msgspec.Struct, tag_field="op", tag="logout", omit_defaults=True):
    """The server ends the session (kicked 103, token expired 105, ...); it then closes."""

    code: int
    reason: str = ""


class MsgEvent(Event, tag="msg", frozen=True):
    """A point-to-point message. ``iid`` is its durable inbox id (increasing per recipient)."""

    account: str
    msg: str
    iid: Seq = 0
    ts: float = 0.0


class EventFrame(msgspec.Struct, tag_field="op", tag="event"):
    seq: Seq
    ev: msgspec.Raw  # one of the ServerEvent kinds; see decode_event


#: Every frame a client may send (closed: a new kind is added here).
ClientFrame: TypeAlias = (
    Login
    | Logout
    | Ping
    | Ack
    | SetAttr
    | GetAttr
    | GetAttrAll
    | QueryStatus
    | SendMsg
    | ch.ChannelJoin
    | ch.ChannelLeave
    | ch.ChannelSend
    | ch.ChannelSetAttr
    | ch.ChannelDelAttr
    | ch.ChannelClearAttr
    | ch.Invoke
    | k.CallInvite
    | k.CallAck
    | k.CallAccept
    | k.CallRefuse
    | k.CallEnd
    | k.CallMsg
    | k.CallDtmf
    | p.PresenceSubscribe
    | p.PresenceUnsubscribe
)

#: Every event kind the server pushes (in EventFrame.ev).
ServerEvent: TypeAlias = (
    MsgEvent
    | ch.ChannelJoined
    | ch.ChannelLeft
    | ch.ChannelUserJoined
    | ch.ChannelUserLeft
    | ch.ChannelAttrUpdated
    | ch.ChannelMessage
    | ch.ChannelGap
    | ch.UserOnline
    | ch.ChannelActivity
    | k.CallIncoming
    | k.CallEvent
    | p.UserStatusChanged
    | p.UserAttrChanged
)

#: Every frame the server sends.
ServerFrame: TypeAlias = Reply | ErrorFrame | LogoutFrame | EventFrame

# --- Codec ---------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


def encode(frame: msgspec.Struct) -> bytes:
    return _encoder.encode(frame)


def encode_event(seq: int, event_json: bytes) -> bytes:
    """An event frame from an event encoded once (fan-out encodes the body once)."""
    return b'{"op":"event","seq":%d,"ev":%s}' % (seq, event_json)


_client_decoder = msgspec.json.Decoder(ClientFrame)
_event_decoder = msgspec.json.Decoder(ServerEvent)
_server_decoder = msgspec.json.Decoder(ServerFrame)


def request_id_of(data: bytes | str) -> int | None:
    """Best-effort ``id`` of a frame that failed to decode, so the error can echo it."""
    try:
        obj = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(obj, dict):
        rid = obj.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid <= 2**53:
            return rid
    return None


def decode_client(data: bytes | str) -> ClientFrame:
    """Decode one client frame or raise SignalError (1005 too large, 1004 malformed).

    msgspec refuses invalid UTF-8 and lone surrogate escapes (``"\\ud800"``) anywhere in
    the frame, the text rule of every edge (protocol/text.py); a hostile nesting depth is
    1004 too, never a RecursionError that would end the connection.
    """
    if len(data) > MAX_FRAME_BYTES:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM, f"frame larger than {MAX_FRAME_BYTES} bytes"
        )
    try:
        return _client_decoder.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "`$.op`" in text or "Object missing required field `op`" in text:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"unknown op ({text})") from None
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, text) from None
    except msgspec.DecodeError as exc:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"malformed JSON ({exc})") from None
    except RecursionError:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "frame nested too deeply") from None


def decode_server(data: bytes | str) -> ServerFrame:
    """Decode one server frame (SDK side). Raises msgspec errors on garbage."""
    return _server_decoder.decode(data)


_last_body: tuple[msgspec.Struct, bytes] | None = None


def encode_event_body(event: Event) -> bytes:
    """The JSON of an event. Fan-out pushes one frozen event to every member in a row, so
    the bytes of the last frozen event are kept: each channel event is encoded once."""
    global _last_body
    last = _last_body
    if last is not None and last[0] is event:
        return last[1]
    body = _encoder.encode(event)
    _last_body = (event, body)
    return body


def decode_event(raw: msgspec.Raw | bytes) -> ServerEvent:
    """Decode the ``ev`` of an EventFrame into its kind."""
    return _event_decoder.decode(raw)
