"""The wire format of the vendor's 1.x client SDKs, as a sans-I/O codec (no sockets here).

Every frame is one WebSocket message holding a JSON array ``[command, payload]``. What we
learnt by reading the unmodified clients (npm ``agora-signaling-sdk`` 1.4.0 and PyPI
``agora-signaling-sdk`` 1.0.2) and implement, in short (docs/legacy-clients.md has the whole table):

- ``["login", {vid, account, token, uid, device, ip, ver?}]`` ->
  ``["login_ret", [err, "<json>"]]`` with ``{"result": "ok", "uid", "line"}``;
- ``["ping", n]`` -> ``["pong", n]``;
- ``["call2", [func, callid, args]]`` -> ``["call2-ret", [callid, err, "<json>"]]``;
- pushes ``["notify", ["msg", ver]]`` (pull your queue) and
  ``["notify", ["channel2", channel, msgid, line]]``; ``["kick", ...]`` / ``["close", ...]``.

A message *line* is ``"msg-v2 <src> <dst> <flag> <type> <time> <content>"`` (split on the
first six spaces by both clients), so names here must hold no spaces (ours never do).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import ErrorCode, SignalError
from .limits import MAX_FRAME_BYTES
from .text import check_json, check_utf8, parse, scrub

__all__ = [
    "Call2",
    "call2_error",
    "call2_ok",
    "callid_of",
    "content",
    "decode",
    "encode",
    "login_error",
    "login_ok",
    "msg_line",
    "notify_channel",
    "notify_msg",
    "parse_call2",
]

#: What both clients expect at the start of a message line; the JS ones also read v3 lines.
LINE_VERSION = "msg-v2"
LINE_VERSION_IDS = "msg-v3"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def decode(data: bytes | str) -> tuple[str, Any]:
    """One client frame as ``(command, payload)``; raises SignalError 1005 / 1004.

    Binary frames are taken as UTF-8 JSON like text ones: the 1.4.0 client asks for binary
    (``set_flag``) and we may get either. Every string must be valid Unicode and the nesting
    shallow (``text.loads``: the text rule of every edge), else 1004.
    """
    if len(data) > MAX_FRAME_BYTES:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM, f"frame larger than {MAX_FRAME_BYTES} bytes"
        )
    obj = parse(data)
    if not isinstance(obj, list) or not obj or not isinstance(obj[0], str):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "a frame is [command, payload]")
    command, payload = check_utf8(obj[0], "command"), obj[1] if len(obj) > 1 else None
    if command != "call2":  # call2 checks its own, so that the error can echo its callid
        check_json(payload)
    return command, payload


def encode(command: str, payload: Any) -> bytes:
    """The frame's bytes. Never fails: text that cannot be written (a lone surrogate that
    slipped past the edges) is replaced, so one bad item cannot block a queue or a poll."""
    text = _dumps([command, payload])
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return scrub(text).encode("utf-8")


class Call2:
    """A decoded ``call2`` request: ``func(args)`` answered under ``callid``."""

    __slots__ = ("args", "callid", "func")

    def __init__(self, func: str, callid: Any, args: dict[str, Any]) -> None:
        self.func = func
        self.callid = callid
        self.args = args


def parse_call2(payload: Any) -> Call2:
    """Raises SignalError 1004 with the callid when one could be read (so it can be echoed)."""
    if not isinstance(payload, list) or len(payload) != 3:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "call2 is [func, callid, args]")
    func, callid, args = payload
    if not isinstance(func, str) or not isinstance(args, dict):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "call2 func must be text, args a dict")
    if isinstance(callid, bool) or not isinstance(callid, int | str):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "call2 callid must be a number")
    check_json(payload, "call2")
    return Call2(func, callid, args)


def callid_of(payload: Any) -> int | str | None:
    """Best-effort callid of a call2 that failed to parse, so its error can be echoed."""
    if isinstance(payload, list) and len(payload) >= 2:
        callid = payload[1]
        if isinstance(callid, int | str) and not isinstance(callid, bool):
            return callid
    return None


def call2_ok(callid: Any, data: dict[str, Any] | None) -> bytes:
    body = {"result": "ok"}
    if data:
        body.update(data)
    return encode("call2-ret", [callid, "", _dumps(body)])


def call2_error(callid: Any, exc: SignalError) -> bytes:
    """``err`` is the seed code as text: both clients test ``err == ""`` for success and
    hand a non-empty ``err`` to the application; the JSON says the same for readers."""
    body = {"result": "failed", "code": int(exc.code), "reason": exc.reason}
    return encode("call2-ret", [callid, str(int(exc.code)), _dumps(body)])


def login_ok(line: str, uid: int) -> bytes:
    body = {"result": "ok", "uid": uid, "line": line, "config_msg_set": 0}
    return encode("login_ret", ["", _dumps(body)])


#: The 1.x clients turn ``err`` into onLoginFailed codes by name: "TokenErrorExpired" is 204,
#: any other "TokenError..." 206, "kick" 207, anything else 201.
_LOGIN_ERR = {
    ErrorCode.LOGIN_E_TOKENEXPIRED: "TokenErrorExpired",
    ErrorCode.LOGIN_E_TOKENWRONG: "TokenErrorWrong",
    ErrorCode.LOGIN_E_TOKEN_KICKED: "kick",
}


def login_error(exc: SignalError) -> bytes:
    err = _LOGIN_ERR.get(exc.code, f"{int(exc.code)} {exc.reason}".strip())
    body = {"result": "failed", "code": int(exc.code), "reason": exc.reason}
    return encode("login_ret", [err, _dumps(body)])


def msg_line(
    src: str, dst: str, kind: str, ts: float, content: str, *, msgid: str = "", flag: str = "v1"
) -> str:
    """A queue or channel message line; ``kind`` is "instant", "voip_invite", "channel_msg"...

    With a ``msgid`` (no spaces) it is a ``msg-v3`` line, which the JS clients (1.3.0 and
    1.4.0, not the Python one) remember by id and pass on once, even when a reconnect
    delivers it again.
    """
    if msgid:
        return f"{LINE_VERSION_IDS} {msgid} {src} {dst} {flag} {kind} {int(ts)} {content}"
    return f"{LINE_VERSION} {src} {dst} {flag} {kind} {int(ts)} {content}"


def notify_msg(ver: int) -> bytes:
    """The nudge that makes a client pull its queue up to version ``ver``."""
    return encode("notify", ["msg", ver])


def notify_channel(channel: str, msgid: int, line: str) -> bytes:
    """A channel event; ``msgid`` must grow per connection (the JS client drops repeats)."""
    return encode("notify", ["channel2", channel, msgid, line])


def content(obj: dict[str, Any]) -> str:
    """JSON for the content part of a line (the clients ``JSON.parse`` it)."""
    return _dumps(obj)
