"""The call state machine, one table for the server and the SDK (K1-K4).

Anchored on h11's ``_state.py``: the states are an enum, and what may happen in each state
is data, not code spread over handlers. A call is ``ringing`` -> ``accepted`` -> ``ended``
(or ``ringing`` -> ``ended``). What happens is named by the call events of the wire
(``CallEvent.what``, docs/calls.md): the server applies a step before it sends that event,
the SDK applies the same step when the event arrives, so both sides agree by construction.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TRANSITIONS", "CallState", "is_terminal", "transition"]


class CallState(StrEnum):
    RINGING = "ringing"
    ACCEPTED = "accepted"
    ENDED = "ended"


#: state -> {event -> next state}. An event missing from a state's row is not allowed
#: there (the server refuses the request with 700; the SDK ignores the event).
TRANSITIONS: dict[CallState, dict[str, CallState]] = {
    CallState.RINGING: {
        "received_by_peer": CallState.RINGING,
        "accepted_by_peer": CallState.ACCEPTED,
        "refused_by_peer": CallState.ENDED,
        "failed": CallState.ENDED,
        "end_by_peer": CallState.ENDED,
        "end_by_myself": CallState.ENDED,
        "msg": CallState.RINGING,
    },
    CallState.ACCEPTED: {
        "accepted_by_peer": CallState.ACCEPTED,  # an accept sent again after a reconnect
        "end_by_peer": CallState.ENDED,
        "end_by_myself": CallState.ENDED,
        "msg": CallState.ACCEPTED,
    },
    CallState.ENDED: {},
}


def transition(state: CallState, event: str) -> CallState | None:
    """The state after ``event`` in ``state``, or None when it is not allowed there."""
    return TRANSITIONS[state].get(event)


def is_terminal(event: str) -> bool:
    """Whether ``event`` ends a call (in some state of the table)."""
    return any(row.get(event) is CallState.ENDED for row in TRANSITIONS.values())
