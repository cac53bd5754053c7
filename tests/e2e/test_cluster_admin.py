"""The Server API's administrator kicks reach every node (issue 13, "one system").

Real Redis, real node processes: the HTTP request goes to node 1, the session or the channel
member is on node 2, and the answer is the one a single server gives.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from sigphone.protocol.errors import ErrorCode
from sigphone.protocol.token import make_token

from ..server.test_server_api import Api
from ..support.cluster import Cluster
from ..support.config import CERT, CERT_APP, fast_signal
from ..support.waiting import until, until_true
from .test_cluster_channels import joined


@pytest.fixture
async def cluster(tmp_path: Path):
    c = Cluster(tmp_path, [f"{CERT_APP}:{CERT}"], nodes=2)
    await c.start()
    yield c
    await c.stop()


async def login(url: str, account: str, **kw: object):
    token = make_token(account, CERT_APP, CERT, int(time.time()) + 3600)
    return await fast_signal(url, CERT_APP).login(account, token, **kw)  # type: ignore[arg-type]


def api_of(http: aiohttp.ClientSession, cluster: Cluster, node: int) -> Api:
    return Api(http, f"http://127.0.0.1:{cluster.nodes[node].api_port}", CERT_APP, CERT)


async def test_kick_through_node_1_logs_out_a_user_on_node_2(cluster: Cluster):
    kim = await login(cluster.url(1), "kim")
    watcher = await login(cluster.url(0), "watcher")
    codes: list[int] = []
    kim.on_logout = codes.append
    async with aiohttp.ClientSession() as http:
        api = api_of(http, cluster, 0)
        assert await api("DELETE", "/api/v1/users/kim/session") == (
            200,
            {"account": "kim", "kicked": 1},
        )
        await until(lambda: codes)
        assert codes == [ErrorCode.LOGOUT_E_KICKED]
        # Offline everywhere (not "moved to another node"), and a second kick finds nobody.
        assert await watcher.query_user_status("kim") == 0
        status, body = await api("GET", "/api/v1/users/kim/status")
        assert (status, body["status"]) == (200, 0)
        assert (await api("DELETE", "/api/v1/users/kim/session"))[1]["kicked"] == 0
        assert (await api("DELETE", "/api/v1/users/nobody/session"))[1]["kicked"] == 0
        # Node 2's own API still kicks its own users, and node 2's API one on node 1.
        assert (await api_of(http, cluster, 1)("DELETE", "/api/v1/users/watcher/session"))[1] == {
            "account": "watcher",
            "kicked": 1,
        }
    await until_true(lambda: _status(cluster, "watcher", 0))


async def _status(cluster: Cluster, account: str, expected: int) -> bool:
    async with aiohttp.ClientSession() as http:
        _, body = await api_of(http, cluster, 1)("GET", f"/api/v1/users/{account}/status")
        return body["status"] == expected


async def test_remove_a_member_on_node_2_through_node_1(cluster: Cluster):
    mia = await login(cluster.url(1), "mia")
    obs = await login(cluster.url(0), "obs")
    _, mia_rec = await joined(mia, "room")
    _, obs_rec = await joined(obs, "room")
    await until(lambda: mia_rec.of("channel_user_joined") == [("obs", 0)])
    async with aiohttp.ClientSession() as http:
        api = api_of(http, cluster, 0)
        path = "/api/v1/channels/room/users/mia"
        assert await api("DELETE", path) == (
            200,
            {"channel": "room", "account": "mia", "kicked": 1},
        )
        await until(lambda: mia_rec.of("channel_leaved") and obs_rec.of("channel_user_leaved"))
        assert mia_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_KICKED,)]
        assert obs_rec.of("channel_user_leaved") == [("mia", 0)]
        assert await obs.channel_query_user_num("room") == 1
        assert (await api("DELETE", path))[1]["kicked"] == 0  # not a member any more
        assert (await api("DELETE", "/api/v1/channels/room/users/nobody"))[1]["kicked"] == 0
        assert (await api("DELETE", "/api/v1/channels/elsewhere/users/obs"))[1]["kicked"] == 0
        # A member on the node that received the request is removed there as before.
        path = "/api/v1/channels/room/users/obs"
        assert (await api("DELETE", path))[1]["kicked"] == 1
        await until(lambda: obs_rec.of("channel_leaved") == [(ErrorCode.LEAVECHANNEL_E_KICKED,)])
        assert await mia.channel_query_user_num("room") == 0
    await mia.logout()
    await obs.logout()


async def test_remove_a_member_whose_node_died(cluster: Cluster):
    """The node holding the member cannot be told: node 1 makes it leave in Redis (601) at
    once, rather than answering "removed" and leaving it there until the reaper runs."""
    gone = await login(cluster.url(1), "gone", reconnect_time=5, reconnect_count=3)
    stay = await login(cluster.url(0), "stay")
    await joined(gone, "hall")
    channel, rec = await joined(stay, "hall")
    assert list(channel.members) == ["gone", "stay"]
    await cluster.nodes[1].kill()
    async with aiohttp.ClientSession() as http:
        api = api_of(http, cluster, 0)
        path = "/api/v1/channels/hall/users/gone"
        assert (await api("DELETE", path))[1]["kicked"] == 1
        await until(lambda: rec.of("channel_user_leaved") == [("gone", 0)])
        assert await stay.channel_query_user_num("hall") == 1
        assert (await api("DELETE", path))[1]["kicked"] == 0
    await stay.logout()
