"""The adaptive ack timing (protocol.acks.AckClock) and the acks riding on requests, fed
bytes and a clock by hand: no sockets, no loop."""

from __future__ import annotations

import json

import msgspec
import pytest

from sigphone.protocol import frames as f
from sigphone.protocol.acks import ACK_DELAY, ACK_DELAY_MAX, AckClock
from sigphone.protocol.client import ClientProtocol

from .test_client import event, logged_in, messages, sent


def test_a_quiet_connection_acknowledges_within_the_short_delay():
    clock = AckClock(batch=64, delay=0.02, delay_max=0.5)
    for start in (0.0, 1.0, 2.0):  # events a second apart: every one is fast
        assert not clock.pending(1, start)
        assert clock.due == pytest.approx(start + 0.02)
        assert not clock.expired(start + 0.019)
        assert clock.expired(start + 0.02)
        clock.sent(start + 0.02)


def test_under_load_acks_space_out_up_to_the_bound_and_no_further():
    clock = AckClock(batch=64, delay=0.02, delay_max=0.5)
    gaps: list[float] = []
    last = None
    for tick in range(1000):  # a 10 ms timer for 10 s; one event every 50 ms (busy channel)
        now = tick / 100
        if tick % 5 == 0:
            clock.pending(1, now)
        if clock.expired(now):
            if last is not None:
                gaps.append(round(now - last, 3))
            clock.sent(now)
            last = now
    assert gaps[0] < 0.1  # it starts fast ...
    assert max(gaps) <= 0.55  # ... never waits past the bound (plus one event's spacing)
    assert gaps[-5:] == [0.5] * 5  # ... and settles at the bound: 2 acks/s, not 20
    assert len(gaps) < 30  # 10 s of 20 events/s: 200 acks with a fixed 20 ms delay


def test_a_full_batch_goes_out_at_once_and_quiet_resets_the_spacing():
    clock = AckClock(batch=3, delay=0.02, delay_max=0.5)
    assert clock.pending(3, 0.0)  # a batch: now, whatever the clock
    clock.sent(0.0)
    assert not clock.pending(1, 0.1)  # busy: spaced out
    assert clock.due == pytest.approx(0.12)
    clock.sent(0.12)
    assert not clock.pending(1, 5.0)  # quiet for longer than the bound: fast again
    assert clock.due == pytest.approx(5.02)
    assert clock.gap == 0.02


def test_the_sdk_default_is_the_adaptive_clock():
    core = ClientProtocol("c1")
    assert (core.acks.delay, core.acks.delay_max) == (ACK_DELAY, ACK_DELAY_MAX)
    logged_in(core)
    for seq in (1, 2):
        core.receive_data(event(seq, str(seq)))
    one, two = messages(core)
    core.processed(one, now=100.0)
    assert core.ack_deadline() == pytest.approx(100.02)
    core.tick(100.02)
    assert sent(core) == [{"op": "ack", "seq": 1}]
    core.processed(two, now=100.025)  # right after the last ack: busy, the spacing doubles
    deadline = core.ack_deadline()
    assert deadline == pytest.approx(100.02 + 2 * ACK_DELAY)  # not 100.025 + ACK_DELAY
    core.tick(deadline)
    assert sent(core) == [{"op": "ack", "seq": 2}]


def test_a_pending_ack_rides_on_the_next_request_instead_of_its_own_frame():
    core = ClientProtocol("c1")
    logged_in(core)
    core.receive_data(event(1, "a"))
    core.receive_data(event(2, "b"))
    for d in messages(core):
        core.processed(d, now=0.0)
    assert sent(core) == []  # waiting for the clock
    rid = core.request(f.SendMsg(peer="bob", msg="hi", cseq=core.next_cseq()))
    assert sent(core) == [
        {"op": "send", "id": rid, "peer": "bob", "msg": "hi", "cseq": 1, "ack": 2}
    ]
    assert core.ack_deadline() is None  # nothing left to acknowledge
    core.tick(10.0)
    assert sent(core) == []
    rid2 = core.request(f.Ping())
    assert sent(core) == [{"op": "ping", "id": rid2}]  # nothing new to acknowledge


def test_a_resent_request_carries_no_ack_of_an_earlier_server_session():
    """An ack is only meaningful in the server session it was counted in: a request resent
    after a reconnect to a fresh session must not acknowledge that session's events."""
    core = ClientProtocol("c1")
    logged_in(core, "S1")
    core.receive_data(event(1, "a"))
    (d,) = messages(core)
    core.processed(d, now=0.0)
    rid = core.request(f.SendMsg(peer="bob", msg="hi", cseq=core.next_cseq()))
    (first,) = sent(core)
    assert first["ack"] == 1
    core.connection_lost()
    logged_in(core, "S2", resume=True, resumed=False)  # the server lost the session
    (resent,) = sent(core)
    assert resent["id"] == rid and "ack" not in resent


def test_the_server_reads_the_compact_ack_and_the_request_field():
    assert f.parse_ack(f.encode_ack(12345)) == 12345
    assert f.encode_ack(7) == f.encode(f.Ack(seq=7))  # the same bytes as the general encoder
    for other in (
        b'{"op":"ack","seq":-1}',
        b'{"op":"ack","seq":1.5}',
        b'{"op":"ack","seq":01}',
        b'{"op":"ack","seq":}',
        b'{"op":"ack","seq":1,"x":2}',
        b'{"op":"ack", "seq":1}',
        b'{"op":"ack","seq":1234567890123456789}',
    ):
        assert f.parse_ack(other) is None, other  # left to decode_client (and its errors)
    frame = f.decode_client(f.with_ack(f.encode(f.Ping(id=3)), 9))
    assert isinstance(frame, f.Ping) and (frame.id, frame.ack) == (3, 9)
    with pytest.raises(Exception):  # noqa: B017  (SignalError 1004 from the decoder)
        f.decode_client(b'{"op":"ping","id":1,"ack":-1}')
    assert json.loads(f.with_ack(b'{"op":"ping","id":1}', 4)) == {"op": "ping", "id": 1, "ack": 4}
    assert msgspec.json.decode(f.encode(f.Ping(id=1))) == {"op": "ping", "id": 1}
