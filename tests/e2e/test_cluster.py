"""Several nodes on one Redis are one system (D3): users on different nodes cannot tell.

Real processes: a redis-server on a free loopback port and ``sigphone-server --redis`` nodes,
reached by real SDK clients. See docs/deployment.md, "Cluster".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import aiohttp
import pytest

from sigphone.protocol.errors import ErrorCode, SignalError

from ..support.cluster import Cluster
from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.legacy_client import LegacyClient
from ..support.netfault import FaultyLink
from ..support.procserver import ServerProcess
from ..support.redisproc import RedisProcess
from ..support.waiting import until, until_true


@pytest.fixture
async def cluster(tmp_path: Path):
    c = Cluster(tmp_path, [APP], nodes=2)
    await c.start()
    yield c
    await c.stop()


async def login(url: str, account: str, **kw: object):
    return await fast_signal(url).login(account, NO_TOKEN, **kw)  # type: ignore[arg-type]


async def probe_status(session, account: str, expected: int) -> bool:
    return await session.query_user_status(account) == expected


async def probe_health(cluster: Cluster, node: int, expected: int) -> bool:
    return (await cluster.health(node))[0] == expected


def inbox(session) -> list[tuple[str, str]]:
    got: list[tuple[str, str]] = []
    session.on_message_instant_receive = lambda account, uid, msg: got.append((account, msg))
    return got


async def test_messages_cross_nodes_both_ways_and_wait_in_redis(cluster: Cluster):
    alice = await login(cluster.url(0), "alice")
    bob = await login(cluster.url(1), "bob")
    to_alice, to_bob = inbox(alice), inbox(bob)
    for i in range(20):
        await alice.message_instant_send("bob", f"a{i}")
        await bob.message_instant_send("alice", f"b{i}")
    await until(lambda: len(to_bob) == 20 and len(to_alice) == 20)
    assert to_bob == [("alice", f"a{i}") for i in range(20)]
    assert to_alice == [("bob", f"b{i}") for i in range(20)]
    # Offline: the message waits in Redis and comes out on whichever node carol logs in.
    await alice.message_instant_send("carol", "while you were away")
    carol = await login(cluster.url(1), "carol")
    got = inbox(carol)
    await until(lambda: got)
    assert got == [("alice", "while you were away")]
    for s in (alice, bob, carol):
        await s.logout()


async def test_login_on_node_b_kicks_node_a_with_103(cluster: Cluster):
    first = await login(cluster.url(0), "dora")
    codes: list[int] = []
    first.on_logout = codes.append
    second = await login(cluster.url(1), "dora")
    await until(lambda: codes)
    assert codes == [ErrorCode.LOGOUT_E_KICKED]
    # The one device is now on node B: a message from node A reaches it there.
    eve = await login(cluster.url(0), "eve")
    got = inbox(second)
    await eve.message_instant_send("dora", "hi on B")
    await until(lambda: got)
    assert got == [("eve", "hi on B")]
    await second.logout()
    await eve.logout()


async def test_status_and_user_attributes_are_shared(cluster: Cluster):
    fred = await login(cluster.url(0), "fred")
    gina = await login(cluster.url(1), "gina")
    assert await fred.query_user_status("gina") == 1
    assert await gina.query_user_status("fred") == 1
    assert await gina.query_user_status("nobody") == 0
    await fred.set_attr("color", "blue")
    assert await gina.get_user_attr("fred", "color") == "blue"
    assert await gina.get_user_attr_all("fred") == {"color": "blue"}
    await gina.logout()
    await until_true(lambda: probe_status(fred, "gina", 0))
    await fred.logout()


async def test_healthz_reports_node_id_and_redis(cluster: Cluster):
    status, body = await cluster.health(1)
    assert status == 200
    assert body["node"] == "n2" and body["redis"] == "ok"


async def test_redis_down_fails_requests_with_1001_then_nodes_reconnect(cluster: Cluster):
    """While Redis is down a request fails with a clear code in bounded time, never a false
    success; once Redis is back the nodes serve again by themselves."""
    hank = await login(cluster.url(0), "hank", reconnect_time=60, reconnect_count=1000)
    await cluster.redis.kill()
    started = time.monotonic()
    with pytest.raises(SignalError) as err:
        await hank.message_instant_send("ivy", "into the void")
    assert err.value.code == ErrorCode.GENERAL_E_FAILED
    assert "Redis" in err.value.reason
    assert time.monotonic() - started < 30  # bounded by op_timeout, never a hang
    status, body = await cluster.health(0)
    assert (status, body["redis"]) == (503, "unreachable")
    await cluster.redis.start()  # a fresh, empty Redis on the same port
    await until(lambda: hank.is_online(), within=30)

    await until_true(lambda: probe_health(cluster, 0, 200), within=30)
    ivy = await login(cluster.url(1), "ivy")
    got = inbox(ivy)
    await hank.message_instant_send("ivy", "back")
    await until(lambda: got)
    assert got == [("hank", "back")]
    await hank.logout()
    await ivy.logout()


async def test_kill_9_of_a_node_users_resume_on_another_without_loss(cluster: Cluster):
    """A TCP load balancer in front of the nodes: after node 1 is killed (SIGKILL) its users
    reconnect to node 2, and every acknowledged message arrives exactly once, in order."""
    balancer = FaultyLink(cluster.nodes[0].port)
    await balancer.start()
    try:
        judy = await login(balancer.url, "judy", reconnect_time=60, reconnect_count=1000)
        kim = await login(cluster.url(1), "kim")
        got = inbox(judy)
        for i in range(30):
            await kim.message_instant_send("judy", f"m{i}")
        await until(lambda: len(got) == 30)
        balancer.target_port = cluster.nodes[1].port  # the balancer's health check moves on
        await cluster.nodes[0].kill()
        sends = [kim.message_instant_send("judy", f"m{i}") for i in range(30, 60)]
        await asyncio.gather(*sends)
        await until(lambda: len(got) == 60, within=30)
        await asyncio.sleep(0.3)  # room for a duplicate to show itself
        assert got == [("kim", f"m{i}") for i in range(60)]
        assert judy.is_online()
        assert await kim.query_user_status("judy") == 1
        await judy.logout()
        await kim.logout()
    finally:
        await balancer.close()


async def test_node_from_a_config_file_gets_an_automatic_node_id(tmp_path: Path):
    redis = RedisProcess(tmp_path / "redis")
    await redis.start()
    config = tmp_path / "node.toml"
    config.write_text(f'[[apps]]\nid = "{APP}"\n\n[cluster]\nredis = "{redis.url}"\n')
    node = ServerProcess(tmp_path / "data", [], extra=["--config", str(config)])
    try:
        await node.start()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{node.port}/healthz") as resp,
        ):
            body = json.loads(await resp.text())
        assert resp.status == 200 and body["redis"] == "ok"
        assert body["node"] and body["node"] != "embedded"
        session = await login(node.url, "solo")
        await session.set_attr("k", "v")
        await session.logout()
    finally:
        await node.stop()
        await redis.stop()


async def test_legacy_client_on_node_2_talks_to_an_sdk_user_on_node_1(
    cluster: Cluster, tmp_path: Path
):
    """The vendor's unmodified 1.x Python client works against any node."""
    bob = await login(cluster.url(0), "bob")
    got = inbox(bob)
    old = await LegacyClient.python(cluster.nodes[1].port, tmp_path / "legacy.log")
    try:
        old.do("login", app=APP, account="oldpy", token=NO_TOKEN)
        await old.wait("login_ok")
        old.do("send", peer="bob", msg="hello across nodes")
        await old.wait("send_ok")
        await until(lambda: got == [("oldpy", "hello across nodes")])
        await bob.message_instant_send("oldpy", "hello back")
        await old.wait("msg")
        assert [(e["account"], e["msg"]) for e in old.of("msg")] == [("bob", "hello back")]
        old.do("query", account="bob")
        assert (await old.wait("status"))["s"] == 1
        assert await bob.query_user_status("oldpy") == 1
        channel = await bob.channel_join("mixed")
        seen: list[tuple[str, str]] = []
        channel.on_message_channel_receive = lambda account, _uid, msg: seen.append((account, msg))
        old.do("join", channel="mixed")
        await old.wait("joined")
        assert sorted((await old.wait("user_list"))["users"]) == ["bob", "oldpy"]
        old.do("channel_send", msg="old school")
        await until(lambda: seen == [("oldpy", "old school")])
        await channel.message_channel_send("new school")
        assert (await old.wait("channel_msg", 2))["msg"] == "new school"  # its own came first
    finally:
        await old.close()
    await bob.logout()


@pytest.mark.parametrize("fsync", ["always", "everysec"])
async def test_redis_kill_9_and_restart_keeps_acknowledged_messages(tmp_path: Path, fsync: str):
    """With AOF, a kill -9 of Redis right after the last acknowledgement loses nothing; the
    time a burst of sends took is printed for both fsync settings (docs/deployment.md)."""
    c = Cluster(tmp_path, [APP], nodes=2, durable=True)
    c.redis.fsync = fsync
    await c.start()
    try:
        sender = await login(c.url(0), "burst", reconnect_time=60, reconnect_count=1000)
        took = 0.0
        for batch in range(10):  # 10 x 100 in flight at once (under the 500/s request rate)
            started = time.monotonic()
            sends = [sender.message_instant_send("sink", f"m{batch}-{i}") for i in range(100)]
            await asyncio.gather(*sends)
            took += time.monotonic() - started
            await asyncio.sleep(0.25)
        await c.restart_redis()  # SIGKILL right after the last acknowledgement
        receiver = await fast_signal(c.url(1)).login(
            "sink", NO_TOKEN, reconnect_time=60, reconnect_count=1000
        )
        got = inbox(receiver)
        with contextlib.suppress(TimeoutError):
            await until(lambda: len(got) >= 1000, within=30)
        lost = 1000 - len({m for _, m in got})
        print(f"appendfsync {fsync}: 1000 sends in {took:.2f} s, {lost} lost after kill -9")
        assert lost == 0 and len(got) == 1000
        await receiver.logout()
        await sender.logout()
    finally:
        await c.stop()


async def test_a_call_across_nodes_ring_accept_dtmf_end_and_refuse(cluster: Cluster):
    """K1-K4 with the caller on node 1 and the callee on node 2."""
    from .test_calls import Phone

    alice = Phone(await login(cluster.url(0), "alice"))
    bob = Phone(await login(cluster.url(1), "bob"))
    out = await alice.call("bob")
    await until(lambda: bob.incoming and "received_by_peer" in alice.events(out))
    inc = bob.incoming[-1]
    await inc.channel_invite_accept("sdp-answer")
    await until(lambda: out.state == "accepted")
    assert alice.extras(out, "accepted_by_peer") == ["sdp-answer"]
    await out.channel_invite_dtmf("12#")
    await inc.channel_invite_dtmf("9")
    await until(lambda: bob.events(inc).count("msg") == 1 and alice.events(out).count("msg") == 1)
    await inc.channel_invite_end("bye")
    await until(lambda: "end_by_peer" in alice.events(out))
    assert bob.events(inc)[-1] == "end_by_myself"

    second = await alice.call("bob", channel="again")
    await until(lambda: len(bob.incoming) == 2)
    await bob.incoming[-1].channel_invite_refuse("busy")
    await until(lambda: "refused_by_peer" in alice.events(second))

    # A callee that is offline logs in on node 2 while the call waits on node 1 (K1).
    waiting = await alice.call("carl")
    carl = Phone(await login(cluster.url(1), "carl"))
    await until(lambda: carl.incoming and "received_by_peer" in alice.events(waiting))
    # The callee's node dies: the call ends on the caller's side as when the peer's session
    # is lost on one server: end_by_peer {"logout": 102}.
    await carl.incoming[-1].channel_invite_accept("")
    await until(lambda: waiting.state == "accepted")
    await cluster.nodes[1].kill()
    await until(lambda: "end_by_peer" in alice.events(waiting), within=30)
    assert json.loads(alice.extras(waiting, "end_by_peer")[-1]) == {"logout": 102}
    await alice.session.logout()


async def test_live_presence_hears_users_on_other_nodes(cluster: Cluster):
    watcher = await login(cluster.url(0), "watcher")
    seen: list[tuple] = []
    watcher.on_user_status_changed = lambda account, status: seen.append((account, status))
    watcher.on_user_attr_changed = lambda account, name, value: seen.append((account, name, value))
    assert await watcher.user_status_subscribe(["far"]) == {"far": 0}
    far = await login(cluster.url(1), "far")
    await until(lambda: seen == [("far", 1)])
    assert await watcher.user_status_subscribe(["far"]) == {"far": 1}  # asked from Redis
    await far.set_attr("mood", "remote")
    await far.logout()
    await until(lambda: len(seen) == 3)
    assert seen == [("far", 1), ("far", "mood", "remote"), ("far", 0)]
    await watcher.logout()
