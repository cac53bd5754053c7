"""The channel system (C1-C10) against a real server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from sigphone.sdk import ErrorCode, SignalError
from sigphone.server.channels import ChannelsConfig


async def until(predicate, limit: float = 10.0) -> None:
    """Wait for a condition driven by real network events (no fixed sleeps)."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110 - polling state the SDK updates
            await asyncio.sleep(0.005)


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
