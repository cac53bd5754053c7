"""Frames of the native wire protocol and their codec (sans-I/O: bytes in, structs out).

Every frame is one WebSocket text message holding a JSON object whose ``op`` names its kind.
Client requests carry an ``id`` the reply echoes; server events carry a per-session ``seq``
the client acknowledges (``ack``) and resumes from. See docs/protocol.md.

Other protocol modules (channels, calls) add their request and event kinds with
``client_frame`` / ``event_kind``; the decoders are rebuilt from those registries.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, Union

import msgspec

from .errors import ErrorCode, SignalError
from .limits import MAX_FRAME_BYTES

__all__ = [
    "Ack",
    "ClientFrame",
    "ErrorFrame",
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
    "SetAttr",
    "client_frame",
    "decode_client",
    "decode_server",
    "encode",
    "event_kind",
    "request_id_of",
]

Id = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]

_client_types: list[type[msgspec.Struct]] = []
_event_types: list[type[msgspec.Struct]] = []
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}

F = TypeVar("F", bound=type[msgspec.Struct])


def client_frame(cls: F) -> F:
    """Register a client-to-server frame kind (a Struct tagged by ``op``)."""
    _client_types.append(cls)
    _decoders.clear()
    return cls


def event_kind(cls: F) -> F:
    """Register a server event kind (a Struct tagged by ``t``, carried in EventFrame.ev)."""
    _event_types.append(cls)
    _decoders.clear()
    return cls


class Request(msgspec.Struct, tag_field="op", omit_defaults=True, kw_only=True):
    """Base of every client request: ``id`` is echoed by the reply."""

    id: Id = 0


class Event(msgspec.Struct, tag_field="t", omit_defaults=True, kw_only=True):
    """Base of every server event kind."""


# --- Client -> server ---------------------------------------------------------------


class Resume(msgspec.Struct, omit_defaults=True):
    """Continue server session ``session``: replay events after ``seq`` (the last one
    received); ``ack`` is the last one the application has finished with."""

    session: str
    seq: Seq = 0
    ack: Seq = 0


@client_frame
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


@client_frame
class Logout(Request, tag="logout"):
    pass


@client_frame
class Ping(Request, tag="ping"):
    pass


@client_frame
class Ack(msgspec.Struct, tag_field="op", tag="ack"):
    """Everything up to and including ``seq`` has been processed by the application."""

    seq: Seq


@client_frame
class SetAttr(Request, tag="set_attr"):
    name: str
    value: str


@client_frame
class GetAttr(Request, tag="get_attr"):
    name: str
    account: str | None = None  # None: my own


@client_frame
class GetAttrAll(Request, tag="get_attr_all"):
    account: str | None = None


@client_frame
class QueryStatus(Request, tag="query_status"):
    account: str


@client_frame
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


@event_kind
class MsgEvent(Event, tag="msg"):
    """A point-to-point message. ``iid`` is its durable inbox id (increasing per recipient)."""

    account: str
    msg: str
    iid: Seq = 0
    ts: float = 0.0


class EventFrame(msgspec.Struct, tag_field="op", tag="event"):
    seq: Seq
    ev: msgspec.Raw  # one of the registered event kinds; see decode_event


ClientFrame = msgspec.Struct  # any registered client frame

# --- Codec ---------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


def encode(frame: msgspec.Struct) -> bytes:
    return _encoder.encode(frame)


def encode_event(seq: int, event_json: bytes) -> bytes:
    """An event frame from an event encoded once (fan-out encodes the body once)."""
    return b'{"op":"event","seq":%d,"ev":%s}' % (seq, event_json)


def _decoder(kind: str) -> msgspec.json.Decoder[Any]:
    dec = _decoders.get(kind)
    if dec is None:
        if kind == "client":
            dec = msgspec.json.Decoder(Union[tuple(_client_types)])  # noqa: UP007
        elif kind == "event":
            dec = msgspec.json.Decoder(Union[tuple(_event_types)])  # noqa: UP007
        else:
            dec = msgspec.json.Decoder(Union[Reply, ErrorFrame, LogoutFrame, EventFrame])  # noqa: UP007
        _decoders[kind] = dec
    return dec


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


def decode_client(data: bytes | str) -> msgspec.Struct:
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
        return _decoder("client").decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "`$.op`" in text or "Object missing required field `op`" in text:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"unknown op ({text})") from None
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, text) from None
    except msgspec.DecodeError as exc:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"malformed JSON ({exc})") from None
    except RecursionError:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "frame nested too deeply") from None


def decode_server(data: bytes | str) -> Reply | ErrorFrame | LogoutFrame | EventFrame:
    """Decode one server frame (SDK side). Raises msgspec errors on garbage."""
    return _decoder("server").decode(data)


_last_body: tuple[msgspec.Struct, bytes] | None = None


def encode_event_body(event: Event) -> bytes:
    """The JSON of an event. Fan-out pushes one frozen event to every member in a row, so
    the bytes of the last frozen event are kept: each channel event is encoded once."""
    global _last_body
    last = _last_body
    if last is not None and last[0] is event:
        return last[1]
    body = _encoder.encode(event)
    if event.__struct_config__.frozen:
        _last_body = (event, body)
    return body


def decode_event(raw: msgspec.Raw | bytes) -> Event:
    """Decode the ``ev`` of an EventFrame into its registered kind."""
    return _decoder("event").decode(raw)
