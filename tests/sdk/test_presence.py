"""Live presence from the SDK (A7, an addition to the seed): user_status_subscribe and the
on_user_status_changed / on_user_attr_changed callbacks, against a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sigphone.protocol.presence import MAX_PRESENCE_SUBSCRIPTIONS, PresenceSubscribe
from sigphone.sdk import ErrorCode, Session, SignalError
from sigphone.server import SignalServer

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.netfault import FaultyLink
from ..support.waiting import until


def watch(session: Session) -> list[tuple]:
    seen: list[tuple] = []
    session.on_user_status_changed = lambda account, status: seen.append((account, status))
    session.on_user_attr_changed = lambda account, name, value: seen.append((account, name, value))
    return seen


async def test_status_and_attribute_changes_reach_the_watcher(server, login):
    alice = await login("alice")
    seen = watch(alice)
    assert await alice.user_status_subscribe(["bob"]) == {"bob": 0}
    bob = await fast_signal(server.url).login("bob", NO_TOKEN)
    await until(lambda: seen)
    await bob.set_attr("mood", "happy")
    await bob.set_attr("mood", "")
    await bob.logout()
    await until(lambda: len(seen) == 4)
    assert seen == [("bob", 1), ("bob", "mood", "happy"), ("bob", "mood", ""), ("bob", 0)]
    assert await alice.user_status_subscribe(["bob"]) == {"bob": 0}


async def test_unsubscribed_accounts_are_quiet(server, login):
    alice = await login("alice")
    seen = watch(alice)
    await alice.user_status_subscribe(["bob", "carol"])
    await alice.user_status_unsubscribe(["bob"])
    bob = await login("bob")
    await bob.set_attr("x", "1")
    await login("carol")  # the marker: once carol's login is seen, bob's would have been
    await until(lambda: seen)
    assert seen == [("carol", 1)]


async def test_subscriptions_survive_a_resume(server, login):
    link = FaultyLink(server.port)
    await link.start()
    try:
        alice = await fast_signal(link.url).login("alice", NO_TOKEN)
        seen = watch(alice)
        await alice.user_status_subscribe(["bob"])
        reconnected: list[int] = []
        alice.on_reconnected = reconnected.append
        link.cut()
        await until(lambda: reconnected)
        assert alice.resumed
        await login("bob")
        await until(lambda: seen)
        assert seen == [("bob", 1)]
        await alice.logout()
    finally:
        await link.close()


@pytest.fixture
async def second(tmp_path: Path) -> AsyncIterator[SignalServer]:
    async with SignalServer(fast_config(tmp_path / "data2")) as srv:
        yield srv


async def test_a_fresh_session_subscribes_again(server, second):
    """Rotated to another server (a fresh session there): the SDK subscribes again."""
    link = FaultyLink(server.port)
    await link.start()
    try:
        sig = fast_signal(link.url)
        sig.server = [link.url, second.url]
        alice = await sig.login("alice", NO_TOKEN)
        seen = watch(alice)
        await alice.user_status_subscribe(["bob"])
        reconnected: list[int] = []
        alice.on_reconnected = reconnected.append
        link.refuse = True
        link.cut()
        await until(lambda: reconnected)
        assert not alice.resumed and sig.server == second.url
        await until(lambda: second.presence.watchers.get((APP, "bob")))
        bob = await fast_signal(second.url).login("bob", NO_TOKEN)
        await until(lambda: seen)
        assert seen == [("bob", 1)]
        await bob.logout()
        await alice.logout()
    finally:
        await link.close()


async def test_subscriptions_are_bounded_per_session(server, login):
    alice = await login("alice")
    many = [f"user{i}" for i in range(MAX_PRESENCE_SUBSCRIPTIONS)]
    await alice.user_status_subscribe(many)
    with pytest.raises(SignalError) as err:
        await alice.user_status_subscribe(["one_more"])
    assert err.value.code == ErrorCode.GENERAL_E_LARGE_PARAM
    # The server enforces the same bound on its own (a client that skips the SDK's check).
    with pytest.raises(SignalError) as err:
        await alice._request(PresenceSubscribe(accounts=["one_more"]))
    assert err.value.code == ErrorCode.GENERAL_E_LARGE_PARAM
    await alice.user_status_unsubscribe(many[:1])
    assert await alice.user_status_subscribe(["one_more"]) == {"one_more": 0}


async def test_bad_subscriptions_are_refused(login):
    alice = await login("alice")
    with pytest.raises(SignalError) as err:
        await alice.user_status_subscribe("bob")  # type: ignore[arg-type]
    assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM
    with pytest.raises(SignalError) as err:
        await alice.user_status_subscribe(["has space"])
    assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM


async def test_subscriptions_end_with_the_session(server, login):
    alice = await login("alice")
    await alice.user_status_subscribe(["bob"])
    assert server.presence.watchers
    await alice.logout()
    await until(lambda: not server.presence.watchers and not server.presence.watching)
