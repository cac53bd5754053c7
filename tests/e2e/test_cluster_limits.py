"""Quotas and channel rate limits count the whole cluster, not each node (issue 13).

Real Redis and real node processes configured with small ``[limits]`` and ``[channels]``:
a user (or a channel) spreading its requests over the nodes gets the budget of one server.
Redis's clock drives the rate budgets, so the rate tests bound what passed by the time the
requests took (a token bucket lets through at most burst + rate x elapsed), rather than
assuming how fast the machine is.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_CHANNEL_MSG_CHARS_LARGE

from ..support.cluster import Cluster
from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.waiting import until, until_true

SET_ATTR = "io.agora.signal.channel_set_attr"
LIMITS = """
[limits]
inbox_share_per_sender = 3
undelivered_per_sender = 5
attr_channels_per_user = 3
attr_channels_per_app = 5

[channels]
large_threshold = 2
channel_rate_large = 1.0
user_rate_large = 100.0
"""


@pytest.fixture
async def cluster(tmp_path: Path):
    conf = tmp_path / "limits.toml"
    conf.write_text(LIMITS, encoding="utf-8")
    c = Cluster(tmp_path, [APP], nodes=2, extra=["--config", str(conf)])
    await c.start()
    yield c
    await c.stop()


async def login(url: str, account: str):
    return await fast_signal(url).login(account, NO_TOKEN)


async def refused(request) -> SignalError:
    with pytest.raises(SignalError) as err:
        await request
    return err.value


async def test_a_senders_message_quotas_span_the_nodes(cluster: Cluster):
    spam = await login(cluster.url(0), "spam")
    for i in range(3):
        await spam.message_instant_send("r1", f"m{i}")
    err = await refused(spam.message_instant_send("r1", "one too many"))
    assert err.code == ErrorCode.SENDMESSAGE_E_OTHER
    assert err.reason == "quota: at most 3 of your messages wait for one recipient"
    friend = await login(cluster.url(1), "friend")
    await friend.message_instant_send("r1", "others still get in")
    # The same account on the other node: the 3 it left waiting still count.
    await spam.logout()
    spam = await login(cluster.url(1), "spam")
    for i in range(2):
        await spam.message_instant_send("r2", f"n{i}")
    err = await refused(spam.message_instant_send("r3", "one too many"))
    assert err.reason == "quota: at most 5 of your messages wait undelivered"
    # Delivered and acknowledged (on node 1 here) messages leave the quota.
    r1 = await login(cluster.url(0), "r1")
    got: list[str] = []
    r1.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: len(got) == 4)
    await r1.logout()  # acknowledged before the logout completes

    async def sends() -> bool:
        try:
            await spam.message_instant_send("r3", "room again")
        except SignalError:
            return False
        return True

    await until_true(sends)
    for session in (spam, friend):
        await session.logout()


async def test_channels_created_from_outside_count_on_every_node(cluster: Cluster):
    mal = await login(cluster.url(0), "mal")
    for i in range(2):
        await mal.invoke(SET_ATTR, {"channel": f"m{i}", "name": "a", "value": "1"})
    await mal.logout()
    mal = await login(cluster.url(1), "mal")
    await mal.invoke(SET_ATTR, {"channel": "m2", "name": "a", "value": "1"})
    err = await refused(mal.invoke(SET_ATTR, {"channel": "m3", "name": "a", "value": "1"}))
    assert err.code == ErrorCode.GENERAL_E_FAILED
    assert err.reason == "quota: you created 3 channels without joining them"
    await mal.invoke(SET_ATTR, {"channel": "m0", "name": "b", "value": "2"})  # exists: free
    other = await login(cluster.url(0), "other")
    for i in range(2):
        await other.invoke(SET_ATTR, {"channel": f"o{i}", "name": "a", "value": "1"})
    err = await refused(other.invoke(SET_ATTR, {"channel": "o2", "name": "a", "value": "1"}))
    assert err.reason == "quota: this app has 5 channels without members"
    # A channel that gets a member (on the other node) leaves its creator's quota.
    await other.channel_join("m0")
    await mal.invoke(SET_ATTR, {"channel": "m3", "name": "a", "value": "1"})
    for session in (mal, other):
        await session.logout()


async def _alternate(first, second, attempts: int, send) -> tuple[int, float, list[SignalError]]:
    """``send(member, i)`` from the two nodes' members in turn: (passed, seconds, refusals)."""
    passed, errors = 0, []
    start = time.monotonic()
    for i in range(attempts):
        try:
            await send(first if i % 2 == 0 else second, i)
            passed += 1
        except SignalError as exc:
            errors.append(exc)
    return passed, time.monotonic() - start, errors


async def limited_pair(cluster: Cluster, name: str, limit: str) -> tuple:
    """Members of channel ``name`` on node 1 and node 2, with the ``limit`` attribute at 1/s."""
    a = await login(cluster.url(0), f"{name}-a")
    b = await login(cluster.url(1), f"{name}-b")
    ch_a = await a.channel_join(name)
    ch_b = await b.channel_join(name)
    await ch_a.channel_set_attr(limit, "1")
    await until(lambda: ch_b.attrs.get(limit) == "1")
    return a, b, ch_a, ch_b


async def test_sendmsg_limit_is_one_budget_for_the_channel(cluster: Cluster):
    a, b, ch_a, ch_b = await limited_pair(cluster, "limited", "_sendmsg_limit")

    async def send(channel, i: int) -> None:
        await channel.message_channel_send(f"m{i}")

    passed, seconds, errors = await _alternate(ch_a, ch_b, 8, send)
    # Counted per node, each node's bucket would have let its first message through at once.
    assert passed <= 1 + seconds * 1
    assert errors and {(e.code, e.reason) for e in errors} == {
        (ErrorCode.SENDMESSAGE_E_OTHER, "the channel's message rate limit is reached")
    }
    await ch_a.channel_del_attr("_sendmsg_limit")  # small channel: no budget any more
    for i in range(4):
        await send(ch_b if i % 2 else ch_a, i)
    for session in (a, b):
        await session.logout()


async def test_large_channel_rate_is_one_budget_across_nodes(cluster: Cluster):
    members = [await login(cluster.url(i % 2), f"big{i}") for i in range(3)]
    channels = [await m.channel_join("big") for m in members]  # 3 > large_threshold 2
    assert await members[0].channel_query_user_num("big") == 3
    # Node 2 holds one of the three members, yet knows the channel is large: the size rule.
    await until(lambda: len(channels[1].members) == 3)
    err = await refused(channels[1].message_channel_send("x" * (MAX_CHANNEL_MSG_CHARS_LARGE + 1)))
    assert err.code == ErrorCode.GENERAL_E_LARGE_PARAM

    async def send(channel, i: int) -> None:
        await channel.message_channel_send(f"m{i}")

    passed, seconds, errors = await _alternate(channels[0], channels[1], 8, send)
    assert passed <= 1 + seconds * 1  # channel_rate_large = 1/s for the whole channel
    assert errors and all(e.code == ErrorCode.SENDMESSAGE_E_OTHER for e in errors)
    for session in members:
        await session.logout()


async def test_setattr_limit_is_one_budget_across_nodes(cluster: Cluster):
    a, b, ch_a, ch_b = await limited_pair(cluster, "attrs", "_setattr_limit")

    async def set_attr(channel, i: int) -> None:
        await channel.channel_set_attr(f"k{i}", "v")

    passed, seconds, errors = await _alternate(ch_a, ch_b, 8, set_attr)
    assert passed <= 1 + seconds * 1
    assert errors and {(e.code, e.reason) for e in errors} == {
        (ErrorCode.GENERAL_E_FAILED, "_setattr_limit: at most 1 changes per second")
    }
    for session in (a, b):
        await session.logout()
