"""The legacy wire format spoken by hand: bad frames, codes, getaddr, kick and line_login.

The real clients are tested in test_legacy_python.py and test_legacy_js.py; here a raw
WebSocket sends what they never would, and each answer must carry the seed's code while
the connection (and everyone else) carries on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sigphone.protocol.errors import ErrorCode
from sigphone.protocol.limits import MAX_FRAME_BYTES
from sigphone.protocol.token import make_token
from sigphone.server import ServerConfig, SignalServer
from sigphone.server.edges.native import EdgeLimits

from ..support.config import APP, CERT_APP, NO_TOKEN, fast_config
from ..support.raw import Old


async def _open(server: SignalServer) -> Old:
    return Old(await connect(server.url, compression=None))


@pytest.fixture
async def old(server: SignalServer) -> AsyncIterator[Old]:
    client = await _open(server)
    yield client
    await client.ws.close()


async def test_bad_frames_get_seed_codes_and_the_connection_lives(old: Old) -> None:
    await old.alive()  # the first frame made this a legacy connection
    for raw, code in [
        ("not json", ErrorCode.GENERAL_E_WRONG_PARAM),
        ("[1, 2]", ErrorCode.GENERAL_E_WRONG_PARAM),
        ('{"op": "login"}', ErrorCode.GENERAL_E_WRONG_PARAM),
        ('["no_such_command", {}]', ErrorCode.GENERAL_E_WRONG_PARAM),
        ('["' + "x" * MAX_FRAME_BYTES + '"]', ErrorCode.GENERAL_E_LARGE_PARAM),
    ]:
        await old.ws.send(raw)
        assert (await old.expect("error"))["code"] == code, raw
        await old.alive()
    await old.ws.send(b'["ping", 7]')  # binary frames are read as UTF-8 JSON too
    assert await old.expect("pong") == 7


async def test_call2_errors(old: Old) -> None:
    await old.send("call2", "not a list")
    callid, err, _ = await old.expect("call2-ret")
    assert (callid, err) == (None, "1004")
    await old.send("call2", ["user_sendmsg", 9, "args"])
    callid, err, _ = await old.expect("call2-ret")
    assert (callid, err) == (9, "1004")

    err, body = await old.call2("user_sendmsg", {"peer": "bob", "content": "x"})
    assert (err, body["code"]) == ("1003", 1003)  # not logged in

    assert (await old.login("oldie"))[0] == ""
    assert (await old.call2("user_sendmsg", {"peer": 5, "content": "x"}))[0] == "1004"
    assert (await old.call2("user_sendmsg", {"peer": "bob", "content": "x" * 9000}))[0] == "1005"
    assert (await old.call2("no_such_func", {}))[0] == "1004"
    assert (await old.call2("user_getmsg", {"ver_clear": "abc"}))[0] == "1004"
    voip = {"channelName": "c", "peer": "nobody", "extra": ""}
    assert (await old.call2("voip_invite_accept", voip))[0] == "1004"
    err, body = await old.call2("channel_sendmsg", {"name": "not-joined", "msg": "x"})
    assert err == str(int(ErrorCode.SENDMESSAGE_E_OTHER))
    assert body["result"] == "failed"
    await old.alive()


async def test_login_failures_use_the_names_the_clients_map(server, old: Old) -> None:
    err, body = await old.login("oldie", vid="no-such-app")
    assert body == {"result": "failed", "code": 202, "reason": "unknown app ID"}
    assert err.startswith("202")  # not a TokenError...: the clients report 201
    expired = make_token("oldie", CERT_APP, "f" * 32, int(time.time()) - 10)
    err, _ = await old.login("oldie", vid=CERT_APP, token=expired)
    assert err.startswith("TokenError")
    err, _ = await old.login("oldie", vid=CERT_APP, token=NO_TOKEN)
    assert err.startswith("TokenError")
    assert (await old.login("oldie"))[0] == ""
    err, _ = await old.login("oldie")
    assert err == "208 already logged in"
    await old.send("line_login", {"line": "whatever"})
    assert (await old.expect("error"))["code"] == ErrorCode.LOGIN_E_ALREADY_LOGIN
    await old.alive()


async def test_a_second_login_kicks_the_first_connection(server) -> None:
    first, second = await _open(server), await _open(server)
    try:
        assert (await first.login("twice"))[0] == ""
        assert (await second.login("twice"))[0] == ""
        assert (await first.expect("kick"))["code"] == ErrorCode.LOGOUT_E_KICKED
        with pytest.raises(ConnectionClosed):
            await first.recv()
        await second.alive()
    finally:
        await first.ws.close()
        await second.ws.close()


async def test_line_login_resumes_and_the_queue_waits(server, login) -> None:
    bob = await login("bob")
    first = await _open(server)
    _, body = await first.login("resumer")
    line = body["line"]
    await first.ws.close()
    await bob.message_instant_send("resumer", "while you were reconnecting")

    again = await _open(server)
    try:
        await again.send("line_login", {"line": line})
        ver = (await again.expect("notify"))[1]
        err, page = await again.call2("user_getmsg", {"ver_clear": 0, "max": 30})
        assert err == ""
        [[got_ver, text]] = page["msgs"]
        assert got_ver == ver
        # A JS client ("websdk") gets msg-v3 lines: the id is the durable inbox id.
        version, msgid, src, _dst, _flag, kind, _time, content = text.split(" ", 7)
        assert (version, src, kind) == ("msg-v3", "bob", "instant")
        assert msgid.startswith("inbox.")
        assert content == "while you were reconnecting"
        # Processed (ver_clear): gone from the durable inbox, not delivered again.
        err, page = await again.call2("user_getmsg", {"ver_clear": ver})
        assert page["msgs"] == []
        await asyncio.sleep(0)  # let the store's delete be queued before checking
        session = server.hub.sessions[(APP, "resumer")]
        assert not session.outbox
    finally:
        await again.ws.close()

    stale = await _open(server)
    try:
        await stale.send("line_login", {"line": "no-such-line"})
        assert (await stale.expect("close"))["code"] == ErrorCode.LOGOUT_E_NET
    finally:
        await stale.ws.close()


async def test_a_flooding_connection_is_refused_then_closed(tmp_path) -> None:
    """The native adapter's rate rule (EdgeLimits), on a legacy connection."""
    config = fast_config(None)
    config.limits = EdgeLimits(rate=0.001, burst=2, max_strikes=3)
    async with SignalServer(config) as srv:
        client = await _open(srv)
        for _ in range(2):
            await client.alive()
        for _ in range(3):
            await client.send("call2", ["user_getmsg", 5, {}])
            _, err, _ = await client.expect("call2-ret")
            assert err == str(int(ErrorCode.GENERAL_E_FAILED))
        await client.send("ping", 1)
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_channel_fan_out_to_legacy_members(server) -> None:
    """Every legacy member gets the same line, each under its own growing msgid."""
    members = [await _open(server) for _ in range(3)]
    try:
        for i, member in enumerate(members):
            assert (await member.login(f"fan{i}"))[0] == ""
            err, body = await member.call2("channel_join", {"name": "fan"})
            assert err == ""
            assert len(body["list"]) == i + 1
        assert (await members[0].call2("channel_sendmsg", {"name": "fan", "msg": "to all"}))[
            0
        ] == ""
        lines = []
        for member in members:
            while True:
                kind, channel, msgid, line = await member.expect("notify")
                if " channel_msg " in line:
                    break
            assert (kind, channel) == ("channel2", "fan")
            assert msgid > 0
            lines.append(line)
            assert json.loads(line.split(" ", 6)[6])["msg"] == "to all"
        assert lines[0] == lines[1] == lines[2]
    finally:
        for member in members:
            await member.ws.close()


async def _http_get(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: lbs.sig.agora.io\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    writer.close()
    await writer.wait_closed()
    return status, headers, body


@pytest.mark.parametrize(
    "target", ["/getaddr?vid=testapp", "http://lbs.sig.agora.io/getaddr?vid=testapp"]
)
async def test_getaddr_names_this_server(server, target: str) -> None:
    status, headers, body = await _http_get(server.port, target)
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert json.loads(body)["web"] == [["127.0.0.1", server.port]]


async def test_getaddr_hands_out_the_configured_address(tmp_path) -> None:
    config_file = tmp_path / "server.toml"
    config_file.write_text('[server]\nport = 0\nlegacy_address = "203.0.113.7"\n')
    config = ServerConfig.from_toml(config_file)
    assert config.legacy_address == "203.0.113.7"
    async with SignalServer(config) as srv:
        _, _, body = await _http_get(srv.port, "/getaddr?vid=any")
    assert json.loads(body)["web"] == [["203.0.113.7", srv.port]]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            # (line_login with a bad line ends the connection on purpose: tested above)
            st.sampled_from(["call2", "login", "ping", "set_flag", "notify"]),
            st.text(max_size=5),
            st.integers(),
            st.none(),
            st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers())),
            st.lists(st.one_of(st.text(max_size=12), st.integers(), st.none()), max_size=4),
        ),
        min_size=1,
        max_size=4,
    ).filter(lambda frame: isinstance(frame[0], str))
)
async def test_fuzzed_frames_never_break_the_adapter(old: Old, frame: list[Any]) -> None:
    await old.ws.send(json.dumps(frame))
    await old.alive()
