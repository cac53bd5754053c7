"""A5: per-type TTLs. A point-to-point message (``inbox_ttl``) or a channel message
(``channel_msg_ttl``) that waited longer than its TTL is dropped, not delivered; channel
state events are kept. Real server, real SDK, a real TCP proxy for the break."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sigphone.sdk import Status
from sigphone.server import SignalServer

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.netfault import FaultyLink
from ..support.waiting import until

TTL = 0.5


@pytest.fixture
async def short_ttl(tmp_path: Path) -> AsyncIterator[SignalServer]:
    config = fast_config(tmp_path / "data")
    config.hub.inbox_ttl = TTL
    config.hub.channel_msg_ttl = TTL
    async with SignalServer(config) as srv:
        yield srv


async def test_an_expired_offline_message_is_dropped(short_ttl):
    alice = await fast_signal(short_ttl.url).login("alice", NO_TOKEN)
    await alice.message_instant_send("bob", "too old")
    await asyncio.sleep(TTL * 2)
    await alice.message_instant_send("bob", "fresh")
    bob = await fast_signal(short_ttl.url).login("bob", NO_TOKEN)
    got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: got)
    await asyncio.sleep(0.1)
    assert got == ["fresh"]
    await bob.logout()
    await alice.logout()


async def test_events_that_expire_during_a_break_are_dropped_at_the_resume(short_ttl):
    link = FaultyLink(short_ttl.port)
    await link.start()
    try:
        bob = await fast_signal(link.url).login("bob", NO_TOKEN, reconnect_time=30)
        got: list[str] = []
        members: list[str] = []
        bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
        room = await bob.channel_join("room")
        room.on_message_channel_receive = lambda account, uid, msg: got.append("ch " + msg)
        room.on_channel_user_joined = lambda account, uid: members.append(account)
        alice = await fast_signal(short_ttl.url).login("alice", NO_TOKEN)

        link.refuse = True
        link.cut()
        await until(lambda: bob.get_status() == Status.CONNECTING)
        alice_room = await alice.channel_join("room")  # a state event: never expires
        await alice.message_instant_send("bob", "old p2p")
        await alice_room.message_channel_send("old channel")
        await asyncio.sleep(TTL * 2)
        await alice.message_instant_send("bob", "new p2p")
        await alice_room.message_channel_send("new channel")
        link.refuse = False
        await until(lambda: len(got) == 2)
        assert bob.resumed
        assert got == ["new p2p", "ch new channel"]
        assert members == ["alice"]
        # The acknowledgements went past the gap: a live message still flows and is acked.
        await alice.message_instant_send("bob", "live")
        await until(lambda: len(got) == 3)
        await until(lambda: not short_ttl.hub.sessions[(APP, "bob")].outbox)
        await bob.logout()
        await alice.logout()
    finally:
        await link.close()
