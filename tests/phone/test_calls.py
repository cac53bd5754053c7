"""The call controller on a real server, no Qt: phases, outcomes in history, missed calls,
no-answer timeout, DTMF shown, hold signalled to the far side, busy, do-not-disturb, call
waiting, numbers as targets, and sentences instead of codes."""

from __future__ import annotations

from sigphone.phone.calls import CallPhase
from sigphone.phone.events import (
    CallState,
    CallWaiting,
    DtmfReceived,
    ErrorText,
    IncomingCall,
    MissedChanged,
    RemoteHoldChanged,
)
from sigphone.protocol.call_payloads import encode_end_reason

from ..support.waiting import until


def _history(core) -> list[tuple[str, str, str]]:
    return [(r.peer, r.kind, r.outcome) for r in core.store.calls(core.account.account)]


def _texts(core) -> list[str]:
    return [e.text for e in core.events.of(CallState)]


async def test_dial_accept_dtmf_hang_up_and_history(make_core) -> None:
    alice, bob = await make_core("alice"), await make_core("bob")
    alice.calls.dial("bob")
    await until(lambda: bob.events.of(IncomingCall))
    assert bob.events.of(IncomingCall) == [IncomingCall("alice", "alice")]  # srcNum shown
    assert bob.tones.ringing
    await until(lambda: alice.calls.phase == CallPhase.RINGING)
    assert alice.tones.ringing_back

    bob.calls.accept()
    await until(lambda: alice.calls.phase == bob.calls.phase == CallPhase.CONNECTED)
    assert not bob.tones.ringing and not alice.tones.ringing_back

    alice.calls.send_dtmf("5")
    alice.calls.send_dtmf("#")
    await until(lambda: [e.digits for e in bob.events.of(DtmfReceived)] == ["5", "#"])
    assert alice.tones.played == ["5", "#"]

    alice.calls.hang_up()
    await until(lambda: alice.calls.current is None and bob.calls.current is None)
    await until(lambda: len(_history(bob)) == 1)
    assert _history(alice) == [("bob", "outgoing", "answered")]
    assert _history(bob) == [("alice", "incoming", "answered")]
    assert _texts(bob)[-1] == "alice hung up."
    assert alice.calls.redial_target() == "bob"
    assert [str(e.phase) for e in alice.events.of(CallState)] == [
        "calling", "ringing", "connected", "ended"
    ]  # fmt: skip


async def test_refused_call(make_core) -> None:
    alice, bob = await make_core("alice"), await make_core("bob")
    alice.calls.dial("bob")
    await until(lambda: bob.calls.current is not None)
    bob.calls.refuse()
    await until(lambda: alice.calls.current is None)
    assert _history(alice) == [("bob", "outgoing", "declined")]
    assert _history(bob) == [("alice", "incoming", "declined")]
    assert bob.calls.missed == 0
    assert _texts(alice)[-1] == "bob declined the call."


async def test_missed_call_counts(make_core) -> None:
    alice, bob = await make_core("alice"), await make_core("bob")
    alice.calls.dial("bob")
    await until(lambda: bob.calls.current is not None and alice.calls.phase == "ringing")
    alice.calls.hang_up()
    await until(lambda: bob.calls.current is None)
    assert bob.events.of(MissedChanged) == [MissedChanged(1)]
    assert _history(bob) == [("alice", "missed", "missed")]
    assert _history(alice) == [("bob", "outgoing", "cancelled")]
    assert _texts(bob)[-1] == "Missed call from alice."


async def test_unanswered_call_ends_with_no_answer_and_a_missed_call(make_core) -> None:
    """Item 3: the no-answer timeout (a setting; 0.3 s here, 60 s by default)."""
    alice = await make_core("alice", no_answer_timeout=0.3)
    bob = await make_core("bob")
    assert bob.calls.no_answer_timeout == 60.0  # the default
    alice.calls.dial("bob")
    await until(lambda: alice.calls.current is None and bob.calls.current is None)
    assert _texts(alice)[-1].startswith("No answer from bob.")
    assert _history(alice) == [("bob", "outgoing", "no answer")]
    await until(lambda: bob.calls.missed == 1)
    assert _history(bob) == [("alice", "missed", "missed")]


async def test_answered_call_has_no_timeout(make_core) -> None:
    """After the callee answers, the call is the caller's to end."""
    import asyncio

    alice = await make_core("alice", no_answer_timeout=0.3)
    bob = await make_core("bob")
    alice.calls.dial("bob")
    await until(lambda: bob.calls.current is not None)
    bob.calls.accept()
    await until(lambda: alice.calls.phase == CallPhase.CONNECTED)
    await asyncio.sleep(0.6)
    assert alice.calls.phase == bob.calls.phase == CallPhase.CONNECTED
    alice.calls.hang_up()
    await until(lambda: bob.calls.current is None)


async def _connected(alice, bob) -> None:
    alice.calls.dial(bob.account.account)
    await until(lambda: bob.calls.current is not None and bob.calls.phase == "incoming")
    bob.calls.accept()
    await until(lambda: alice.calls.phase == bob.calls.phase == CallPhase.CONNECTED)


async def test_hold_is_signalled_and_shown_on_both_sides(make_core) -> None:
    """Item 13: a HoldMessage tells the far side; both show it; resume clears it."""
    alice, bob = await make_core("alice"), await make_core("bob")
    await _connected(alice, bob)
    alice.calls.set_held(True)
    await until(lambda: bob.calls.remote_held)
    assert bob.events.of(RemoteHoldChanged) == [RemoteHoldChanged(True)]
    assert _texts(bob)[-1] == "alice put you on hold."
    assert _texts(alice)[-1].startswith("On hold: bob hears silence.")
    bob.calls.set_held(True)
    await until(lambda: alice.calls.remote_held)
    assert _texts(alice)[-1] == _texts(bob)[-1] == "On hold (both sides)"
    alice.calls.set_held(False)
    bob.calls.set_held(False)
    await until(lambda: not alice.calls.remote_held and not bob.calls.remote_held)
    assert _texts(alice)[-1] == "Connected to bob" and _texts(bob)[-1] == "Connected to alice"
    bob.calls.hang_up()
    await until(lambda: alice.calls.current is None)


async def test_do_not_disturb_answers_busy_and_keeps_a_missed_call(make_core) -> None:
    alice, bob = await make_core("alice"), await make_core("bob")
    bob.calls.dnd = True
    alice.calls.dial("bob")
    await until(lambda: alice.calls.current is None)
    assert _texts(alice)[-1].startswith("bob is busy.")
    assert _history(alice) == [("bob", "outgoing", "busy")]
    await until(lambda: bob.calls.missed == 1)
    assert _history(bob) == [("alice", "missed", "do not disturb")]
    assert not bob.events.of(IncomingCall)


async def test_call_waiting_answer_holds_the_first_call(make_core) -> None:
    alice, bob, carol = await make_core("alice"), await make_core("bob"), await make_core("carol")
    await _connected(alice, bob)
    carol.calls.dial("bob")
    await until(lambda: bob.events.of(CallWaiting))
    assert bob.events.of(CallWaiting)[0] == CallWaiting("carol", "carol")
    assert bob.calls.peer == "alice"  # the first call stays in front until answered
    bob.calls.accept()  # answers the waiting call
    await until(lambda: carol.calls.phase == CallPhase.CONNECTED)
    await until(lambda: alice.calls.remote_held)  # alice is told she is on hold
    assert bob.calls.peer == "carol" and bob.calls.parked is not None
    carol.calls.hang_up()
    await until(lambda: bob.calls.peer == "alice")
    assert bob.calls.held  # back to alice, still on hold until bob resumes
    bob.calls.set_held(False)
    await until(lambda: not alice.calls.remote_held)
    bob.calls.hang_up()
    await until(lambda: alice.calls.current is None)
    assert ("carol", "incoming", "answered") in _history(bob)


async def test_call_waiting_decline_answers_busy(make_core) -> None:
    alice, bob, carol = await make_core("alice"), await make_core("bob"), await make_core("carol")
    await _connected(alice, bob)
    carol.calls.dial("bob")
    await until(lambda: bob.calls.waiting is not None)
    bob.calls.decline_waiting()
    await until(lambda: carol.calls.current is None)
    assert _texts(carol)[-1].startswith("bob is busy.")
    assert bob.calls.phase == CallPhase.CONNECTED and bob.calls.peer == "alice"
    alice.calls.hang_up()
    await until(lambda: bob.calls.current is None)


async def test_targets_numbers_yourself_and_bad_names(make_core) -> None:
    """Numbers (digits, +, *, #) are call targets; calling yourself or a name with spaces
    says what is wrong and what to do (item 10)."""
    alice = await make_core("alice")
    assert alice.calls.dial("Alice") is None
    assert alice.events.of(ErrorText)[-1].text == (
        "That is your own account: you cannot call yourself."
    )
    assert alice.calls.dial("bob smith") is None
    assert "not an account or a phone number" in alice.events.of(ErrorText)[-1].text
    assert "code" not in alice.events.of(ErrorText)[-1].text
    alice.calls.dial("+49 30 123-456")
    await until(lambda: alice.calls.current is not None and alice.calls.current.call.id)
    assert alice.calls.peer == "+4930123456"
    alice.calls.hang_up()
    await until(lambda: alice.calls.current is None)
    assert _history(alice)[0][:2] == ("+4930123456", "outgoing")


async def test_peer_offline_reads_offline_in_history(make_core) -> None:
    """A call that fails with 703 (peer offline) is "offline" in the history, with a
    sentence that says what to do."""
    alice = await make_core("alice")
    alice.calls.dial("carol")
    await until(lambda: alice.calls.current is not None and alice.calls.current.call.id)
    call = alice.calls.current.call
    call.on_invite_failed(encode_end_reason(703))  # what the SDK delivers for 703
    assert alice.calls.current is None
    assert _texts(alice)[-1] == "The person you called is offline. Try later, or send a message."
    assert _history(alice) == [("carol", "outgoing", "offline")]
    await call.channel_invite_end("")
