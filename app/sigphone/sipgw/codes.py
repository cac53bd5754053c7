"""How SIP final responses and seed call codes map onto each other (docs/sip-gateway.md).

Outbound (a Sigphone user calls a number): the SIP answer decides what the caller's Call
hears. Inbound (a SIP phone calls a Sigphone user): the Sigphone outcome decides the SIP
final response.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.errors import ErrorCode

__all__ = ["REFUSED", "SipOutcome", "inbound_status", "outbound_outcome"]

#: Answers that mean "the person said no": ``on_invite_refused_by_peer``.
REFUSED = frozenset({486, 600, 603})

#: Failures with their own seed code; any other 4xx-6xx is 700 (INVITE_E_OTHER).
_FAILED = {
    404: ErrorCode.INVITE_E_PEEROFFLINE,  # Not Found: no such number
    410: ErrorCode.INVITE_E_PEEROFFLINE,  # Gone
    480: ErrorCode.INVITE_E_PEEROFFLINE,  # Temporarily Unavailable
    484: ErrorCode.INVITE_E_PEEROFFLINE,  # Address Incomplete
    604: ErrorCode.INVITE_E_PEEROFFLINE,  # Does Not Exist Anywhere
    408: ErrorCode.INVITE_E_TIMEOUT,  # Request Timeout (also pjsip's own: no answer at all)
    487: ErrorCode.INVITE_E_TIMEOUT,  # Request Terminated: our no-answer timer cancelled it
    502: ErrorCode.INVITE_E_NET,  # Bad Gateway
    503: ErrorCode.INVITE_E_NET,  # Service Unavailable (pjsip: the transport failed)
    504: ErrorCode.INVITE_E_NET,  # Server Time-out
}


@dataclass(frozen=True)
class SipOutcome:
    """``what`` is the caller's event: "refused_by_peer" or "failed" (with ``ecode``)."""

    what: str
    ecode: int | None = None


def outbound_outcome(status: int, *, timed_out: bool = False) -> SipOutcome:
    """The caller's event for an outbound INVITE that ended before it was answered."""
    if timed_out:
        return SipOutcome("failed", ErrorCode.INVITE_E_TIMEOUT)
    if status in REFUSED:
        return SipOutcome("refused_by_peer")
    return SipOutcome("failed", _FAILED.get(status, ErrorCode.INVITE_E_OTHER))


#: Inbound: the Sigphone callee's ``failed`` code -> the SIP final response.
_INBOUND = {
    ErrorCode.INVITE_E_PEEROFFLINE: 480,  # not logged in (or logged out while ringing)
    ErrorCode.INVITE_E_TIMEOUT: 480,  # the callee's client never confirmed the invite
    ErrorCode.INVITE_E_NET: 480,  # the callee's connection was lost while ringing
    ErrorCode.INVITE_E_REINVITE: 486,  # the same call is already ringing
}


def inbound_status(ecode: int | None) -> int:
    """SIP final response for an inbound call that failed on the Sigphone side."""
    if ecode is None:
        return 500
    return _INBOUND.get(ErrorCode.coerce(ecode), 500)
