"""Bad input at the edge: every class gets its seed code, connections survive where the
protocol allows, and nobody else's data is touched. A raw WebSocket client plays the
misbehaving party; a well-behaved SDK session watches for collateral damage."""

from __future__ import annotations

import asyncio
import contextlib
import json

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sigphone.protocol import frames as f
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_FRAME_BYTES

from ..support.config import APP
from ..support.raw import Raw
from ..support.waiting import until


@pytest.fixture
async def raw(server):
    async with connect(server.url, compression=None, max_size=None) as ws:
        yield Raw(ws)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json", ErrorCode.GENERAL_E_WRONG_PARAM),
        (b"[1,2,3]", ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'"just a string"', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b"{}", ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'{"op": 5}', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'{"op": "no_such_op", "id": 1}', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'{"op": "send", "id": 1, "peer": 5, "msg": "x"}', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'{"op": "send", "id": -1, "peer": "b", "msg": "x"}', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b'{"op": "login", "id": 1', ErrorCode.GENERAL_E_WRONG_PARAM),
        (b"\xff\xfe binary garbage", ErrorCode.GENERAL_E_WRONG_PARAM),
        (b"x" * (MAX_FRAME_BYTES + 1), ErrorCode.GENERAL_E_LARGE_PARAM),
    ],
)
async def test_malformed_frames_get_a_code_and_the_connection_lives(raw, payload, code):
    await raw.send(payload)
    reply = await raw.recv()
    assert reply["code"] == code
    assert reply["op"] in ("error", "reply")
    # Still usable: log in on the same connection.
    assert (await raw.login("alice"))["code"] == 0


async def test_error_echoes_the_request_id_when_it_can(raw):
    reply = await raw.call({"op": "no_such_op", "id": 77})
    assert reply == {"op": "reply", "id": 77, "code": 1004, "reason": reply["reason"]}
    assert "unknown op" in reply["reason"]


async def test_requests_before_login_are_1003(raw):
    for op in (
        {"op": "send", "id": 2, "peer": "bob", "msg": "x"},
        {"op": "set_attr", "id": 3, "name": "a", "value": "b"},
        {"op": "query_status", "id": 4, "account": "bob"},
        {"op": "logout", "id": 5},
    ):
        reply = await raw.call(op)
        assert reply["code"] == ErrorCode.GENERAL_E_NOT_LOGIN, op
    assert (await raw.call({"op": "ping", "id": 6}))["code"] == 0


async def test_login_twice_on_one_connection_is_208(raw):
    assert (await raw.login("alice"))["code"] == 0
    assert (await raw.login("alice"))["code"] == ErrorCode.LOGIN_E_ALREADY_LOGIN


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"op": "send", "peer": "bob smith", "msg": "x"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({"op": "send", "peer": "bob\u0000", "msg": "x"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({"op": "send", "peer": "b" * 129, "msg": "x"}, ErrorCode.GENERAL_E_LARGE_PARAM),
        ({"op": "send", "peer": "bob", "msg": "x" * 8193}, ErrorCode.GENERAL_E_LARGE_PARAM),
        (
            {"op": "send", "peer": "bob", "msg": "x", "msg_id": "a b"},
            ErrorCode.GENERAL_E_WRONG_PARAM,
        ),
        ({"op": "set_attr", "name": "", "value": "x"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({"op": "set_attr", "name": "n", "value": "v" * 129}, ErrorCode.GENERAL_E_LARGE_PARAM),
        ({"op": "get_attr", "name": "n", "account": "x y"}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({"op": "query_status", "account": ""}, ErrorCode.GENERAL_E_WRONG_PARAM),
        ({"op": "ack"}, ErrorCode.GENERAL_E_WRONG_PARAM),
    ],
)
async def test_wrong_and_large_parameters(raw, frame, code):
    assert (await raw.login("alice"))["code"] == 0
    reply = await raw.call({**frame, "id": 9})
    assert reply["code"] == code
    assert (await raw.call({"op": "ping", "id": 10}))["code"] == 0


async def test_flood_is_answered_then_cut_and_others_are_unharmed(server, raw, login):
    bob = await login("bob")
    carol = await login("carol")
    got: list[str] = []
    carol.on_message_instant_receive = lambda a, u, m: got.append(m)
    assert (await raw.login("mallory"))["code"] == 0
    limits = server.config.limits
    burst = int(limits.burst) + limits.max_strikes + 50
    frame = json.dumps({"op": "query_status", "id": 1, "account": "bob"})
    codes: list[int] = []

    async def read_until_closed() -> ConnectionClosed:
        try:
            while True:
                codes.append((await raw.recv())["code"])
        except ConnectionClosed as exc:
            return exc

    reader = asyncio.create_task(read_until_closed())
    with contextlib.suppress(ConnectionClosed):
        for _ in range(burst):
            await raw.ws.send(frame)
    closed = await asyncio.wait_for(reader, 20)
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert ErrorCode.GENERAL_E_FAILED in codes  # "rate limited" answers came first
    # The well-behaved users did not notice.
    await bob.message_instant_send("carol", "still fine")
    await until(lambda: got)
    assert got == ["still fine"]


async def test_slow_consumer_is_cut_off_not_waited_for(server, login):
    """A client that stops reading is disconnected once its send queue is full; its
    messages stay in its inbox, and the sender is never slowed down."""
    server.config.limits.send_queue_bytes = 64 * 1024
    async with connect(server.url, compression=None, max_queue=1) as ws:
        raw = Raw(ws)
        assert (await raw.login("sloth"))["code"] == 0
        ws.transport.pause_reading()  # stop reading from the socket entirely
        alice = await login("alice")
        text = "z" * 8000
        for _ in range(800):  # ~6.4 MB towards a reader that never reads
            await alice.message_instant_send("sloth", text)
        await until(lambda: server.hub.sessions[(APP, "sloth")].link is None, within=20)
    # Nothing lost: the messages wait in the durable inbox for the next login.
    sloth = await login("sloth")
    got: list[str] = []
    sloth.on_message_instant_receive = lambda a, u, m: got.append(m)
    await until(lambda: len(got) == 800, within=30)


async def test_oversized_websocket_message_closes_with_1009(server):
    async with connect(server.url, compression=None, max_size=None) as ws:
        await ws.send("x" * (1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


# --- Fuzzing the decoder ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ops = st.sampled_from(
    [
        "login",
        "logout",
        "ping",
        "ack",
        "set_attr",
        "get_attr",
        "get_attr_all",
        "query_status",
        "send",
        "nope",
        "",
    ]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=256))
def test_decoder_never_crashes_on_bytes(data):
    try:
        f.decode_client(data)
    except SignalError as exc:
        assert exc.code in (ErrorCode.GENERAL_E_WRONG_PARAM, ErrorCode.GENERAL_E_LARGE_PARAM)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    ops,
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "peer",
                "msg",
                "name",
                "value",
                "account",
                "token",
                "app_id",
                "seq",
                "cseq",
                "resume",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_decoder_never_crashes_on_json_objects(op, fields):
    data = msgspec.json.encode({"op": op, **fields})
    try:
        frame = f.decode_client(data)
    except SignalError as exc:
        assert exc.code in (ErrorCode.GENERAL_E_WRONG_PARAM, ErrorCode.GENERAL_E_LARGE_PARAM)
    else:
        assert f.decode_client(f.encode(frame)) == frame  # decoded frames round-trip


async def test_server_survives_a_burst_of_random_frames(server, login):
    """Fuzz the live server: random frames from one connection, then a normal user works."""
    import random

    rng = random.Random(7)
    pieces = [
        b"{",
        b"}",
        b'"op"',
        b":",
        b'"send"',
        b'"login"',
        b",",
        b'"id"',
        b"1",
        b"[",
        b"]",
        b"null",
        b'"peer"',
        b'"\\ud800"',
        b"-1",
        b"1e999",
        b'"msg"',
    ]
    async with connect(server.url, compression=None) as ws:
        for _ in range(300):
            await ws.send(b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))))
        await ws.send(json.dumps({"op": "ping", "id": 424242}))
        async with asyncio.timeout(10):
            while json.loads(await ws.recv()).get("id") != 424242:
                pass
    alice = await login("alice")
    assert await alice.query_user_status("alice") == 1
