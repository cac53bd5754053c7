"""No event is lost for want of a callback (docs/sdk.md, "Callbacks assigned late").

An event whose callback is not assigned yet waits (bounded) and is handed over, in order,
once it is assigned; it is acknowledged only then. Real server on loopback, real SDK.
Also the login edge cases of the seed: a login right after a logout that was not awaited,
and a cancelled login (203).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sigphone.sdk import Call, ErrorCode, SignalError, Status

from ..support.config import NO_TOKEN, fast_signal
from ..support.waiting import until


async def settle(session: Any) -> None:
    """Wait until everything the server pushed has been dispatched (the SDK's queue is empty)."""
    await until(lambda: not session._queue)
    await asyncio.sleep(0.1)  # and whatever was still on the wire


async def test_offline_messages_wait_for_a_late_callback(server, login):
    alice = await login("alice")
    for i in range(5):
        await alice.message_instant_send("bob", f"offline {i}")
    # login inside wait_for: the inbox arrives before the application can set anything.
    bob = await asyncio.wait_for(fast_signal(server.url).login("bob", NO_TOKEN), 10)
    await settle(bob)
    got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: len(got) == 5)
    assert got == [f"offline {i}" for i in range(5)]
    await alice.message_instant_send("bob", "live")
    await until(lambda: len(got) == 6)
    assert got[-1] == "live"
    await bob.logout()

    # Handed over, so acknowledged: a new login gets none of them again.
    bob2 = await fast_signal(server.url).login("bob", NO_TOKEN)
    again: list[str] = []
    bob2.on_message_instant_receive = lambda account, uid, msg: again.append(msg)
    await alice.message_instant_send("bob", "marker")
    await until(lambda: again)
    assert again == ["marker"]
    await bob2.logout()


async def test_unhandled_messages_stay_in_the_inbox_until_handed_over(server, login):
    """Not acknowledged while waiting: a session that ends first leaves them to the next."""
    alice = await login("alice")
    bob = await fast_signal(server.url).login("bob", NO_TOKEN)
    await alice.message_instant_send("bob", "kept")
    await settle(bob)
    await bob.logout()  # never assigned on_message_instant_receive
    bob2 = await fast_signal(server.url).login("bob", NO_TOKEN)
    got: list[str] = []
    bob2.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: got)
    assert got == ["kept"]
    await bob2.logout()


async def test_channel_events_wait_for_late_callbacks(login):
    alice = await login("alice")
    bob = await login("bob")
    room = await bob.channel_join("room")  # no callbacks at all
    alice_room = await alice.channel_join("room")
    for i in range(3):
        await alice_room.message_channel_send(f"m{i}")
    await alice_room.channel_set_attr("topic", "cats")
    await settle(bob)
    joined: list[str] = []
    messages: list[str] = []
    attrs: list[tuple[str, str, str]] = []
    bob.on_channel_user_joined = lambda account, uid: joined.append(account)  # the fallback
    room.on_message_channel_receive = lambda account, uid, msg: messages.append(msg)
    room.on_channel_attr_updated = lambda name, value, kind: attrs.append((name, value, kind))
    await until(lambda: len(messages) == 3 and attrs and joined)
    assert joined == ["alice"]
    assert messages == ["m0", "m1", "m2"]
    assert attrs == [("topic", "cats", "update")]


async def test_an_incoming_call_waits_for_on_invite_received(login):
    alice = await login("alice")
    bob = await login("bob")
    call = await alice.channel_invite_user2("room", "bob", "")
    await settle(bob)
    await call.channel_invite_end()  # ends while bob has not looked yet
    received: list[Call] = []
    ended: list[str] = []

    def on_received(incoming: Call) -> None:
        received.append(incoming)
        incoming.on_invite_end_by_peer = ended.append

    bob.on_invite_received = on_received
    await until(lambda: received and ended)
    assert received[0].peer == "alice"
    assert len(ended) == 1


async def test_waiting_is_bounded_in_time(server, login):
    alice = await login("alice")
    sig = fast_signal(server.url)
    sig.callback_wait = 0.2
    bob = await sig.login("bob", NO_TOKEN)
    await alice.message_instant_send("bob", "too early")
    await asyncio.sleep(0.5)  # longer than callback_wait: dropped (and acknowledged)
    got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await alice.message_instant_send("bob", "later")
    await until(lambda: got)
    await settle(bob)
    assert got == ["later"]
    await bob.logout()


async def test_waiting_is_bounded_in_number(server, login):
    alice = await login("alice")
    sig = fast_signal(server.url)
    sig.callback_backlog = 3
    bob = await sig.login("bob", NO_TOKEN)
    for i in range(5):
        await alice.message_instant_send("bob", str(i))
    await settle(bob)
    got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: len(got) == 3)
    await settle(bob)
    assert got == ["2", "3", "4"]  # the oldest went first
    await bob.logout()


async def test_login_right_after_a_logout_that_was_not_awaited(server):
    sig = fast_signal(server.url)
    first = await sig.login("alice", NO_TOKEN)
    codes: list[int] = []
    first.on_logout = codes.append
    logging_out = asyncio.ensure_future(first.logout())  # started, not awaited
    second = await sig.login("alice", NO_TOKEN)
    assert second.get_status() == Status.LOGGED_IN
    await logging_out
    assert codes == [ErrorCode.LOGOUT_E_USER]
    assert second.get_status() == Status.LOGGED_IN
    await second.logout()


async def test_cancelling_a_login_in_flight_fires_203():
    """A server that accepts the connection and never answers keeps the login in flight."""
    stuck: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stuck.append(writer)

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        sig = fast_signal(f"ws://127.0.0.1:{port}")
        codes: list[int] = []
        sig.on_login_failed = codes.append
        task = asyncio.ensure_future(sig.login("alice", NO_TOKEN))
        await until(lambda: stuck)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert codes == [ErrorCode.LOGIN_E_CANCEL]
        assert sig.get_status() == Status.LOGGED_OUT
    finally:
        for writer in stuck:
            writer.transport.abort()
        listener.close()
        await listener.wait_closed()


async def test_second_login_while_logged_in_is_still_208(server):
    sig = fast_signal(server.url)
    session = await sig.login("alice", NO_TOKEN)
    try:
        await sig.login("alice", NO_TOKEN)
    except SignalError as exc:
        assert exc.code == ErrorCode.LOGIN_E_ALREADY_LOGIN
    else:
        raise AssertionError("a second login must raise 208")
    await session.logout()
