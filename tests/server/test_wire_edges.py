"""The WebSocket port's wire rules that picows leaves to us (edges/picows_edge.py).

UTF-8 checks, reassembly with the size limit, the close handshake, the HTTP answers and the
pacing of a replay by the socket: what the websockets library did before issue 17.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sigphone.protocol import frames as f
from sigphone.protocol.limits import MAX_WIRE_BYTES

from ..support.config import APP
from ..support.raw import Raw
from ..support.waiting import until


async def _closed_with(ws) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def _http(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


async def test_invalid_utf8_text_closes_with_1007(server):
    async with connect(server.url, compression=None) as ws:
        await ws.send(b'{"op":"ping","id":1,"x":"\xff"}', text=True)
        assert await _closed_with(ws) == 1007


async def test_invalid_utf8_across_fragments_closes_with_1007(server):
    async with connect(server.url, compression=None) as ws:
        # A two-byte character split over the frames is fine; a broken one is not.
        await ws.send(iter(['{"op":"ping","id":1,"x":"é', '"}']))
        assert (await Raw(ws).recv())["id"] == 1
        await ws.send(iter([b'{"op":"ping","id":2,"x":"\xc3', b'("}']), text=True)
        assert await _closed_with(ws) == 1007


async def test_a_fragmented_message_over_the_limit_closes_with_1009(server):
    async with connect(server.url, compression=None, max_size=None) as ws:
        part = b"x" * (MAX_WIRE_BYTES // 4)
        with contextlib.suppress(ConnectionClosed):  # the server may close mid-message
            await ws.send(iter([part] * 6))
        assert await _closed_with(ws) == 1009


async def test_a_client_close_is_answered_with_its_code(server):
    async with connect(server.url, compression=None) as ws:
        assert (await Raw(ws).call({"op": "ping", "id": 1}))["code"] == 0
        await ws.close(4000, "bye")
    assert ws.close_code == 4000 or ws.close_code == 1000


async def test_plain_http_answers_carry_the_server_header(server):
    missing = await _http(server.port, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404")
    assert b"\r\nserver: sigphone\r\n" in missing.lower()
    health = await _http(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = health.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"application/json" in head
    assert json.loads(body)["status"] == "ok"
    async with connect(server.url, compression=None) as ws:
        assert ws.response is not None and ws.response.headers["Server"] == "sigphone"


async def test_a_backlog_replay_is_paced_by_the_socket(server):
    """A resumed session's backlog is written as the client reads it, not copied into the
    server's send buffer: 16 MB queued, a client that reads nothing for a while, the
    server's buffer for it stays far below that, then every event arrives in order."""
    raw = Raw(await connect(server.url, compression=None))
    sid = (await raw.login("dave"))["data"]["session"]
    await raw.ws.close()
    await until(lambda: server.hub.sessions[(APP, "dave")].link is None)
    session = server.hub.sessions[(APP, "dave")]
    count, body = 8000, "m" * 2000
    for i in range(count):
        server.hub.push(session, f.MsgEvent(account="x", msg=f"{i} {body}"))
    ws = await connect(server.url, compression=None, max_queue=2, max_size=None)
    raw = Raw(ws)
    await ws.send(
        json.dumps(
            {
                "op": "login",
                "id": 1,
                "app_id": APP,
                "account": "dave",
                "token": "_no_need_token",
                "resume": {"session": sid, "seq": 0},
            }
        )
    )
    await asyncio.sleep(1.0)  # the client reads nothing meanwhile (its queue holds 2)
    link = session.link
    assert link is not None
    buffered = link.ws.transport.get_write_buffer_size()
    assert buffered < 2 * 1024 * 1024, buffered
    got: list[int] = []
    async with asyncio.timeout(60):
        while len(got) < count:
            frame = json.loads(await ws.recv())
            if frame.get("op") == "event":
                got.append(int(frame["ev"]["msg"].split(" ", 1)[0]))
    assert got == list(range(count))
    await ws.close()
