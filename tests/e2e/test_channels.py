"""The channel system (C1-C10) against a real server on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import random

import pytest

from sigphone.protocol.channels import (
    INVOKE_PREFIX,
    ChannelActivity,
    ChannelJoin,
    ChannelMessage,
    ChannelSend,
    Invoke,
    UserOnline,
    leave_code,
)
from sigphone.protocol.frames import decode_event, encode_event_body
from sigphone.sdk import ErrorCode, SignalError
from sigphone.server import ServerConfig, SignalServer
from sigphone.server.services.channels import ChannelsConfig

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.waiting import until


class Recorder:
    """Every channel callback of one channel (or session), in the order it fired."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def attach(self, target) -> None:
        for name in (
            "on_channel_joined",
            "on_channel_join_failed",
            "on_channel_leaved",
            "on_channel_user_joined",
            "on_channel_user_leaved",
            "on_channel_user_list",
            "on_channel_attr_updated",
            "on_message_channel_receive",
        ):
            setattr(target, name, self._make(name[3:]))

    def _make(self, name: str):
        return lambda *args: self.events.append((name, *args))

    def of(self, kind: str) -> list[tuple]:
        return [e[1:] for e in self.events if e[0] == kind]


async def joined(session, name: str) -> tuple:
    """Join with a recorder attached to the session's fallbacks before anything fires."""
    rec = Recorder()
    rec.attach(session)
    channel = await session.channel_join(name)
    return channel, rec


# --- C1, C2, C3: join, leave, lists, codes ---------------------------------------------


async def test_join_leave_events_and_member_list(login):
    alice = await login("alice")
    bob = await login("bob")
    a_ch, a_rec = await joined(alice, "room")
    assert a_ch.joined and a_ch.members == {"alice": 0}
    assert a_rec.of("channel_joined") == [()]
    assert a_rec.of("channel_user_list") == [([["alice", 0]],)]

    b_ch, b_rec = await joined(bob, "room")
    assert b_rec.of("channel_user_list") == [([["alice", 0], ["bob", 0]],)]
    assert list(b_ch.members) == ["alice", "bob"]
    await until(lambda: a_rec.of("channel_user_joined"))
    assert a_rec.of("channel_user_joined") == [("bob", 0)]
    assert list(a_ch.members) == ["alice", "bob"]

    await b_ch.channel_leave()
    await until(lambda: b_rec.of("channel_leaved") and a_rec.of("channel_user_leaved"))
    assert b_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_BYUSER,)]
    assert a_rec.of("channel_user_leaved") == [("bob", 0)]
    assert not b_ch.joined and list(a_ch.members) == ["alice"]
    assert await alice.channel_query_user_num("room") == 1


async def test_callbacks_given_to_join_and_query_num(login):
    alice = await login("alice")
    got: list[tuple] = []
    channel = await alice.channel_join(
        "room", on_channel_joined=lambda: got.append(("joined",)), on_channel_user_list=got.append
    )
    assert got == [("joined",), [["alice", 0]]]
    results = []
    alice.on_channel_query_user_num_result = lambda *a: results.append(a)
    assert await alice.channel_query_user_num("room") == 1
    assert await alice.channel_query_user_num("empty") == 0
    await until(lambda: len(results) == 2)
    assert results == [("room", 0, 1), ("empty", 0, 0)]
    assert channel.num == 1


async def test_one_channel_at_a_time(login):
    alice = await login("alice")
    bob = await login("bob")
    _, b_rec = await joined(bob, "first")
    first, a_rec = await joined(alice, "first")
    second = await alice.channel_join("second")
    await until(lambda: b_rec.of("channel_user_leaved") and a_rec.of("channel_leaved"))
    assert a_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_BYUSER,)]
    assert b_rec.of("channel_user_leaved") == [("alice", 0)]
    assert not first.joined and second.joined
    assert second.members == {"alice": 0}
    assert await bob.channel_query_user_num("first") == 1
    assert await bob.channel_query_user_num("second") == 1
    # Order seen by alice: left the first, then joined the second.
    kinds = [e[0] for e in a_rec.events]
    assert kinds.index("channel_leaved") < len(kinds) - 1 - kinds[::-1].index("channel_joined")


async def test_rejoining_the_same_channel_keeps_one_membership(login):
    alice = await login("alice")
    bob = await login("bob")
    _, b_rec = await joined(bob, "room")
    ch1 = await alice.channel_join("room")
    ch2 = await alice.channel_join("room")
    assert ch1 is ch2 and ch2.joined
    assert await bob.channel_query_user_num("room") == 2
    await until(lambda: b_rec.of("channel_user_joined"))
    assert b_rec.of("channel_user_joined") == [("alice", 0)]


async def test_logout_leaves_with_603(login):
    alice = await login("alice")
    bob = await login("bob")
    _, a_rec = await joined(alice, "room")
    await bob.channel_join("room")
    order: list[str] = []
    bob.on_channel_leaved = lambda code: order.append(f"leaved {code}")
    bob.on_logout = lambda code: order.append(f"logout {code}")
    await bob.logout()
    await bob.wait_closed()
    assert order == ["leaved 603", "logout 101"]
    await until(lambda: a_rec.of("channel_user_leaved"))
    assert a_rec.of("channel_user_leaved") == [("bob", 0)]
    assert await alice.channel_query_user_num("room") == 1


async def test_kicked_by_another_login_leaves_with_601(server, login):
    alice = await login("alice")
    old = await login("bob")
    _, a_rec = await joined(alice, "room")
    _, old_rec = await joined(old, "room")
    codes: list[int] = []
    old.on_logout = codes.append
    new = await login("bob")
    await until(lambda: codes and old_rec.of("channel_leaved"))
    assert codes == [ErrorCode.LOGOUT_E_KICKED]
    assert old_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_KICKED,)]
    await until(lambda: a_rec.of("channel_user_leaved"))
    assert a_rec.of("channel_user_leaved") == [("bob", 0)]
    assert await new.channel_query_user_num("room") == 1  # the new device is not in it


async def test_reconnect_window_over_leaves_with_604(server, login):
    alice = await login("alice")
    bob = await login("bob", reconnect_time=0.2, reconnect_count=1)
    _, a_rec = await joined(alice, "room")
    _, b_rec = await joined(bob, "room")
    bob.signal.server = "ws://127.0.0.1:9"  # nothing listens there: reconnects fail
    bob._ws.transport.abort()
    await until(lambda: b_rec.of("channel_leaved"))
    assert b_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_DISCONN,)]
    # The server ends bob's session after its window (+ grace) and tells the channel.
    await until(lambda: a_rec.of("channel_user_leaved"))
    assert a_rec.of("channel_user_leaved") == [("bob", 0)]
    assert await alice.channel_query_user_num("room") == 1


async def test_must_be_logged_in(login):
    alice = await login("alice")
    await alice.logout()
    failed: list[int] = []
    alice.on_channel_join_failed = failed.append
    with pytest.raises(SignalError) as info:
        await alice.channel_join("room")
    assert info.value.code == ErrorCode.GENERAL_E_NOT_LOGIN


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("has space", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("c" * 129, ErrorCode.GENERAL_E_LARGE_PARAM),
        ("_agora_user_online", ErrorCode.JOINCHANNEL_E_OTHER),
        ("_agora_channel_event", ErrorCode.JOINCHANNEL_E_OTHER),
    ],
)
async def test_join_refused_with_code(login, name, code):
    alice = await login("alice")
    failed: list[int] = []
    alice.on_channel_join_failed = failed.append
    with pytest.raises(SignalError) as info:
        await alice.channel_join(name)
    assert info.value.code == code
    await until(lambda: failed)
    assert failed == [code]


async def test_longest_channel_name_joins(login):
    alice = await login("alice")
    channel = await alice.channel_join("c" * 128)
    assert channel.joined


async def test_user_list_defaults_cap_and_large_channels(server, login):
    """The defaults (200 listed, large above 200) and the cap with 250 members."""
    assert ChannelsConfig().large_threshold == 200
    assert ChannelsConfig().user_list_max == 200
    sessions = [await login(f"u{i:03d}") for i in range(250)]
    for session in sessions[:199]:
        await session.channel_join("big")
    # The 200th member still gets the whole list; the 201st (now a large channel) none.
    lists: list = []
    sessions[199].on_channel_user_list = lists.append
    await sessions[199].channel_join("big")
    assert lists == [[[f"u{i:03d}", 0] for i in range(200)]]
    sessions[200].on_channel_user_list = lists.append
    channel = await sessions[200].channel_join("big")
    assert len(lists) == 1
    assert channel.num == 201 and channel.members == {"u200": 0}
    # Raise the threshold: with 250 members the latest joiner gets the latest 200.
    server.channels.config.large_threshold = 1000
    for session in sessions[201:249]:
        await session.channel_join("big")
    sessions[249].on_channel_user_list = lists.append
    await sessions[249].channel_join("big")
    assert lists[1:] == [[[f"u{i:03d}", 0] for i in range(50, 250)]]
    assert await sessions[0].channel_query_user_num("big") == 250


# --- C5, C9: attributes and built-in attributes ----------------------------------------


class ManualTimer:
    """Stands in for ``loop.call_later`` in the channel service: records each delay and
    fires only when the test says so (real TimerHandles, far in the future, for cancel)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, object, asyncio.TimerHandle]] = []

    def __call__(self, delay, fn):
        handle = asyncio.get_running_loop().call_later(86_400, fn)
        self.calls.append((delay, fn, handle))
        return handle

    def pending(self) -> list[float]:
        return [delay for delay, _, handle in self.calls if not handle.cancelled()]

    def fire(self) -> None:
        """Run every pending timer once (as if its delay had passed)."""
        due = [(fn, handle) for _, fn, handle in self.calls if not handle.cancelled()]
        for fn, handle in due:
            handle.cancel()
            fn()


async def test_attributes_seen_by_every_member_and_table_on_join(login):
    alice = await login("alice")
    bob = await login("bob")
    a_ch, a_rec = await joined(alice, "room")
    b_ch, b_rec = await joined(bob, "room")
    await a_ch.channel_set_attr("topic", "hello world")
    await b_ch.channel_set_attr("mic", "bob")
    await a_ch.channel_set_attr("topic", "changed")
    await b_ch.channel_del_attr("mic")
    await b_ch.channel_del_attr("never-set")  # nothing to delete: no event
    expected = [
        ("topic", "hello world", "update"),
        ("mic", "bob", "update"),
        ("topic", "changed", "update"),
        ("mic", "", "del"),
    ]
    await until(lambda: len(a_rec.of("channel_attr_updated")) == 4)
    await until(lambda: len(b_rec.of("channel_attr_updated")) == 4)
    assert a_rec.of("channel_attr_updated") == expected
    assert b_rec.of("channel_attr_updated") == expected
    assert a_ch.attrs == b_ch.attrs == {"topic": "changed"}

    carol = await login("carol")
    c_ch, c_rec = await joined(carol, "room")
    assert c_ch.attrs == {"topic": "changed"}
    assert c_rec.of("channel_attr_updated") == [("topic", "changed", "update")]

    await c_ch.channel_clear_attr()
    for rec in (a_rec, b_rec, c_rec):
        await until(lambda rec=rec: rec.of("channel_attr_updated")[-1] == ("", "", "clear"))
    assert a_ch.attrs == b_ch.attrs == c_ch.attrs == {}


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("n" * 129, "v", ErrorCode.GENERAL_E_LARGE_PARAM),
        ("ok", "v" * 1025, ErrorCode.GENERAL_E_LARGE_PARAM),
        ("has space", "v", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("_member_num", "5", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("_total_member_num", "5", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("_channel_ttl", "soon", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("_userNotification", "2", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("_sendmsg_limit", "-1", ErrorCode.GENERAL_E_WRONG_PARAM),
    ],
)
async def test_attribute_limits(login, name, value, code):
    alice = await login("alice")
    channel = await alice.channel_join("room")
    with pytest.raises(SignalError) as info:
        await channel.channel_set_attr(name, value)
    assert info.value.code == code
    assert channel.attrs == {}


async def test_attribute_limits_at_the_edge(login):
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_set_attr("n" * 128, "v" * 1024)
    await until(lambda: channel.attrs)
    assert channel.attrs == {"n" * 128: "v" * 1024}


async def test_user_notification_off_suppresses_join_and_leave(login):
    alice = await login("alice")
    a_ch, a_rec = await joined(alice, "quiet")
    await a_ch.channel_set_attr("_userNotification", "0")
    bob = await login("bob")
    b_ch = await bob.channel_join("quiet")
    assert b_ch.attrs == {"_userNotification": "0"}
    await b_ch.channel_leave()
    await a_ch.channel_set_attr("marker", "1")  # an event after bob's join and leave
    await until(lambda: a_ch.attrs.get("marker"))
    assert a_rec.of("channel_user_joined") == [] and a_rec.of("channel_user_leaved") == []
    await a_ch.channel_del_attr("_userNotification")  # back to the default: notify
    await bob.channel_join("quiet")
    await until(lambda: a_rec.of("channel_user_joined"))
    assert a_rec.of("channel_user_joined") == [("bob", 0)]


async def test_channel_ttl_default_is_7200_seconds(server, login):
    assert ChannelsConfig().default_ttl == 7200.0
    timer = server.channels.timer = ManualTimer()
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_set_attr("topic", "kept")
    await channel.channel_leave()
    assert timer.pending() == [7200.0]
    # Rejoining inside the TTL finds the attributes; the expiry is called off.
    channel = await alice.channel_join("room")
    assert channel.attrs == {"topic": "kept"} and timer.pending() == []
    await channel.channel_leave()
    timer.fire()  # 7200 s later
    assert server.channels.get("testapp", "room") is None
    channel = await alice.channel_join("room")
    assert channel.attrs == {}


async def test_channel_ttl_attribute_sets_the_lifetime(server, login):
    timer = server.channels.timer = ManualTimer()
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_set_attr("_channel_ttl", "1")
    await channel.channel_leave()
    assert timer.pending() == [1]
    assert server.channels.get("testapp", "room") is not None
    timer.fire()
    assert server.channels.get("testapp", "room") is None


async def test_channel_ttl_with_a_real_short_timer(server, login):
    """The real loop timer (not the manual one) removes the channel after a short TTL."""
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_set_attr("_channel_ttl", "0")
    await channel.channel_leave()
    await until(lambda: server.channels.get("testapp", "room") is None)


async def test_member_num_auto_update(server, login):
    timer = server.channels.timer = ManualTimer()
    alice = await login("alice")
    a_ch = await alice.channel_join("room")
    await a_ch.channel_set_attr("_auto_update_num", "5")
    await until(lambda: a_ch.attrs.get("_member_num") == "1")
    assert timer.pending() == [5]
    bob = await login("bob")
    await bob.channel_join("room")
    timer.fire()  # 5 s later: refreshed
    await until(lambda: a_ch.attrs.get("_member_num") == "2")
    # _total_member_num needs both _auto_update_num and _auto_update_total_num.
    await a_ch.channel_set_attr("_auto_update_total_num", "10")
    await until(lambda: a_ch.attrs.get("_total_member_num") == "2")
    assert sorted(timer.pending()) == [5, 10]
    await a_ch.channel_del_attr("_auto_update_num")  # both stop; their values go
    await until(lambda: "_member_num" not in a_ch.attrs and "_total_member_num" not in a_ch.attrs)
    assert timer.pending() == []


# --- C6: channel messages and their limits ---------------------------------------------


async def test_channel_message_reaches_every_member(login):
    alice = await login("alice")
    bob = await login("bob")
    a_ch, a_rec = await joined(alice, "room")
    _, b_rec = await joined(bob, "room")
    sent: list[str] = []
    alice.on_message_send_success = sent.append
    assert await a_ch.message_channel_send("hi all", msg_id="m-1") == "m-1"
    await until(lambda: a_rec.of("message_channel_receive") and b_rec.of("message_channel_receive"))
    assert b_rec.of("message_channel_receive") == [("alice", 0, "hi all")]
    assert a_rec.of("message_channel_receive") == [("alice", 0, "hi all")]
    await until(lambda: sent)
    assert sent == ["m-1"]
    text = "ü" * (8 * 1024)  # the largest message of a small channel
    await a_ch.message_channel_send(text)
    await until(lambda: len(b_rec.of("message_channel_receive")) == 2)
    assert b_rec.of("message_channel_receive")[-1] == ("alice", 0, text)


async def test_message_after_leaving_fails_with_400(login):
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_leave()
    errors: list[tuple] = []
    alice.on_message_send_error = lambda *a: errors.append(a)
    with pytest.raises(SignalError) as info:
        await channel.message_channel_send("anyone?", msg_id="late")
    assert info.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    await until(lambda: errors)
    assert errors == [("late", ErrorCode.SENDMESSAGE_E_OTHER)]


async def test_small_channel_message_size_limit(login):
    alice = await login("alice")
    channel = await alice.channel_join("room")
    with pytest.raises(SignalError) as info:
        await channel.message_channel_send("x" * (8 * 1024 + 1))
    assert info.value.code == ErrorCode.GENERAL_E_LARGE_PARAM


async def large_room(server, login, now: list[float]):
    """Three members in a channel made "large" by a threshold of 2; a clock the test moves."""
    server.channels.config.large_threshold = 2
    server.channels.clock = lambda: now[0]
    sessions = [await login(name) for name in ("alice", "bob", "carol")]
    channels = [await s.channel_join("big") for s in sessions]
    return sessions, channels


async def test_large_channel_message_size_and_user_rate(server, login):
    now = [1000.0]
    (alice, _, _), (a_ch, b_ch, c_ch) = await large_room(server, login, now)
    received: list[tuple] = []
    c_ch.on_message_channel_receive = lambda *a: received.append(a)
    errors: list[tuple] = []
    alice.on_message_send_error = lambda *a: errors.append(a)
    with pytest.raises(SignalError) as info:
        await a_ch.message_channel_send("x" * 1025, msg_id="big")
    assert info.value.code == ErrorCode.GENERAL_E_LARGE_PARAM
    await a_ch.message_channel_send("x" * 1024)
    with pytest.raises(SignalError) as info:  # a second message inside the same second
        await a_ch.message_channel_send("again", msg_id="fast")
    assert info.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    await b_ch.message_channel_send("bob is not limited by alice")  # others still pass
    now[0] += 1.0
    await a_ch.message_channel_send("a second later")
    await until(lambda: len(received) == 3)
    assert [r[0] for r in received] == ["alice", "bob", "alice"]
    await until(lambda: len(errors) == 2)
    assert errors == [
        ("big", ErrorCode.GENERAL_E_LARGE_PARAM),
        ("fast", ErrorCode.SENDMESSAGE_E_OTHER),
    ]
    assert alice.is_online()  # nothing else broke


async def test_large_channel_rate_per_channel(server, login):
    now = [1000.0]
    server.channels.config.channel_rate_large = 2  # default 100/s; proven below
    assert ChannelsConfig().channel_rate_large == 100
    assert ChannelsConfig().user_rate_large == 1
    (_, _, _), channels = await large_room(server, login, now)
    await channels[0].message_channel_send("1")
    await channels[1].message_channel_send("2")
    with pytest.raises(SignalError) as info:
        await channels[2].message_channel_send("3")
    assert info.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    now[0] += 1.0
    await channels[2].message_channel_send("3")


async def test_sendmsg_limit_overrides_the_channel_rate(server, login):
    now = [1000.0]
    server.channels.clock = lambda: now[0]
    alice = await login("alice")
    channel = await alice.channel_join("room")  # small: no rate limit by default
    for i in range(5):
        await channel.message_channel_send(str(i))
    await channel.channel_set_attr("_sendmsg_limit", "2")
    await channel.message_channel_send("a")
    await channel.message_channel_send("b")
    with pytest.raises(SignalError) as info:
        await channel.message_channel_send("c")
    assert info.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    await channel.channel_del_attr("_sendmsg_limit")
    await channel.message_channel_send("c")


async def test_setattr_limit(server, login):
    now = [1000.0]
    server.channels.clock = lambda: now[0]
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_set_attr("_setattr_limit", "2")
    await channel.channel_set_attr("a", "1")
    await channel.channel_set_attr("b", "1")
    with pytest.raises(SignalError) as info:
        await channel.channel_set_attr("c", "1")
    assert info.value.code == ErrorCode.GENERAL_E_FAILED
    now[0] += 1.0
    await channel.channel_set_attr("c", "1")


async def test_flood_from_one_user_does_not_stop_others(server, login):
    """A large channel: one user floods and is refused (400); the others' messages pass."""
    now = [1000.0]
    _, (a_ch, b_ch, c_ch) = await large_room(server, login, now)
    got: list[str] = []
    c_ch.on_message_channel_receive = lambda account, uid, msg: got.append(msg)
    refused = 0
    for i in range(20):  # alice sends 20 messages while the clock moves 1 s every 5
        try:
            await a_ch.message_channel_send(f"flood {i}")
        except SignalError as exc:
            assert exc.code == ErrorCode.SENDMESSAGE_E_OTHER
            refused += 1
        if i % 5 == 0:
            await b_ch.message_channel_send(f"bob {i}")
            now[0] += 1.0
    # One message per second for alice: 0, then the first after each clock step.
    assert refused == 15
    await until(lambda: len(got) == 9)
    assert got == [
        "flood 0", "bob 0", "flood 1", "bob 5", "flood 6", "bob 10", "flood 11", "bob 15",
        "flood 16",
    ]  # fmt: skip


# --- C7: reliable channel events across a network break ---------------------------------


def cut(session) -> None:
    """Drop the connection like a network failure would (no close handshake)."""
    if session._ws is not None:
        session._ws.transport.abort()


async def test_member_gets_every_event_of_a_break_in_order_once(login):
    alice = await login("alice")
    bob = await login("bob")
    carol = await login("carol")
    a_ch, a_rec = await joined(alice, "room")
    b_ch = await bob.channel_join("room")
    c_ch, c_rec = await joined(carol, "room")
    reconnected: list[int] = []
    carol.on_reconnected = reconnected.append
    a_mark, c_mark = len(a_rec.events), len(c_rec.events)

    cut(carol)
    for i in range(30):
        await a_ch.message_channel_send(f"a{i}")
        await b_ch.message_channel_send(f"b{i}")
        if i % 10 == 0:
            await b_ch.channel_set_attr("round", str(i))
            cut(carol)  # again, while it may be reconnecting
    dave = await login("dave")
    d_ch = await dave.channel_join("room")
    await d_ch.channel_del_attr("round")
    await d_ch.channel_leave()
    await a_ch.message_channel_send("last")

    last = ("message_channel_receive", "alice", 0, "last")
    await until(lambda: last in a_rec.events)
    expected = a_rec.events[a_mark:]
    assert len(expected) == 67  # 60 messages, 3 + 2 attribute changes, dave in and out
    await until(lambda: len(c_rec.events) - c_mark >= len(expected))
    assert c_rec.events[c_mark:] == expected  # every event, in order, none twice
    assert reconnected and carol.resumed
    assert list(c_ch.members) == ["alice", "bob", "carol"]


async def test_drops_inside_the_window_lose_nothing(login):
    """The issue's checker: 50 members, 20 senders, 1,000 messages, random drops.

    Every member must see every message once, each sender's messages in the order sent,
    and all members the same global order (the server broadcasts each message to all at
    once). Counts of lost / duplicated / reordered messages must all be zero.
    """
    rng = random.Random(20261121)
    members = [await login(f"m{i:02d}") for i in range(50)]
    channels = [await m.channel_join("busy") for m in members]
    seen: dict[str, list[str]] = {m.account: [] for m in members}
    reconnects: list[int] = []
    for m, ch in zip(members, channels, strict=True):
        box = seen[m.account]
        ch.on_message_channel_receive = lambda account, uid, msg, box=box: box.append(msg)
        m.on_reconnected = reconnects.append
    senders = channels[:20]
    per_sender = 50

    async def send_all(index: int, channel) -> None:
        for n in range(per_sender):
            await channel.message_channel_send(f"{index}:{n}")

    async def chaos() -> None:
        for _ in range(40):
            await asyncio.sleep(rng.uniform(0.005, 0.05))
            cut(rng.choice(members))

    await asyncio.gather(*(send_all(i, ch) for i, ch in enumerate(senders)), chaos())
    total = len(senders) * per_sender
    await until(lambda: all(len(box) >= total for box in seen.values()), within=60)

    lost = dup = reordered = 0
    reference = seen[members[0].account]
    for box in seen.values():
        lost += total - len(set(box))
        dup += len(box) - len(set(box))
        for index in range(len(senders)):
            numbers = [int(m.split(":")[1]) for m in box if m.startswith(f"{index}:")]
            reordered += sum(1 for a, b in itertools.pairwise(numbers) if b != a + 1)
        reordered += int(box != reference)
    assert (lost, dup, reordered) == (0, 0, 0)
    assert reconnects  # the drops happened while messages flowed
    await until(lambda: all(m.is_online() for m in members))  # none was logged out


# --- C10: invoke ----------------------------------------------------------------------


async def test_invoke_every_function(login):
    alice = await login("alice")
    bob = await login("bob")
    ch = await bob.channel_join("room")
    rets: list[tuple] = []
    alice.on_invoke_ret = lambda *a: rets.append(a)
    p = INVOKE_PREFIX

    assert (await alice.invoke(p + "user_query_user_status", {"account": "bob"}))["status"] == 1
    assert (await alice.invoke(p + "user_query_user_status", {"account": "zed"}))["status"] == 0
    assert await alice.invoke(p + "user_set_attr", {"name": "nick", "value": "Al"}) == {}
    assert await alice.get_attr("nick") == "Al"  # the same attribute as set_attr's
    resp = await bob.invoke(p + "user_get_attr", {"account": "alice", "name": "nick"})
    assert resp["value"] == "Al"
    resp = await bob.invoke(p + "user_get_attr_all", {"account": "alice"})
    assert json.loads(resp["value"]) == {"nick": "Al"}
    assert await alice.invoke(p + "channel_query_num", {"name": "room"}) == {"num": 1}
    resp = await alice.invoke(p + "channel_query_user_isin", {"name": "room", "account": "bob"})
    assert resp == {"isin": 1}
    resp = await alice.invoke(p + "channel_query_user_isin", {"name": "room", "account": "al"})
    assert resp == {"isin": 0}
    resp = await alice.invoke(p + "channel_query_userlist", {"name": "room"})
    assert resp == {"num": 1, "list": [["bob", 0]]}
    resp = await alice.invoke(p + "channel_query_userlist_all", {"name": "room", "num": 10})
    assert resp == {"num": 1, "list": [["bob", 0]]}
    resp = await alice.invoke(p + "channel_query_userlist_all", {"name": "room"})
    assert resp == {"num": 1, "list": [["bob", 0]]}

    # Channel attributes from outside the channel reach its members.
    args = {"channel": "room", "name": "topic", "value": "news"}
    assert await alice.invoke(p + "channel_set_attr", args) == {}
    await until(lambda: ch.attrs.get("topic") == "news")
    await alice.invoke(p + "channel_del_attr", {"channel": "room", "name": "topic"})
    await until(lambda: "topic" not in ch.attrs)
    await alice.invoke(p + "channel_set_attr", args)
    await alice.invoke(p + "channel_clear_attr", {"channel": "room"})
    await until(lambda: ch.attrs == {} and len(rets) == 13)
    assert [r[1] for r in rets] == [0] * 13
    assert len({r[0] for r in rets}) == 13  # every call has its own call ID


@pytest.mark.parametrize(
    ("func", "args", "code"),
    [
        ("io.agora.signal.no_such_function", {}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("user_query_user_status", {"account": "bob"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.user_query_user_status", {}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.user_set_attr", {"name": "n", "value": "v" * 129}, 1005),
        ("io.agora.signal.user_get_attr", {"account": "bob"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.user_get_attr_all", {"account": "b b"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.channel_query_num", {"name": "a b"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.channel_query_user_isin", {"name": "room"}, 1004),
        ("io.agora.signal.channel_query_userlist", {"name": "r" * 129}, 1005),
        ("io.agora.signal.channel_query_userlist_all", {"name": "r", "num": -1}, 1004),
        ("io.agora.signal.channel_clear_attr", {}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ("io.agora.signal.channel_del_attr", {"channel": "room", "name": "_member_num"}, 1004),
        ("io.agora.signal.channel_set_attr", {"channel": "room", "name": "n"}, 1004),
        ("io.agora.signal.channel_set_attr", {"channel": "_agora_user_online", "name": "n",
                                               "value": "v"}, 1004),
    ],
)  # fmt: skip
async def test_invoke_invalid_calls(server, login, func, args, code):
    alice = await login("alice")
    rets: list[tuple] = []
    alice.on_invoke_ret = lambda *a: rets.append(a)
    with pytest.raises(SignalError) as info:
        await alice.invoke(func, args)
    assert info.value.code == code
    await until(lambda: rets)
    assert rets[0][1:] == (code, None)
    assert server.channels.channels == {}  # a refused call creates no channel


# --- C8: special channels ------------------------------------------------------------


async def test_special_channels_feed_server_side_subscribers(server, login):
    online: list = []
    activity: list = []
    server.channels.subscribe("testapp", "_agora_user_online", online.append)
    unsubscribe = server.channels.subscribe("testapp", "_agora_channel_event", activity.append)
    with pytest.raises(ValueError):
        server.channels.subscribe("testapp", "room", online.append)
    alice = await login("alice")
    channel = await alice.channel_join("room")
    await channel.channel_leave()
    await alice.channel_join("room")
    await alice.logout()
    assert online == [UserOnline("alice", 1), UserOnline("alice", 0, ErrorCode.LOGOUT_E_USER)]
    assert activity == [
        ChannelActivity("room", "alice", "join"),
        ChannelActivity("room", "alice", "leave", ErrorCode.LEAVECHANNEL_E_BYUSER),
        ChannelActivity("room", "alice", "join"),
        ChannelActivity("room", "alice", "leave", ErrorCode.LEAVECHANNEL_E_LOGOUT),
    ]
    unsubscribe()
    bob = await login("bob")
    await bob.channel_join("room")
    assert len(activity) == 4 and len(online) == 3


async def test_channel_rejoined_after_server_restart(tmp_path):
    """A reconnect that cannot resume (the server restarted) joins the channel again."""
    config = fast_config(tmp_path / "data")
    first = SignalServer(config)
    await first.start()
    alice = await fast_signal(first.url).login("alice", NO_TOKEN)
    channel, rec = await joined(alice, "room")
    await channel.channel_set_attr("topic", "lost with the server")
    await until(lambda: channel.attrs)
    config.port = first.port
    await first.close()
    second = SignalServer(config)
    await second.start()
    try:
        await until(lambda: second.channels.member_count(APP, "room") == 1)
        await until(lambda: len(rec.of("channel_joined")) == 2)
        assert not alice.resumed and channel.joined
        assert channel.attrs == {}  # channel state lived in the old process
        assert rec.of("channel_attr_updated")[-1] == ("", "", "clear")
        bob = await fast_signal(second.url).login("bob", NO_TOKEN)
        b_ch = await bob.channel_join("room")
        await b_ch.message_channel_send("welcome back")
        await until(lambda: rec.of("message_channel_receive"))
        await bob.logout()
    finally:
        await alice.logout()
        await second.close()


def test_a_channel_event_is_encoded_once_for_all_members():
    """Fan-out writes the same bytes to every member instead of encoding per member."""
    event = ChannelMessage("room", "alice", "hello")
    body = encode_event_body(event)
    assert encode_event_body(event) is body
    assert decode_event(body) == event
    other = ChannelMessage("room", "alice", "hello")
    assert encode_event_body(other) is not body and encode_event_body(other) == body


def test_channel_settings_from_the_config_file(tmp_path):
    path = tmp_path / "server.toml"
    path.write_text("[channels]\nlarge_threshold = 50\ndefault_ttl = 60\n")
    config = ServerConfig.from_toml(path)
    assert config.channels.large_threshold == 50 and config.channels.default_ttl == 60.0
    assert config.channels.user_list_max == 200
    path.write_text("[channels]\nlarge = 50\n")
    with pytest.raises(ValueError, match=r"unknown \[channels\] setting"):
        ServerConfig.from_toml(path)


async def test_malformed_channel_frames_get_1004(login):
    """Wrong types on the wire are refused by the decoder; the connection lives on."""
    alice = await login("alice")
    for frame in (
        ChannelJoin(channel=5),
        Invoke(func="io.agora.signal.channel_query_num", args=[1]),
        ChannelSend(channel="room", msg=None),
    ):
        with pytest.raises(SignalError) as info:
            await alice._request(frame)
        assert info.value.code == ErrorCode.GENERAL_E_WRONG_PARAM
    channel = await alice.channel_join("room")
    assert channel.joined


@pytest.mark.parametrize(
    ("logout", "leave"),
    [
        (ErrorCode.LOGOUT_E_USER, ErrorCode.LEAVECHANNEL_E_LOGOUT),
        (ErrorCode.LOGOUT_E_NET, ErrorCode.LEAVECHANNEL_E_DISCONN),
        (ErrorCode.LOGOUT_E_KICKED, ErrorCode.LEAVECHANNEL_E_KICKED),
        (ErrorCode.LOGOUT_E_TOKENEXPIRED, ErrorCode.LEAVECHANNEL_E_LOGOUT),
        (ErrorCode.LOGOUT_E_OTHER, ErrorCode.LEAVECHANNEL_E_OTHER),
    ],
)
def test_leave_code_of_each_logout(logout, leave):
    """One mapping, shared by server (special channel feed) and SDK (on_channel_leaved)."""
    assert leave_code(logout) == leave
