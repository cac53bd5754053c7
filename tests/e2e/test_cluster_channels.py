"""Channels across the nodes of a cluster (C1-C10, C7, C8 on Redis): real Redis, real nodes."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from sigphone.protocol.channels import INVOKE_PREFIX
from sigphone.protocol.token import make_token

from ..server.test_server_api import Api, EventStream
from ..support.cluster import Cluster
from ..support.config import APP, CERT, CERT_APP, NO_TOKEN, fast_signal
from ..support.netfault import FaultyLink
from ..support.waiting import until, until_true
from .test_channels import Recorder


@pytest.fixture
async def cluster(tmp_path: Path):
    c = Cluster(tmp_path, [APP], nodes=3, durable=True)
    await c.start()
    yield c
    await c.stop()


async def login(url, account: str, **kw: object):
    return await fast_signal(url).login(account, NO_TOKEN, **kw)  # type: ignore[arg-type]


async def joined(session, name: str):
    rec = Recorder()
    rec.attach(session)
    channel = await session.channel_join(name)
    return channel, rec


async def test_a_channel_spanning_three_nodes(cluster: Cluster):
    """Members on three nodes see each other, the same counts and attributes, and every
    message in one order."""
    sessions = [await login(cluster.url(i), f"m{i}") for i in range(3)]
    channels, recs = [], []
    for session in sessions:
        ch, rec = await joined(session, "hall")
        channels.append(ch)
        recs.append(rec)
    assert list(channels[2].members) == ["m0", "m1", "m2"]
    await until(lambda: recs[0].of("channel_user_joined") == [("m1", 0), ("m2", 0)])
    assert await sessions[0].channel_query_user_num("hall") == 3
    resp = await sessions[1].invoke(INVOKE_PREFIX + "channel_query_userlist", {"name": "hall"})
    assert resp == {"num": 3, "list": [["m0", 0], ["m1", 0], ["m2", 0]]}
    isin = await sessions[2].invoke(
        INVOKE_PREFIX + "channel_query_user_isin", {"name": "hall", "account": "m0"}
    )
    assert isin == {"isin": 1}

    await channels[1].channel_set_attr("topic", "cluster")
    await until(lambda: all(ch.attrs.get("topic") == "cluster" for ch in channels))

    async def talk(i: int) -> None:
        for n in range(30):
            await channels[i].message_channel_send(f"m{i}:{n}")

    await asyncio.gather(*(talk(i) for i in range(3)))
    await until(lambda: all(len(rec.of("message_channel_receive")) == 90 for rec in recs))
    orders = [[e[2] for e in rec.of("message_channel_receive")] for rec in recs]
    assert orders[0] == orders[1] == orders[2]  # one order per channel, on every node
    for i in range(3):  # and each sender's own order inside it
        mine = [m for m in orders[0] if m.startswith(f"m{i}:")]
        assert mine == [f"m{i}:{n}" for n in range(30)]

    await channels[2].channel_leave()
    await until(lambda: recs[0].of("channel_user_leaved") == [("m2", 0)])
    assert await sessions[0].channel_query_user_num("hall") == 2
    for session in sessions:
        await session.logout()


async def test_auto_counters_and_ttl_are_cluster_wide(cluster: Cluster):
    a = await login(cluster.url(0), "ca")
    b = await login(cluster.url(1), "cb")
    ch_a, _ = await joined(a, "counted")
    await ch_a.channel_set_attr("_auto_update_num", "1")
    await ch_a.channel_set_attr("_auto_update_total_num", "1")
    ch_b, _ = await joined(b, "counted")
    await until(lambda: ch_a.attrs.get("_member_num") == "2", within=15)
    await until(lambda: ch_b.attrs.get("_total_member_num") == "2", within=15)
    await ch_a.channel_set_attr("_channel_ttl", "1")
    await until(lambda: ch_b.attrs.get("_channel_ttl") == "1")
    await ch_b.channel_set_attr("kept", "until the ttl")
    await ch_a.channel_leave()
    await ch_b.channel_leave()

    async def empty() -> bool:
        return await b.channel_query_user_num("counted") == 0

    await until_true(empty)
    # The attributes outlive the last member by _channel_ttl (1 s), then the channel is gone.
    rejoin, _ = await joined(b, "counted")
    if "kept" in rejoin.attrs:  # rejoined within the second: wait and try once more
        await rejoin.channel_leave()
        await asyncio.sleep(2.5)
        rejoin, _ = await joined(b, "counted")
    assert "kept" not in rejoin.attrs
    await a.logout()
    await b.logout()


async def test_member_on_a_killed_node_resumes_every_channel_event_once(cluster: Cluster):
    """C7 across a kill -9: the member's SDK rejoins on another node with the offset of the
    last event it finished with and gets exactly the events after it, in order."""
    balancer = FaultyLink(cluster.nodes[0].port)
    await balancer.start()
    try:
        mover = await login(
            [balancer.url, cluster.url(2)], "mover", reconnect_time=60, reconnect_count=1000
        )
        talker = await login(cluster.url(1), "talker")
        ch_m, rec_m = await joined(mover, "c7")
        ch_t, _ = await joined(talker, "c7")
        for n in range(20):
            await ch_t.message_channel_send(f"t:{n}")
        await until(lambda: len(rec_m.of("message_channel_receive")) == 20)
        await cluster.nodes[0].kill()  # the mover's node dies with its session
        sends = [ch_t.message_channel_send(f"t:{n}") for n in range(20, 60)]
        await asyncio.gather(*sends)
        await until(lambda: len(rec_m.of("message_channel_receive")) >= 60, within=30)
        await asyncio.sleep(0.3)
        got = [e[2] for e in rec_m.of("message_channel_receive")]
        assert got == [f"t:{n}" for n in range(60)]
        assert rec_m.of("channel_joined") == [()]  # recovered: no second snapshot, no gap
        assert ch_m.joined and await talker.channel_query_user_num("c7") == 2
        assert json.dumps(ch_m.attrs) == "{}"
        await mover.logout()
        await talker.logout()
    finally:
        await balancer.close()


async def test_server_api_stream_and_special_feeds_carry_every_node(tmp_path: Path):
    """The event stream of node 1 and a special-channel feed see logins, attributes, joins
    and leaves made on the other nodes (C8, S1)."""
    c = Cluster(tmp_path, [APP, f"{CERT_APP}:{CERT}"], nodes=2)
    await c.start()
    async with aiohttp.ClientSession() as http:
        api = Api(http, f"http://127.0.0.1:{c.nodes[0].api_port}", CERT_APP, CERT)
        events = EventStream(api)
        try:
            probe = await fast_signal(c.url(1), CERT_APP).login("probe", make_token_for("probe"))

            async def stream_open() -> bool:  # the stream is registered: an event shows up
                await probe.set_attr("n", str(time.monotonic()))
                return bool(events.of("attr"))

            await until_true(stream_open)
            await probe.logout()
            await until(lambda: events.of("offline"))
            events.events.clear()
            user = await fast_signal(c.url(1), CERT_APP).login("far", make_token_for("far"))
            await user.set_attr("mood", "remote")
            channel = await user.channel_join("lobby")
            await channel.channel_leave()
            await user.logout()
            await until(lambda: events.of("offline"), within=15)
            assert events.of("online") == [{"type": "online", "account": "far"}]
            assert events.of("attr") == [
                {"type": "attr", "account": "far", "name": "mood", "value": "remote"}
            ]
            assert [(e["channel"], e["action"]) for e in events.of("channel")] == [
                ("lobby", "join"),
                ("lobby", "leave"),
            ]
            assert events.of("offline") == [{"type": "offline", "account": "far", "reason": 101}]
            # Node 2 answers for the channel and user state node 1 holds, and the reverse.
            status, body = await api("GET", "/api/v1/users/far/status")
            assert (status, body["status"]) == (200, 0)
        finally:
            await events.close()
            await c.stop()


def make_token_for(account: str) -> str:
    return make_token(account, CERT_APP, CERT, int(time.time()) + 3600)


async def test_a_dead_nodes_users_are_taken_over(cluster: Cluster):
    """A node killed for good: after node_ttl + reap_grace another node releases its users'
    presence and makes the channel members it held leave (604) with their events."""
    gone = await login(cluster.url(0), "gone", reconnect_time=5, reconnect_count=3)
    stay = await login(cluster.url(1), "stay")
    await joined(gone, "orphan")
    ch, rec = await joined(stay, "orphan")
    assert await stay.channel_query_user_num("orphan") == 2
    await cluster.nodes[0].kill()
    await until(lambda: rec.of("channel_user_leaved") == [("gone", 0)], within=40)
    assert await stay.channel_query_user_num("orphan") == 1
    assert await stay.query_user_status("gone") == 0
    assert list(ch.members) == ["stay"]
    await stay.logout()
