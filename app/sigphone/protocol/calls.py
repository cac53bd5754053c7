"""Call frames (K1-K4): requests, events and the validation both sides share.

A call is (caller, callee, channel) with an id chosen by the caller's SDK (random, 128 bits),
so the SDK can file the events of a call before the invite's reply arrives. The server owns
the call's state; see docs/calls.md for the state machine and the JSON of every event.
"""

from __future__ import annotations

import re

from .base import Event, Request
from .call_payloads import (
    MAX_CALL_EXTRA_CHARS,
    DtmfMessage,
    check_extra,
    encode_call_message,
    parse_invite_extra,
)
from .errors import ErrorCode, SignalError

__all__ = [
    "CALL_EVENTS",
    "DTMF_DIGITS",
    "MAX_CALL_EXTRA_CHARS",
    "MAX_DTMF_CHARS",
    "CallAccept",
    "CallAck",
    "CallDtmf",
    "CallEnd",
    "CallEvent",
    "CallIncoming",
    "CallInvite",
    "CallMsg",
    "CallRefuse",
    "check_call_id",
    "check_dtmf",
    "check_extra",
    "dtmf_payload",
    "parse_invite_extra",
]

#: Digits in one channelInviteDTMF (the seeds are silent; a dial string fits easily).
MAX_DTMF_CHARS = 128
#: DTMF digits of the 4x4 keypad (RFC 4733 events 0-15).
DTMF_DIGITS = frozenset("0123456789*#ABCD")
#: The server's answer to a call id it has not issued: 1..64 of [A-Za-z0-9_-].
_CALL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Values of CallEvent.what; each names a Call callback ``on_invite_<what>``.
CALL_EVENTS = (
    "received_by_peer",
    "accepted_by_peer",
    "refused_by_peer",
    "failed",
    "end_by_peer",
    "end_by_myself",
    "msg",
)


# --- Client -> server ---------------------------------------------------------------


class CallInvite(Request, tag="call_invite"):
    """channelInviteUser2: ``call`` is the caller's fresh id for this call."""

    call: str
    channel: str
    peer: str
    extra: str = ""


class CallAck(Request, tag="call_ack"):
    """The callee's SDK confirms it has the invite (sent automatically on receipt)."""

    call: str


class CallAccept(Request, tag="call_accept"):
    call: str
    extra: str = ""


class CallRefuse(Request, tag="call_refuse"):
    call: str
    extra: str = ""


class CallEnd(Request, tag="call_end"):
    call: str
    extra: str = ""


class CallMsg(Request, tag="call_msg"):
    """Free text to the other side of a call (on_invite_msg), e.g. SDP for media."""

    call: str
    extra: str


class CallDtmf(Request, tag="call_dtmf"):
    call: str
    dtmf: str


# --- Server -> client ---------------------------------------------------------------


class CallIncoming(Event, tag="call_in", frozen=True):
    """An invitation for me (onInviteReceived): ``account`` is the caller. ``to`` is set only
    on a call routed to the app's SIP gateway: the number dialled (docs/sip-gateway.md)."""

    call: str
    channel: str
    account: str
    extra: str = ""
    to: str = ""


class CallEvent(Event, tag="call", frozen=True):
    """Something happened to a call of mine: the callback ``on_invite_<what>(extra)``."""

    call: str
    what: str
    extra: str = ""


# --- Validation ----------------------------------------------------------------------


def check_call_id(call: object) -> str:
    if not isinstance(call, str) or not _CALL_ID.fullmatch(call):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "call id must be 1..64 of A-Za-z0-9_-")
    return call


def check_dtmf(dtmf: object) -> str:
    """1..128 DTMF digits: 0-9, *, #, A-D (lower-case a-d are taken as upper-case)."""
    if not isinstance(dtmf, str) or not dtmf:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "dtmf must be a non-empty string")
    if len(dtmf) > MAX_DTMF_CHARS:
        raise SignalError(ErrorCode.GENERAL_E_LARGE_PARAM, f"dtmf is longer than {MAX_DTMF_CHARS}")
    digits = dtmf.upper()
    if not set(digits) <= DTMF_DIGITS:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "dtmf digits are 0-9 * # A-D")
    return digits


def dtmf_payload(digits: str) -> str:
    """What the other side's on_invite_msg receives for channelInviteDTMF."""
    return encode_call_message(DtmfMessage(digits))
