"""Calls through two bridges (alice and bob) on a real server: no widgets involved."""

from __future__ import annotations

from ..support.waiting import until


async def test_dial_accept_dtmf_hang_up_and_history(make_bridge) -> None:
    alice = await make_bridge("alice")
    bob = await make_bridge("bob")
    incoming: list[tuple[str, str]] = []
    digits: list[str] = []
    bob.incoming_call.connect(lambda peer, number: incoming.append((peer, number)))
    bob.dtmf_received.connect(digits.append)

    alice.dial("bob")
    await until(lambda: incoming == [("alice", "alice")])
    assert bob.tones.ringing
    await until(lambda: alice.call_status == "ringing")
    assert alice.tones.ringing_back

    bob.accept()
    await until(lambda: alice.call_status == "connected" and bob.call_status == "connected")
    assert not bob.tones.ringing and not alice.tones.ringing_back

    alice.send_dtmf("5")
    alice.send_dtmf("#")
    await until(lambda: digits == ["5", "#"])
    assert alice.tones.played == ["5", "#"]

    alice.hang_up()
    await until(lambda: alice.call is None and bob.call is None)
    await until(lambda: len(bob.store.calls("bob")) == 1)
    [a] = alice.store.calls("alice")
    [b] = bob.store.calls("bob")
    assert (a.peer, a.kind, a.outcome) == ("bob", "outgoing", "answered")
    assert (b.peer, b.kind, b.outcome) == ("alice", "incoming", "answered")
    assert alice.redial_target() == "bob"


async def test_refused_call(make_bridge) -> None:
    alice = await make_bridge("alice")
    bob = await make_bridge("bob")
    alice.dial("bob")
    await until(lambda: bob.call is not None)
    bob.refuse()
    await until(lambda: alice.call is None)
    assert alice.store.calls("alice")[0].outcome == "declined"
    assert bob.store.calls("bob")[0].outcome == "declined"
    assert bob.missed == 0


async def test_missed_call_counts(make_bridge) -> None:
    alice = await make_bridge("alice")
    bob = await make_bridge("bob")
    seen: list[int] = []
    bob.missed_changed.connect(seen.append)
    alice.dial("bob")
    await until(lambda: bob.call is not None and alice.call_status == "ringing")
    alice.hang_up()
    await until(lambda: bob.call is None)
    assert seen == [1]
    assert bob.store.calls("bob")[0].kind == "missed"


async def test_call_to_offline_peer_reads_as_a_sentence(make_bridge) -> None:
    alice = await make_bridge("alice")
    states: list[tuple[str, str]] = []
    alice.call_state.connect(lambda _peer, state, text: states.append((state, text)))
    # _require_peer_online is 0: the server waits for carol; cancel to end it.
    alice.dial("carol")
    await until(lambda: alice.call is not None)
    alice.hang_up()
    await until(lambda: alice.call is None)
    assert states[0][0] == "calling"
    assert states[-1] == ("ended", "Call ended.")
