"""Point-to-point messages (A5, A8) and user attributes (A6, A7) against a real server."""

from __future__ import annotations

import asyncio
import json

import pytest

from sigphone.sdk import ErrorCode, SignalError

from ..support.waiting import until


async def test_online_message_and_callbacks(login):
    alice = await login("alice")
    bob = await login("bob")
    received, sent = [], []
    bob.on_message_instant_receive = lambda account, uid, msg: received.append((account, uid, msg))
    alice.on_message_send_success = sent.append
    msg_id = await alice.message_instant_send("bob", "hello bob", msg_id="m-1")
    assert msg_id == "m-1"
    await until(lambda: received and sent)
    assert received == [("alice", 0, "hello bob")]
    assert sent == ["m-1"]


async def test_offline_message_kept_until_login(login):
    alice = await login("alice")
    for i in range(5):
        await alice.message_instant_send("carol", f"m{i}")
    carol = await login("carol")
    got: list[str] = []
    carol.on_message_instant_receive = lambda a, u, m: got.append(m)
    await until(lambda: len(got) == 5)
    assert got == [f"m{i}" for i in range(5)]


async def test_async_callbacks_are_awaited_in_order(login):
    alice = await login("alice")
    bob = await login("bob")
    got: list[str] = []

    async def on_receive(account, uid, msg):
        await asyncio.sleep(0.001 * (5 - int(msg)))
        got.append(msg)

    bob.on_message_instant_receive = on_receive
    for i in range(5):
        await alice.message_instant_send("bob", str(i))
    await until(lambda: len(got) == 5)
    assert got == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("peer", "msg", "code"),
    [
        ("bob smith", "x", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("", "x", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("b" * 129, "x", ErrorCode.GENERAL_E_LARGE_PARAM),
        ("bob", "x" * (8 * 1024 + 1), ErrorCode.GENERAL_E_LARGE_PARAM),
    ],
)
async def test_bad_sends_fail_with_code(login, peer, msg, code):
    alice = await login("alice")
    errors = []
    alice.on_message_send_error = lambda mid, ecode: errors.append((mid, ecode))
    with pytest.raises(SignalError) as info:
        await alice.message_instant_send(peer, msg, msg_id="bad")
    assert info.value.code == code
    await until(lambda: errors)
    assert errors == [("bad", code)]


async def test_largest_message_passes(login):
    alice = await login("alice")
    bob = await login("bob")
    got = []
    bob.on_message_instant_receive = lambda a, u, m: got.append(m)
    text = "ü" * (8 * 1024)
    await alice.message_instant_send("bob", text)
    await until(lambda: got)
    assert got == [text]


async def test_user_attributes(login):
    alice = await login("alice")
    bob = await login("bob")
    results, all_results = [], []
    bob.on_user_attr_result = lambda *a: results.append(a)
    bob.on_user_attr_all_result = lambda *a: all_results.append(a)
    await alice.set_attr("nick", "Alice")
    await alice.set_attr("avatar", "https://example.invalid/a.png")
    assert await alice.get_attr("nick") == "Alice"
    assert await alice.get_attr_all() == {
        "avatar": "https://example.invalid/a.png",
        "nick": "Alice",
    }
    assert await bob.get_user_attr("alice", "nick") == "Alice"
    assert await bob.get_user_attr("alice", "missing") is None
    assert await bob.get_user_attr_all("alice") == await alice.get_attr_all()
    await until(lambda: results and all_results)
    assert results[0] == ("alice", "nick", "Alice")
    assert all_results[0][0] == "alice"
    assert json.loads(all_results[0][1])["nick"] == "Alice"
    await alice.set_attr("nick", "")  # an empty value deletes
    assert await alice.get_attr("nick") is None


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("n" * 257, "v", ErrorCode.GENERAL_E_LARGE_PARAM),
        ("ok", "v" * 129, ErrorCode.GENERAL_E_LARGE_PARAM),
        ("has space", "v", ErrorCode.GENERAL_E_WRONG_PARAM),
    ],
)
async def test_attribute_limits(login, name, value, code):
    alice = await login("alice")
    with pytest.raises(SignalError) as info:
        await alice.set_attr(name, value)
    assert info.value.code == code


async def test_attribute_limits_at_the_edge(login):
    alice = await login("alice")
    await alice.set_attr("n" * 256, "v" * 128)
    assert await alice.get_attr("n" * 256) == "v" * 128


async def test_query_user_status(login):
    alice = await login("alice")
    assert await alice.query_user_status("bob") == 0
    bob = await login("bob")
    assert await alice.query_user_status("bob") == 1
    await bob.logout()
    assert await alice.query_user_status("bob") == 0
