"""Call payloads: the JSON that rides in a call's ``extra`` strings, with one parser and one
encoder each.

The seeds carry everything beyond the call's identity in free-text ``extra`` fields. Sigphone
gives them shapes (docs/calls.md, "Call payloads"), and every part (server, SDK, media, phone,
SIP gateway) reads and writes them only through this module:

- the invite extra (``channel_invite_user2``): ``srcNum`` (the number shown on the far phone),
  ``sdp`` (the caller's WebRTC offer), ``_require_peer_online`` (0 or 1), and any other keys,
  which travel untouched;
- the accept extra: ``sdp``, the callee's answer;
- end and failure reasons: ``{"ecode": N}`` in ``on_invite_failed`` / ``on_invite_end_by_*``;
  calls through the SIP gateway add the SIP status and reason phrase (``"sip"``, ``"reason"``);
- the refuse extra: ``{"busy": 1}`` when the callee is busy (in a call, do-not-disturb);
- call messages (``on_invite_msg``): DTMF, an SDP offer or answer (renegotiation), hold and
  resume, and anything else, which stays text.

Two kinds of reader: ``parse_invite_extra`` is strict (the server answers bad input with
1004/1005); the ``read_*`` functions are lenient (a client shows what it can of a peer's extra
and never fails on it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ErrorCode, SignalError
from .text import check_utf8, loads

__all__ = [
    "MAX_CALL_EXTRA_CHARS",
    "CallMessage",
    "DtmfMessage",
    "HoldMessage",
    "InviteExtra",
    "SdpMessage",
    "TextMessage",
    "check_extra",
    "encode_accept_extra",
    "encode_call_message",
    "encode_end_reason",
    "encode_invite_extra",
    "encode_refuse_extra",
    "encode_sip_reason",
    "parse_invite_extra",
    "read_accept_sdp",
    "read_call_message",
    "read_end_reason",
    "read_invite_extra",
    "read_refuse_busy",
    "read_sip_status",
]

#: A call's ``extra``: up to 8K characters (Web API, channelInviteUser2).
MAX_CALL_EXTRA_CHARS = 8 * 1024

SRC_NUM = "srcNum"
SDP = "sdp"
REQUIRE_PEER_ONLINE = "_require_peer_online"
ECODE = "ecode"
SIP = "sip"
REASON = "reason"


def _dumps(value: dict[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_CALL_EXTRA_CHARS:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM,
            f"a call's extra is longer than {MAX_CALL_EXTRA_CHARS} characters ({len(text)})",
        )
    return text


def _lenient(text: object) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def check_extra(extra: object, what: str = "extra") -> str:
    """Free text up to 8K characters (accept, refuse, end and message extras)."""
    if not isinstance(extra, str):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} must be a string")
    if len(extra) > MAX_CALL_EXTRA_CHARS:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM, f"{what} is longer than {MAX_CALL_EXTRA_CHARS}"
        )
    return check_utf8(extra, what)


# --- The invite ----------------------------------------------------------------------


@dataclass(frozen=True)
class InviteExtra:
    """What an invite carries besides its identity."""

    src_num: str | None = None
    sdp: str | None = None
    require_peer_online: bool = False
    #: Every other key (``destMediaUid``, application keys), passed on untouched.
    other: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> str:
        return encode_invite_extra(self)


def _invite_from(obj: dict[str, Any]) -> InviteExtra:
    other = {k: v for k, v in obj.items() if k not in (SRC_NUM, SDP, REQUIRE_PEER_ONLINE)}
    src = obj.get(SRC_NUM)
    sdp = obj.get(SDP)
    return InviteExtra(
        src_num=str(src) if isinstance(src, str | int) and not isinstance(src, bool) else None,
        sdp=sdp if isinstance(sdp, str) else None,
        require_peer_online=obj.get(REQUIRE_PEER_ONLINE) == 1,
        other=other,
    )


def parse_invite_extra(extra: object) -> InviteExtra:
    """Strict (the server): "" or a JSON object up to 8K characters, with
    ``_require_peer_online`` 0 or 1 when present. Raises SignalError 1004/1005."""
    text = check_extra(extra)
    if not text.strip():
        return InviteExtra()
    try:
        obj = loads(text, "extra")  # valid Unicode inside too, and shallow
    except SignalError as exc:
        raise SignalError(exc.code, f"extra must be JSON: {exc.reason}") from None
    if not isinstance(obj, dict):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "extra must be a JSON object")
    flag = obj.get(REQUIRE_PEER_ONLINE, 0)
    if isinstance(flag, bool) or flag not in (0, 1):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "_require_peer_online must be 0 or 1")
    return _invite_from(obj)


def read_invite_extra(extra: object) -> InviteExtra:
    """Lenient (a callee): whatever can be read of an invite's extra; never raises."""
    return _invite_from(_lenient(extra))


def encode_invite_extra(invite: InviteExtra) -> str:
    obj: dict[str, Any] = dict(invite.other)
    if invite.src_num is not None:
        obj[SRC_NUM] = invite.src_num
    if invite.sdp is not None:
        obj[SDP] = invite.sdp
    if invite.require_peer_online:
        obj[REQUIRE_PEER_ONLINE] = 1
    return _dumps(obj) if obj else ""


# --- The accept ----------------------------------------------------------------------


def encode_accept_extra(sdp: str | None) -> str:
    return _dumps({SDP: sdp}) if sdp is not None else ""


def read_accept_sdp(extra: object) -> str | None:
    sdp = _lenient(extra).get(SDP)
    return sdp if isinstance(sdp, str) else None


# --- End and failure reasons --------------------------------------------------------


def encode_end_reason(code: int) -> str:
    return _dumps({ECODE: int(code)})


def encode_sip_reason(status: int, reason: str = "", ecode: int | None = None) -> str:
    """A SIP gateway's end, refusal or failure extra: ``{"ecode": N, "sip": 486,
    "reason": "Busy Here"}`` (``ecode`` only for failures)."""
    obj: dict[str, Any] = {} if ecode is None else {ECODE: int(ecode)}
    obj[SIP] = int(status)
    if reason:
        obj[REASON] = reason[:200]
    return _dumps(obj)


def read_sip_status(extra: object) -> int | None:
    """The SIP status in a gateway's end/refusal/failure extra, or None."""
    code = _lenient(extra).get(SIP)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def read_end_reason(extra: object) -> int | None:
    """The seed code in an end or failure extra (``{"ecode": N}``), or None."""
    code = _lenient(extra).get(ECODE)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


# --- The refusal ----------------------------------------------------------------------

BUSY = "busy"


def encode_refuse_extra(busy: bool = False) -> str:
    """``{"busy":1}`` for a callee that cannot take the call now, else ""."""
    return _dumps({BUSY: 1}) if busy else ""


def read_refuse_busy(extra: object) -> bool:
    """True when a refusal says the callee is busy."""
    value = _lenient(extra).get(BUSY)
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


# --- Call messages (on_invite_msg) ---------------------------------------------------


@dataclass(frozen=True)
class DtmfMessage:
    """Digits sent with channel_invite_dtmf (already checked: 0-9 * # A-D)."""

    digits: str


@dataclass(frozen=True)
class SdpMessage:
    """A renegotiation: ``kind`` is "offer" or "answer"."""

    kind: str
    sdp: str


@dataclass(frozen=True)
class HoldMessage:
    """The sender put the call on hold (``on=True``) or resumed it."""

    on: bool


@dataclass(frozen=True)
class TextMessage:
    """Anything else: the application's own text, passed on as it came."""

    text: str


CallMessage = DtmfMessage | SdpMessage | HoldMessage | TextMessage


def encode_call_message(msg: CallMessage) -> str:
    if isinstance(msg, DtmfMessage):
        return _dumps({"type": "dtmf", "dtmf": msg.digits})
    if isinstance(msg, SdpMessage):
        if msg.kind not in ("offer", "answer"):
            raise ValueError(f"SDP kind must be offer or answer, not {msg.kind!r}")
        return _dumps({"type": "sdp", "kind": msg.kind, SDP: msg.sdp})
    if isinstance(msg, HoldMessage):
        return _dumps({"type": "hold", "on": bool(msg.on)})
    return check_extra(msg.text)


def read_call_message(extra: str) -> CallMessage:
    """Lenient: a known shape becomes its type, anything else a TextMessage."""
    obj = _lenient(extra)
    kind = obj.get("type")
    if kind == "dtmf" and isinstance(obj.get("dtmf"), str):
        return DtmfMessage(obj["dtmf"])
    if kind == "sdp" and obj.get("kind") in ("offer", "answer") and isinstance(obj.get(SDP), str):
        return SdpMessage(obj["kind"], obj[SDP])
    if kind == "hold" and isinstance(obj.get("on"), bool):
        return HoldMessage(obj["on"])
    return TextMessage(extra)
