"""The client's delivery core (protocol.client.ClientProtocol), fed bytes: no sockets, no loop.

Each test plays the server's side with the real codec and checks what the core hands over
and what it writes back.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sigphone.protocol import frames as f
from sigphone.protocol.client import (
    ClientProtocol,
    ClientState,
    Delivery,
    LoggedIn,
    LoginRefused,
)
from sigphone.protocol.errors import ErrorCode


def server_reply(rid: int, data: dict[str, Any] | None = None, code: int = 0) -> bytes:
    return f.encode(f.Reply(id=rid, code=code, data=data))


def event(seq: int, msg: str, iid: int = 0) -> bytes:
    return f.encode_event(seq, f.encode(f.MsgEvent(account="bob", msg=msg, iid=iid)))


def sent(core: ClientProtocol) -> list[dict[str, Any]]:
    return [json.loads(data) for data in core.data_to_send()]


def logged_in(
    core: ClientProtocol, session: str = "S1", *, resume: bool = False, resumed: bool | None = None
) -> LoggedIn:
    """Log in (asking to resume or not); the server answers ``resumed`` (default: as asked)."""
    core.login(app_id="a", account="alice", token="t", reconnect_time=30, sdk="x", resume=resume)
    (login,) = sent(core)
    resumed = resume if resumed is None else resumed
    core.receive_data(server_reply(login["id"], {"session": session, "resumed": resumed}))
    (outcome,) = [e for e in core.events_received() if isinstance(e, LoggedIn)]
    return outcome


def messages(core: ClientProtocol) -> list[Delivery]:
    return [e for e in core.events_received() if isinstance(e, Delivery)]


def test_duplicate_seq_is_handed_over_once():
    core = ClientProtocol("c1")
    logged_in(core)
    for data in (event(1, "a"), event(2, "b"), event(2, "b"), event(1, "a"), event(3, "c")):
        core.receive_data(data)
    got = messages(core)
    assert [(d.seq, d.event.msg) for d in got] == [(1, "a"), (2, "b"), (3, "c")]  # type: ignore[attr-defined]
    assert all(d.epoch == "S1" for d in got)


def test_acks_are_batched_cumulative_and_follow_the_clock():
    core = ClientProtocol("c1", ack_batch=3, ack_delay=0.5)
    logged_in(core)
    for seq in range(1, 8):
        core.receive_data(event(seq, str(seq)))
    got = messages(core)
    core.processed(got[0], now=10.0)
    core.processed(got[1], now=10.0)
    assert sent(core) == []  # under the batch: waits for the clock
    assert core.ack_deadline() == 10.5
    core.tick(10.4)
    assert sent(core) == []
    core.tick(10.5)
    assert sent(core) == [{"op": "ack", "seq": 2}]
    assert core.ack_deadline() is None
    for d in got[2:5]:  # three more: a full batch goes out at once
        core.processed(d, now=11.0)
    assert sent(core) == [{"op": "ack", "seq": 5}]


def test_ack_waits_for_an_event_finished_out_of_order():
    """A parked event (its callback not assigned yet) holds the cumulative ack back."""
    core = ClientProtocol("c1", ack_batch=1)
    logged_in(core)
    for seq in (1, 2, 3):
        core.receive_data(event(seq, str(seq)))
    one, two, three = messages(core)
    core.processed(one, now=0)
    core.processed(three, now=0)
    assert sent(core) == [{"op": "ack", "seq": 1}]
    core.processed(two, now=0)
    assert sent(core) == [{"op": "ack", "seq": 3}]


def test_resume_frame_carries_received_and_finished():
    core = ClientProtocol("c1", ack_batch=100)
    logged_in(core)
    for seq in (1, 2, 3):
        core.receive_data(event(seq, str(seq)))
    first = messages(core)[0]
    core.processed(first, now=0)
    core.connection_lost()
    core.login(app_id="a", account="alice", token="t", reconnect_time=30, sdk="x", resume=True)
    (login,) = sent(core)
    assert login["resume"] == {"session": "S1", "seq": 3, "ack": 1}
    assert login["client_id"] == "c1"


def test_epoch_change_resets_sequence_and_ignores_old_events():
    core = ClientProtocol("c1", ack_batch=1)
    logged_in(core, "S1")
    for seq in (1, 2):
        core.receive_data(event(seq, f"old {seq}"))
    old = messages(core)
    core.connection_lost()
    # The server restarted: it does not know S1 and starts S2.
    assert not logged_in(core, "S2", resume=True, resumed=False).resumed
    assert core.session_id == "S2" and core.received == 0 and core.finished == 0
    core.receive_data(event(1, "new 1"))  # seq 1 again, in the new epoch: not a duplicate
    (new,) = messages(core)
    assert new.epoch == "S2"
    core.processed(old[1], now=0)  # finishing an old-epoch event acks nothing in the new one
    assert sent(core) == []
    core.processed(new, now=0)
    assert sent(core) == [{"op": "ack", "seq": 1}]


def test_inbox_ids_already_handed_over_are_skipped_across_a_restart():
    core = ClientProtocol("c1")
    assert core.take_inbox(5)
    assert not core.take_inbox(5)
    assert not core.take_inbox(3)
    assert core.take_inbox(0)  # not from the inbox: always new
    assert core.take_inbox(6)
    core.login(app_id="a", account="alice", token="t", reconnect_time=30, sdk="x", resume=False)
    (login,) = sent(core)
    assert login["inbox_ack"] == 6


def test_pending_requests_are_resent_in_id_order_after_the_login():
    core = ClientProtocol("c1")
    logged_in(core)
    core.connection_lost()
    ids = [core.request(f.SendMsg(peer="bob", msg=str(i), cseq=core.next_cseq())) for i in range(3)]
    assert sent(core) == []  # offline: kept, not written
    core.forget(ids[1])  # timed out meanwhile: never sent again
    outcome = logged_in(core, resume=True)
    assert outcome.resumed
    resent = sent(core)
    assert [(r["id"], r["msg"], r["cseq"]) for r in resent] == [(ids[0], "0", 1), (ids[2], "2", 3)]
    core.receive_data(server_reply(ids[0], {"msg_id": ""}))
    (reply,) = core.events_received()
    assert isinstance(reply, f.Reply) and reply.id == ids[0]
    assert core.pending == [ids[2]]


def test_requests_go_out_at_once_when_logged_in_and_acks_wait_for_a_connection():
    core = ClientProtocol("c1", ack_batch=1)
    logged_in(core)
    rid = core.request(f.QueryStatus(account="bob"))
    assert sent(core) == [{"op": "query_status", "id": rid, "account": "bob"}]
    core.receive_data(event(1, "x"))
    (d,) = messages(core)
    core.connection_lost()
    core.processed(d, now=0)
    assert sent(core) == []  # no connection: the ack goes out after the resume
    logged_in(core, resume=True)
    sent(core)  # the pending query, resent
    core.flush_ack()
    assert sent(core) == [{"op": "ack", "seq": 1}]


def test_a_refused_login_and_an_ended_session():
    core = ClientProtocol("c1")
    core.login(app_id="a", account="alice", token="t", reconnect_time=30, sdk="x", resume=False)
    (login,) = sent(core)
    core.receive_data(server_reply(login["id"], code=ErrorCode.LOGIN_E_TOKENWRONG))
    assert core.events_received() == [LoginRefused(ErrorCode.LOGIN_E_TOKENWRONG, "")]
    assert core.state is ClientState.DISCONNECTED
    logged_in(core)
    rid = core.request(f.Logout())
    assert core.end() == [rid]
    assert core.state is ClientState.ENDED
    with pytest.raises(RuntimeError):
        core.request(f.Ping())


def test_garbage_and_unknown_event_kinds_are_skipped_but_finished():
    core = ClientProtocol("c1", ack_batch=1)
    logged_in(core)
    core.receive_data(b"not json")
    core.receive_data(f.encode_event(1, b'{"t":"from_the_future","x":1}'))
    core.receive_data(event(2, "known"))
    (known,) = messages(core)
    core.processed(known, now=0)
    assert sent(core) == [{"op": "ack", "seq": 2}]  # seq 1 counted as finished


def test_server_logout_and_error_frames_come_out_as_they_are():
    core = ClientProtocol("c1")
    logged_in(core)
    core.receive_data(f.encode(f.ErrorFrame(code=1004, reason="bad")))
    core.receive_data(f.encode(f.LogoutFrame(code=103, reason="kicked")))
    assert core.events_received() == [
        f.ErrorFrame(code=1004, reason="bad"),
        f.LogoutFrame(code=103, reason="kicked"),
    ]


def test_a_gap_of_expired_events_does_not_hold_the_ack_back():
    """The server drops events that expired while we were away (A5): seq jumps, and the
    cumulative ack goes past the missing ones."""
    core = ClientProtocol("c1", ack_batch=1)
    logged_in(core)
    core.receive_data(event(1, "a"))
    core.receive_data(event(4, "d"))  # 2 and 3 expired on the server
    one, four = messages(core)
    core.processed(one, now=0)
    assert sent(core) == [{"op": "ack", "seq": 3}]  # 1, and the two that will never come
    core.processed(four, now=0)
    assert sent(core) == [{"op": "ack", "seq": 4}]
