"""The one call-state table (protocol.call_state) that the server and the SDK both apply."""

from __future__ import annotations

from sigphone.protocol import call_state as cs
from sigphone.protocol.call_state import CallState, is_terminal, transition
from sigphone.protocol.calls import CALL_EVENTS
from sigphone.sdk import call as sdk_call
from sigphone.server.services import calls as server_calls


def test_every_event_of_the_wire_is_in_the_table():
    named = {event for row in cs.TRANSITIONS.values() for event in row}
    assert named == set(CALL_EVENTS)


def test_the_paths_of_a_call():
    assert transition(CallState.RINGING, "accepted_by_peer") is CallState.ACCEPTED
    assert transition(CallState.RINGING, "refused_by_peer") is CallState.ENDED
    assert transition(CallState.ACCEPTED, "refused_by_peer") is None  # end it instead
    assert transition(CallState.ACCEPTED, "failed") is None
    assert transition(CallState.ACCEPTED, "end_by_peer") is CallState.ENDED
    assert transition(CallState.ENDED, "msg") is None  # nothing happens to an ended call
    assert {e for e in CALL_EVENTS if is_terminal(e)} == {
        "refused_by_peer",
        "failed",
        "end_by_peer",
        "end_by_myself",
    }


def test_server_and_sdk_use_the_same_states():
    for module in (server_calls, sdk_call):
        assert (module.RINGING, module.ACCEPTED, module.ENDED) == (
            CallState.RINGING,
            CallState.ACCEPTED,
            CallState.ENDED,
        )
    assert CallState.RINGING == "ringing"  # the strings of the public API stay the same
