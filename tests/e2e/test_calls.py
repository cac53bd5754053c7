"""The call system (K1-K5) against a real server on loopback: every event, code and limit."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from sigphone.protocol import decode_client
from sigphone.protocol.call_payloads import InviteExtra, read_invite_extra
from sigphone.protocol.calls import CALL_EVENTS, check_dtmf, parse_invite_extra
from sigphone.sdk import Call, ErrorCode, Session, SignalError
from sigphone.server import SignalServer
from sigphone.server.services.calls import CallConfig

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.waiting import until


class Phone:
    """A session with every call callback recorded, per call, in arrival order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.incoming: list[Call] = []
        self.logs: dict[str, list[tuple[str, str]]] = {}
        session.on_invite_received = self._received

    def _received(self, call: Call) -> None:
        self.incoming.append(call)
        self.watch(call)

    def watch(self, call: Call) -> None:
        log = self.logs.setdefault(call.id, [])
        for what in CALL_EVENTS:
            setattr(call, f"on_invite_{what}", lambda extra, w=what: log.append((w, extra)))

    async def call(self, peer: str, channel: str = "room", extra: str = "") -> Call:
        call = await self.session.channel_invite_user2(channel, peer, extra)
        self.watch(call)
        return call

    def events(self, call: Call) -> list[str]:
        return [what for what, _ in self.logs[call.id]]

    def extras(self, call: Call, what: str) -> list[str]:
        return [extra for w, extra in self.logs[call.id] if w == what]


@pytest.fixture
async def phones(login):
    async def make(*accounts: str, **kw: Any) -> list[Phone]:
        return [Phone(await login(account, **kw)) for account in accounts]

    return make


async def ringing(alice: Phone, bob: Phone, **kw: Any) -> tuple[Call, Call]:
    """alice calls bob; returns both Calls once bob's SDK has confirmed the invite."""
    out = await alice.call("bob", **kw)
    await until(lambda: bob.incoming and "received_by_peer" in alice.events(out))
    return out, bob.incoming[-1]


async def connected(alice: Phone, bob: Phone) -> tuple[Call, Call]:
    out, inc = await ringing(alice, bob)
    await inc.channel_invite_accept("ok")
    await until(lambda: out.state == "accepted")
    return out, inc


def ecode(extra: str) -> int:
    return json.loads(extra)["ecode"]


# --- Event sequences -----------------------------------------------------------------------


async def test_accept_then_caller_ends(server, phones):
    alice, bob = await phones("alice", "bob")
    extra = json.dumps({"srcNum": "+123456789", "destMediaUid": 123, "mine": {"x": [1, 2]}})
    out = await alice.call("bob", channel="room-1", extra=extra)
    assert (out.direction, out.peer, out.channel, out.state) == ("out", "bob", "room-1", "ringing")
    await until(lambda: bob.incoming)
    inc = bob.incoming[0]
    assert (inc.direction, inc.peer, inc.channel, inc.state) == ("in", "alice", "room-1", "ringing")
    assert inc.extra == extra  # passed through untouched, srcNum and destMediaUid included
    assert inc.id == out.id
    await until(lambda: alice.events(out) == ["received_by_peer"])
    await inc.channel_invite_accept('{"sdp":"answer"}')
    assert inc.state == "accepted"
    await until(lambda: out.state == "accepted")
    assert alice.extras(out, "accepted_by_peer") == ['{"sdp":"answer"}']
    assert server.calls.live == 1
    await out.channel_invite_end()
    await until(lambda: bob.events(inc) == ["end_by_peer"])
    await until(lambda: "end_by_myself" in alice.events(out))
    assert alice.events(out) == ["received_by_peer", "accepted_by_peer", "end_by_myself"]
    assert out.state == inc.state == "ended"
    assert server.calls.live == 0
    assert alice.session.calls == bob.session.calls == []


async def test_refuse(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await ringing(alice, bob)
    await inc.channel_invite_refuse("busy")
    assert inc.state == "ended"
    await until(lambda: out.state == "ended")
    assert alice.logs[out.id] == [("received_by_peer", ""), ("refused_by_peer", "busy")]
    assert bob.events(inc) == []
    assert server.calls.live == 0


async def test_caller_cancels_while_ringing(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await ringing(alice, bob)
    await out.channel_invite_end()
    await until(lambda: bob.events(inc) == ["end_by_peer"] and inc.state == "ended")
    await until(lambda: alice.events(out) == ["received_by_peer", "end_by_myself"])
    assert server.calls.live == 0


async def test_callee_ends_while_ringing(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await ringing(alice, bob)
    await inc.channel_invite_end()
    await until(lambda: alice.events(out) == ["received_by_peer", "end_by_peer"])
    await until(lambda: bob.events(inc) == ["end_by_myself"])
    assert server.calls.live == 0


async def test_callee_ends_accepted_call(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)
    await inc.channel_invite_end("bye")
    await until(lambda: alice.events(out)[-1:] == ["end_by_peer"])
    assert alice.events(out) == ["received_by_peer", "accepted_by_peer", "end_by_peer"]
    assert alice.extras(out, "end_by_peer") == ["bye"]
    await until(lambda: bob.events(inc) == ["end_by_myself"])
    assert server.calls.live == 0


async def test_operations_in_the_wrong_state(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)
    with pytest.raises(SignalError) as info:
        await out.channel_invite_accept()  # the caller cannot accept
    assert info.value.code == ErrorCode.GENERAL_E_WRONG_PARAM
    with pytest.raises(SignalError) as info:
        await inc.channel_invite_refuse()  # accepted: end it instead
    assert info.value.code == ErrorCode.INVITE_E_OTHER
    await inc.channel_invite_accept()  # accepting twice is harmless
    await out.channel_invite_end()
    await until(lambda: inc.state == "ended")
    await inc.channel_invite_end()  # already over: nothing happens
    for op in (inc.channel_invite_accept(), inc.channel_invite_dtmf("1")):
        with pytest.raises(SignalError) as info:
            await op
        assert info.value.code == ErrorCode.INVITE_E_OTHER
    assert bob.events(inc) == ["end_by_peer"]
    assert server.calls.live == 0


# --- Offline peers and time limits ----------------------------------------------------------


async def test_require_peer_online_fails_at_once(server, phones):
    (alice,) = await phones("alice")
    out = await alice.call("bob", extra='{"_require_peer_online":1}')
    await until(lambda: alice.events(out) == ["failed"])
    assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_PEEROFFLINE
    assert out.state == "ended"
    assert server.calls.live == 0


async def test_offline_peer_gets_the_call_when_it_logs_in(server, phones):
    (alice,) = await phones("alice")
    out = await alice.call("bob", extra='{"_require_peer_online":0,"srcNum":"42"}')
    assert server.calls.live == 1
    (bob,) = await phones("bob")
    await until(lambda: bob.incoming and alice.events(out) == ["received_by_peer"])
    assert json.loads(bob.incoming[0].extra)["srcNum"] == "42"
    await bob.incoming[0].channel_invite_accept()
    await until(lambda: out.state == "accepted")


async def test_offline_peer_fails_after_the_offline_limit(server, phones):
    server.calls.config.offline_timeout = 0.1
    (alice,) = await phones("alice")
    out = await alice.call("bob")  # _require_peer_online 0 is the default
    await until(lambda: alice.events(out) == ["failed"])
    assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_PEEROFFLINE
    assert server.calls.live == 0


class RawClient:
    """A client speaking the wire protocol by hand: it never confirms an invite."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    @classmethod
    async def login(cls, url: str, account: str) -> RawClient:
        client = cls(await connect(url))
        login = {"op": "login", "app_id": APP, "account": account, "token": NO_TOKEN}
        reply = await client.request(login)
        assert reply.get("code", 0) == 0, reply
        return client

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        rid = next(self.ids)
        await self.ws.send(json.dumps({**frame, "id": rid}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg["op"] == "event":
                self.events.append(msg["ev"])
            elif msg["op"] == "reply" and msg["id"] == rid:
                return msg

    async def next_event(self) -> dict[str, Any]:
        while not self.events:
            msg = json.loads(await self.ws.recv())
            if msg["op"] == "event":
                self.events.append(msg["ev"])
        return self.events.pop(0)


async def test_unconfirmed_call_times_out_704(server, phones):
    server.calls.config.confirm_timeout = 0.1
    (alice,) = await phones("alice")
    bob = await RawClient.login(server.url, "bob")
    out = await alice.call("bob")
    assert (await bob.next_event())["t"] == "call_in"
    await until(lambda: alice.events(out) == ["failed"])
    assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_TIMEOUT
    ended = await bob.next_event()  # the callee is told the call is over
    assert (ended["t"], ended["what"], ecode(ended["extra"])) == ("call", "end_by_peer", 704)
    assert server.calls.live == 0
    await bob.ws.close()


class ManualTimers:
    """A timer factory the test fires by hand: proves default limits without waiting."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None], asyncio.Handle]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> asyncio.Handle:
        handle = asyncio.get_running_loop().call_later(3600, lambda: None)
        self.pending.append((delay, fn, handle))
        return handle

    def fire(self, delay: float) -> None:
        for when, fn, handle in self.pending:
            if when == delay and not handle.cancelled():
                handle.cancel()
                fn()
                return
        raise AssertionError(f"no live timer of {delay} s in {self.pending}")


async def test_default_limits_are_30_and_20_seconds(server, phones):
    assert server.config.calls == CallConfig()  # the fixture keeps the call defaults
    timers = ManualTimers()
    server.calls.call_later = timers.call_later
    (alice,) = await phones("alice")
    # 20 s for an offline peer (K1).
    offline = await alice.call("carol")
    assert [d for d, _, h in timers.pending if not h.cancelled()] == [20.0]
    timers.fire(20.0)
    await until(lambda: alice.events(offline) == ["failed"])
    assert ecode(alice.extras(offline, "failed")[0]) == ErrorCode.INVITE_E_PEEROFFLINE
    # 30 s for a callee that never confirms (K3).
    bob = await RawClient.login(server.url, "bob")
    out = await alice.call("bob")
    await bob.next_event()
    assert [d for d, _, h in timers.pending if not h.cancelled()] == [30.0]
    timers.fire(30.0)
    await until(lambda: alice.events(out) == ["failed"])
    assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_TIMEOUT
    assert server.calls.live == 0
    await bob.ws.close()


async def test_confirmation_stops_the_timeout(server, phones):
    server.calls.config.confirm_timeout = 0.05
    alice, bob = await phones("alice", "bob")
    out, inc = await ringing(alice, bob)
    # A later call that nobody confirms times out; timers fire in deadline order, so the
    # confirmed call's own timeout would have fired first had the ack not stopped it.
    carol = await RawClient.login(server.url, "carol")
    probe = await alice.call("carol")
    await until(lambda: alice.events(probe) == ["failed"])
    assert out.state == "ringing" and inc.state == "ringing"
    assert alice.events(out) == ["received_by_peer"]
    await carol.ws.close()


# --- 701 ------------------------------------------------------------------------------------


async def test_repeated_invite_701(server, phones):
    alice, bob = await phones("alice", "bob")
    first, _ = await ringing(alice, bob)
    again = await alice.call("bob")
    await until(lambda: alice.events(again) == ["failed"])
    assert ecode(alice.extras(again, "failed")[0]) == ErrorCode.INVITE_E_REINVITE
    assert first.state == "ringing"
    other = await alice.call("bob", channel="other-room")  # another channel is another call
    await until(lambda: "received_by_peer" in alice.events(other))
    await first.channel_invite_end()
    await until(lambda: first.state == "ended")
    fresh = await alice.call("bob")  # once the first is over the same call may be made
    await until(lambda: "received_by_peer" in alice.events(fresh))
    assert len(bob.incoming) == 3


# --- DTMF and messages ------------------------------------------------------------------------


async def test_dtmf_both_directions(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)
    await out.channel_invite_dtmf("0123456789*#ABCD")
    await inc.channel_invite_dtmf("abcd")  # lower-case letters are taken as upper-case
    await out.channel_invite_msg('{"sdp":"offer"}')
    await until(lambda: bob.events(inc) == ["msg", "msg"] and alice.events(out)[-1] == "msg")
    first, second = bob.extras(inc, "msg")
    assert json.loads(first) == {"type": "dtmf", "dtmf": "0123456789*#ABCD"}
    assert second == '{"sdp":"offer"}'
    assert json.loads(alice.extras(out, "msg")[0]) == {"type": "dtmf", "dtmf": "ABCD"}


@pytest.mark.parametrize(
    ("dtmf", "code"),
    [
        ("12E", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("1 2", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("１", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("1" * 129, ErrorCode.GENERAL_E_LARGE_PARAM),
    ],
)
async def test_bad_dtmf(server, phones, dtmf, code):
    alice, bob = await phones("alice", "bob")
    out, _ = await connected(alice, bob)
    with pytest.raises(SignalError) as info:
        await out.channel_invite_dtmf(dtmf)
    assert info.value.code == code


async def test_server_validates_what_the_sdk_would_refuse(server, phones):
    (alice,) = await phones("alice")
    raw = await RawClient.login(server.url, "bob")
    base = {"op": "call_invite", "call": "c1", "channel": "room", "peer": "alice"}
    cases = [
        ({**base, "call": "bad id"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({**base, "extra": "not json"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({**base, "extra": "[1]"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({**base, "extra": '{"_require_peer_online":2}'}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({**base, "extra": '{"k":"' + "x" * 8192 + '"}'}, ErrorCode.GENERAL_E_LARGE_PARAM),
        ({**base, "peer": "bob"}, ErrorCode.GENERAL_E_WRONG_PARAM),  # calling oneself
        ({**base, "channel": "a b"}, ErrorCode.GENERAL_E_WRONG_PARAM),
    ]
    for frame, code in cases:
        assert (await raw.request(frame))["code"] == code, frame
    assert server.calls.live == 0
    out = await alice.call("bob")
    ev = await raw.next_event()
    assert ev["t"] == "call_in" and ev["call"] == out.id
    bad_dtmf = {"op": "call_dtmf", "call": out.id, "dtmf": "X"}
    assert (await raw.request(bad_dtmf))["code"] == ErrorCode.GENERAL_E_WRONG_PARAM
    # Somebody else's call does not exist for a third user.
    carol = await RawClient.login(server.url, "carol")
    reply = await carol.request({"op": "call_end", "call": out.id})
    assert reply["code"] == ErrorCode.INVITE_E_OTHER
    assert (await raw.request({"op": "call_accept", "call": out.id})).get("code", 0) == 0
    await until(lambda: out.state == "accepted")
    await raw.ws.close()
    await carol.ws.close()


# --- Sessions ending mid-call -----------------------------------------------------------------


async def test_callee_logout_while_ringing_fails_703(server, phones):
    alice, bob = await phones("alice", "bob")
    out, _ = await ringing(alice, bob)
    await bob.session.logout()
    await until(lambda: "failed" in alice.events(out))
    assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_PEEROFFLINE
    assert server.calls.live == 0


async def test_caller_logout_while_ringing_ends_it_on_the_callee(server, phones):
    alice, bob = await phones("alice", "bob")
    _, inc = await ringing(alice, bob)
    await alice.session.logout()
    await until(lambda: bob.events(inc) == ["end_by_peer"])
    assert json.loads(bob.extras(inc, "end_by_peer")[0]) == {"logout": 101}
    assert inc.state == "ended" and server.calls.live == 0


@pytest.mark.parametrize("who", ["caller", "callee"])
async def test_logout_mid_call(server, phones, who):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)
    leaving, staying, call = (alice, bob, inc) if who == "caller" else (bob, alice, out)
    await leaving.session.logout()
    await until(lambda: staying.events(call)[-1:] == ["end_by_peer"])
    assert json.loads(staying.extras(call, "end_by_peer")[0]) == {"logout": 101}
    assert server.calls.live == 0


async def test_kicked_mid_call(server, phones, login):
    alice, bob = await phones("alice", "bob")
    out, _ = await connected(alice, bob)
    await login("bob")  # the same account on another device kicks the first (103)
    await until(lambda: alice.events(out)[-1:] == ["end_by_peer"])
    assert json.loads(alice.extras(out, "end_by_peer")[0]) == {"logout": 103}
    assert server.calls.live == 0


@pytest.mark.parametrize("accepted", [False, True])
async def test_reconnect_window_over_ends_the_call(server, phones, accepted):
    (alice,) = await phones("alice")
    (bob,) = await phones("bob", reconnect_count=0, reconnect_time=0.1)
    out, _ = await (connected(alice, bob) if accepted else ringing(alice, bob))
    bob.session._ws.transport.abort()  # gone for good: no reconnect attempts allowed
    await until(lambda: "failed" in alice.events(out) or "end_by_peer" in alice.events(out))
    if accepted:
        assert json.loads(alice.extras(out, "end_by_peer")[0]) == {"logout": 102}
    else:
        assert ecode(alice.extras(out, "failed")[0]) == ErrorCode.INVITE_E_NET
    assert server.calls.live == 0


# --- Short network breaks ----------------------------------------------------------------------


async def test_call_survives_a_transport_cut(server, phones):
    alice, bob = await phones("alice", "bob")
    out = await alice.call("bob")
    await until(lambda: bob.incoming)
    inc = bob.incoming[0]
    # The caller's connection drops while the callee answers and sends digits.
    alice.session._ws.transport.abort()
    await inc.channel_invite_accept("a")
    await inc.channel_invite_dtmf("1")
    await inc.channel_invite_dtmf("2")
    await until(lambda: alice.events(out) == ["received_by_peer", "accepted_by_peer", "msg", "msg"])
    assert [json.loads(x)["dtmf"] for x in alice.extras(out, "msg")] == ["1", "2"]
    # The callee's connection drops while the caller sends and then hangs up.
    bob.session._ws.transport.abort()
    await out.channel_invite_dtmf("3")
    await out.channel_invite_end()
    await until(lambda: bob.events(inc) == ["msg", "end_by_peer"])
    await until(lambda: alice.events(out)[-1:] == ["end_by_myself"])
    assert alice.events(out) == [
        "received_by_peer",
        "accepted_by_peer",
        "msg",
        "msg",
        "end_by_myself",
    ]
    assert bob.session.resumed and alice.session.resumed
    assert server.calls.live == 0


async def test_incoming_call_during_a_cut_arrives_once(server, phones):
    alice, bob = await phones("alice", "bob")
    bob.session._ws.transport.abort()
    out = await alice.call("bob")  # bob is inside its reconnect window: still online
    await until(lambda: bob.incoming and "received_by_peer" in alice.events(out))
    bob.session._ws.transport.abort()  # and once more, after the invite was delivered
    await bob.incoming[0].channel_invite_accept()
    await until(lambda: out.state == "accepted")
    assert len(bob.incoming) == 1
    assert alice.events(out) == ["received_by_peer", "accepted_by_peer"]


# --- K5: calls and channels are independent ---------------------------------------------------


async def test_call_does_not_need_channel_membership(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)  # nobody joined "room"
    assert out.channel == inc.channel == "room"


@pytest.mark.parametrize("join_first", [True, False])
async def test_call_and_join_in_either_order(server, phones, join_first):
    alice, bob = await phones("alice", "bob")
    if join_first:
        await alice.session.channel_join("room")
    out, inc = await ringing(alice, bob)
    if not join_first:
        await alice.session.channel_join("room")
    await inc.channel_invite_accept()
    await bob.session.channel_join(inc.channel)
    await until(lambda: out.state == "accepted")
    await out.channel_invite_end()
    await until(lambda: inc.state == "ended")


# --- Many calls at once -----------------------------------------------------------------------


async def test_many_concurrent_calls_all_end_cleanly(server):
    """200 calls between 400 users; callees accept (then hang up), refuse or ignore, callers
    cancel some at once and end the rest: every call ends once on both sides, none leaks."""
    rng = random.Random(4)
    n = 200
    sessions = await asyncio.gather(
        *(fast_signal(server.url).login(f"u{i}", NO_TOKEN) for i in range(2 * n))
    )
    phones = [Phone(s) for s in sessions]
    answered = 0

    def answering(phone: Phone) -> Callable[[Call], Any]:
        async def answer(call: Call) -> None:
            nonlocal answered
            phone._received(call)
            try:
                choice = rng.choice(["accept", "refuse", "ignore"])
                if choice == "accept":
                    await call.channel_invite_accept()
                    await call.channel_invite_end()
                elif choice == "refuse":
                    await call.channel_invite_refuse()
            except SignalError as exc:
                assert exc.code == ErrorCode.INVITE_E_OTHER  # the caller cancelled first
            finally:
                answered += 1

        return answer

    for phone in phones[n:]:
        phone.session.on_invite_received = answering(phone)
    calls = await asyncio.gather(*(phones[i].call(f"u{n + i}") for i in range(n)))
    await asyncio.gather(*(c.channel_invite_end() for c in calls if rng.random() < 0.3))
    await until(lambda: answered == n)
    await asyncio.gather(*(c.channel_invite_end() for c in calls))
    await until(lambda: all(c.state == "ended" for c in calls))
    await until(lambda: all(c.state == "ended" for p in phones[n:] for c in p.incoming))
    terminal = {"failed", "refused_by_peer", "end_by_peer", "end_by_myself"}
    for i, call in enumerate(calls):
        assert sum(e in terminal for e in phones[i].events(call)) == 1
    for phone in phones[n:]:
        for call in phone.incoming:
            assert sum(e in terminal for e in phone.events(call)) <= 1
    assert server.calls.live == 0
    assert not server.calls.by_session and not server.calls.in_flight
    await asyncio.gather(*(s.logout() for s in sessions))


async def test_calls_are_over_after_my_logout(server, phones):
    alice, bob = await phones("alice", "bob")
    out, inc = await connected(alice, bob)
    await alice.session.logout()
    assert out.state == "ended" and alice.session.calls == []
    await until(lambda: inc.state == "ended")


async def test_server_restart_ends_calls_the_server_forgot(tmp_path):
    """Without a session to resume, the SDK ends its calls itself (702), in event order."""
    first = SignalServer(fast_config(tmp_path / "data"))
    await first.start()
    port = first.port
    alice = Phone(await fast_signal(first.url).login("alice", NO_TOKEN))
    bob = Phone(await fast_signal(first.url).login("bob", NO_TOKEN))
    try:
        out, inc = await connected(alice, bob)
        ringing_call = await alice.call("carol")  # offline, waiting
        await first.close()
        cfg = fast_config(tmp_path / "data")
        cfg.port = port
        async with SignalServer(cfg):
            await until(lambda: alice.session.is_online() and bob.session.is_online())
            await until(lambda: out.state == inc.state == ringing_call.state == "ended")
            assert not alice.session.resumed
            assert alice.events(out)[-1] == "end_by_peer"
            assert alice.events(ringing_call) == ["failed"]
            assert ecode(alice.extras(ringing_call, "failed")[0]) == ErrorCode.INVITE_E_NET
            assert bob.events(inc) == ["end_by_peer"]
            await alice.session.logout()
            await bob.session.logout()
    finally:
        for phone in (alice, bob):
            if phone.session.get_status():
                await phone.session.logout()


# --- Validation never fails other than with a seed code -----------------------------------------


@given(st.text(max_size=200))
def test_dtmf_validation_fuzz(text):
    try:
        digits = check_dtmf(text)
    except SignalError as exc:
        assert exc.code in (ErrorCode.GENERAL_E_WRONG_PARAM, ErrorCode.GENERAL_E_LARGE_PARAM)
    else:
        assert digits == text.upper() and set(digits) <= set("0123456789*#ABCD")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@given(st.one_of(st.text(max_size=100), _json_values.map(json.dumps)))
def test_invite_extra_validation_fuzz(text):
    try:
        extra = parse_invite_extra(text)
    except SignalError as exc:
        assert exc.code in (ErrorCode.GENERAL_E_WRONG_PARAM, ErrorCode.GENERAL_E_LARGE_PARAM)
    else:
        assert isinstance(extra, InviteExtra)
        obj = json.loads(text) if text.strip() else {}
        assert extra.require_peer_online == (obj.get("_require_peer_online", 0) == 1)
        assert read_invite_extra(extra.encode()) == extra  # the encoder round-trips


@given(
    st.sampled_from(["call_invite", "call_ack", "call_accept", "call_refuse", "call_end",
                     "call_msg", "call_dtmf"]),
    st.dictionaries(st.sampled_from(["call", "channel", "peer", "extra", "dtmf", "id"]),
                    _json_values, max_size=6),
)  # fmt: skip
def test_call_frame_decoding_fuzz(op, fields):
    try:
        decode_client(json.dumps({"op": op, **fields}))
    except SignalError as exc:
        assert exc.code == ErrorCode.GENERAL_E_WRONG_PARAM
