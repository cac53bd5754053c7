"""Issue 12, item 1: one bad string must not hurt anyone else.

A lone UTF-16 surrogate (``"\\ud800"``) is valid JSON but can never be written again. Each
edge refuses it with 1004 (protocol/text.py); and where one slips past anyway (the tests
put it straight into the hub, as a future bug would), the store, the writers, the legacy
poll and the event stream each fail only that one item.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sigphone.protocol import frames as f
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.sdk.server_api import signed_headers
from sigphone.server import SignalServer
from sigphone.server.backends.embedded.sqlite_store import SqliteStore

from ..support.config import APP, CERT, CERT_APP, fast_config
from ..support.raw import Old, Raw
from ..support.waiting import until

BAD = "bad\ud800text"


@pytest.fixture
async def api_server(tmp_path: Path):
    cfg = fast_config(tmp_path / "data")
    cfg.api_port = 0
    async with SignalServer(cfg) as srv:
        yield srv


async def _api(server: SignalServer, method: str, path: str, body: object) -> tuple[int, dict]:
    assert server.api is not None
    data = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as \ud800
    headers = signed_headers(CERT_APP, CERT, method, path, data)
    url = f"http://127.0.0.1:{server.api.port}{path}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, data=data, headers=headers) as r,
    ):
        return r.status, await r.json(content_type=None)


# --- The validator ---------------------------------------------------------------------------


def test_the_validator_refuses_lone_surrogates_anywhere():
    from sigphone.protocol.text import check_json, check_utf8, loads, scrub

    assert check_utf8("plain é 𐀀") == "plain é 𐀀"
    for bad in ("\ud800", "x\udc00", BAD):
        with pytest.raises(SignalError) as err:
            check_utf8(bad)
        assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM
    with pytest.raises(SignalError):
        check_json({"ok": [1, {"deep": BAD}]})
    with pytest.raises(SignalError):
        check_json({BAD: 1})  # keys too
    with pytest.raises(SignalError):
        loads('["x", "\\ud800"]')
    assert loads('["x", "\\ud800\\udc00"]') == ["x", "𐀀"]  # a real pair is one character
    assert scrub(BAD) == "bad\ufffdtext"


# --- Every edge refuses it with 1004 ---------------------------------------------------------


async def test_native_edge_refuses_a_lone_surrogate(server):
    invoke = {"op": "invoke", "func": "io.agora.signal.channel_set_attr"}
    async with connect(server.url, compression=None) as ws:
        raw = Raw(ws)
        assert (await raw.login("alice"))["code"] == 0
        for i, frame in enumerate(
            (
                {"op": "send", "peer": "bob", "msg": BAD},
                {"op": "set_attr", "name": "n", "value": BAD},
                {**invoke, "args": {"channel": "room", "name": "n", "value": BAD}},
            )
        ):
            reply = await raw.call({**frame, "id": i + 2})
            assert reply["code"] == ErrorCode.GENERAL_E_WRONG_PARAM, reply
        assert server.channels.get(APP, "room") is None


async def test_legacy_edge_refuses_a_lone_surrogate(server):
    old = Old(await connect(server.url, compression=None))
    try:
        err, _ = await old.login("alice")
        assert err == ""
        err, body = await old.call2("user_sendmsg", {"peer": "bob", "content": BAD})
        assert body["code"] == ErrorCode.GENERAL_E_WRONG_PARAM, body
        err, body = await old.call2(
            "channel_set_attr", {"channel": "room", "name": "n", "value": BAD}
        )
        assert body["code"] == ErrorCode.GENERAL_E_WRONG_PARAM, body
        assert server.channels.get(APP, "room") is None  # nothing was created or poisoned
        await old.alive()
    finally:
        await old.ws.close()


async def test_server_api_refuses_a_lone_surrogate(api_server):
    status, body = await _api(api_server, "POST", "/api/v1/users/bob/messages", {"msg": BAD})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)
    status, body = await _api(api_server, "PUT", "/api/v1/channels/room/attrs/n", {"value": BAD})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)
    status, body = await _api(api_server, "PUT", "/api/v1/users/bob/attrs/n", {"value": BAD})
    assert (status, body["code"]) == (400, ErrorCode.GENERAL_E_WRONG_PARAM)


async def test_other_users_sends_never_fail_because_of_a_bad_string(server, login):
    """The attack: bad sends on the legacy edge interleaved with good users' sends. Every good
    send succeeds (before: 5-13 % failed with 1001, their batch rolled back)."""
    bob = await login("bob")
    got: list[str] = []
    bob.on_message_instant_receive = lambda a, u, m: got.append(m)
    senders = [await login(f"user{i}") for i in range(4)]
    old = Old(await connect(server.url, compression=None))

    async def bad_burst() -> None:
        for i in range(10):
            await old.send("call2", ["user_sendmsg", 1000 + i, {"peer": "bob", "content": BAD}])
            await asyncio.sleep(0)

    try:
        await old.login("mallory")
        failed: list[BaseException] = []
        for round_ in range(30):
            results = await asyncio.gather(
                bad_burst(),
                *(s.message_instant_send("bob", f"{round_}-{n}") for n, s in enumerate(senders)),
                return_exceptions=True,
            )
            failed += [r for r in results if isinstance(r, BaseException)]
        assert not failed, f"{len(failed)} of 120 good sends failed: {failed[:3]}"
        await until(lambda: len(got) == 120)
    finally:
        await old.ws.close()


# --- The store: one failure fails only its own request ----------------------------------------


async def test_one_failing_store_operation_fails_only_its_own_request(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3")
    await store.open()
    try:

        def append(msg: str):
            return store.append_message(
                APP, "bob", "alice", msg, ts=1.0, expires=1e12, client_id="", cseq=0
            )

        def boom(db):
            raise RuntimeError("any failure, not just a refusal")

        # Queued in one loop turn: one batch, one transaction.
        futs = [append("one"), append(BAD), append("two"), store.submit(boom), append("three")]
        results = await asyncio.gather(*futs, return_exceptions=True)
        assert isinstance(results[1], SignalError) and results[1].code == ErrorCode.GENERAL_E_FAILED
        assert isinstance(results[3], SignalError) and results[3].code == ErrorCode.GENERAL_E_FAILED
        assert all(isinstance(results[i], int) for i in (0, 2, 4)), results
        inbox = await store.load_inbox(APP, "bob", now=2.0)
        assert [r.msg for r in inbox] == ["one", "two", "three"]
    finally:
        await store.close()


# --- Channels: a join is atomic ------------------------------------------------------------


async def test_a_poisoned_channel_attribute_never_breaks_joins(server, login):
    """Put the bad value straight into the channel (as a validation bug would): joins still
    succeed, for the SDK and a legacy client, and the count always equals the member list."""
    await (await login("owner")).channel_join("room")
    server.channels.get(APP, "room").attrs["poison"] = BAD
    alice = await login("alice")
    channel = await alice.channel_join("room")
    assert channel.attrs["poison"] == "bad\ufffdtext"  # replaced, not lost
    old = Old(await connect(server.url, compression=None))
    try:
        await old.login("carol")
        err, body = await old.call2("channel_join", {"name": "room"})
        assert err == "", body
        ch = server.channels.get(APP, "room")
        assert sorted(ch.members) == ["alice", "carol", "owner"]
        assert body["num"] == 3
    finally:
        await old.ws.close()


# --- Writers: an undeliverable event, a failing writer ---------------------------------------


async def _resume(server, account: str, sid: str, seq: int) -> tuple[Raw, dict]:
    raw = Raw(await connect(server.url, compression=None))
    return raw, await raw.login(account, resume={"session": sid, "seq": seq})


async def _events(raw: Raw, n: int) -> list[dict]:
    out = []
    while len(out) < n:
        frame = await raw.recv()
        if frame.get("op") == "event":
            out.append(frame)
    return out


async def test_an_undeliverable_event_does_not_wedge_a_resumed_session(server, login):
    """Before: the native writer died on the encode error during the replay and left its
    replay flag set; every later event was dropped while senders got success."""
    ws = await connect(server.url, compression=None)
    raw = Raw(ws)
    sid = (await raw.login("dave"))["data"]["session"]
    await ws.close()
    await until(lambda: server.hub.sessions[(APP, "dave")].link is None)
    session = server.hub.sessions[(APP, "dave")]
    server.hub.push(session, f.MsgEvent(account="x", msg=BAD))  # past every check
    bob = await login("bob")
    await bob.message_instant_send("dave", "after the bad one")
    raw, reply = await _resume(server, "dave", sid, 0)
    try:
        assert reply["data"]["resumed"] is True
        events = await _events(raw, 2)
        assert [e["ev"]["msg"] for e in events] == ["bad\ufffdtext", "after the bad one"]
        await bob.message_instant_send("dave", "live")
        [live] = await _events(raw, 1)
        assert live["ev"]["msg"] == "live"
    finally:
        await raw.ws.close()


async def test_a_failing_writer_closes_with_a_reason_and_the_session_resumes(server, login):
    ws = await connect(server.url, compression=None)
    raw = Raw(ws)
    sid = (await raw.login("erin"))["data"]["session"]
    link = server.hub.sessions[(APP, "erin")].link
    transport = link.ws.transport
    real_write = transport.write
    failures = []

    def failing_write(data):  # the socket layer breaks once, as a kernel error would
        if not failures:
            failures.append(data)
            raise OSError("injected write failure")
        real_write(data)

    transport.write = failing_write
    bob = await login("bob")
    await bob.message_instant_send("erin", "in flight")
    with pytest.raises(ConnectionClosed) as closed:
        await _events(raw, 1)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert "resume" in closed.value.rcvd.reason
    await until(lambda: server.hub.sessions[(APP, "erin")].link is None)
    raw, reply = await _resume(server, "erin", sid, 0)
    try:
        assert reply["data"]["resumed"] is True
        [event] = await _events(raw, 1)
        assert event["ev"]["msg"] == "in flight"  # nothing lost
    finally:
        await raw.ws.close()


async def test_a_legacy_poll_survives_an_undeliverable_item(server, login):
    old = Old(await connect(server.url, compression=None))
    try:
        await old.login("frank")
        session = server.hub.sessions[(APP, "frank")]
        server.hub.push(session, f.MsgEvent(account="x", msg=BAD))  # past every check
        bob = await login("bob")
        await bob.message_instant_send("frank", "good one")
        await until(lambda: len(session.outbox) == 2)
        err, page = await old.call2("user_getmsg", {"ver_clear": 0, "max": 30})
        assert err == ""
        texts = [line.split(" ", 7)[7] for _, line in page["msgs"]]
        assert texts == ["bad\ufffdtext", "good one"]
        await old.alive()
    finally:
        await old.ws.close()


async def test_the_event_stream_survives_an_undeliverable_item(api_server):
    assert api_server.api is not None
    path = "/api/v1/events?types=attr"
    url = f"http://127.0.0.1:{api_server.api.port}{path}"
    got: list[dict] = []
    headers = signed_headers(CERT_APP, CERT, "GET", path)
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        assert r.status == 200
        await until(lambda: api_server.api.subscribers)
        api_server.api._publish(CERT_APP, {"type": "attr", "account": "a", "value": BAD})
        api_server.api._publish(CERT_APP, {"type": "attr", "account": "b", "value": "ok"})
        async with asyncio.timeout(10):
            async for line in r.content:
                if line.startswith(b"data: "):
                    got.append(json.loads(line[6:]))
                    if len(got) == 2:
                        break
    assert [e["value"] for e in got] == ["bad\ufffdtext", "ok"]
