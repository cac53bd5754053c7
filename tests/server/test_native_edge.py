"""The native edge's own framing paths: fragmented requests, pipelined requests, early frames.

The server hands each message to the hub as it is parsed and writes each connection's frames
in one write per loop turn (docs/benchmarks.md); these pin the wire behaviour of both.
"""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from ..support.config import APP, NO_TOKEN


async def _recv(ws) -> dict:
    async with asyncio.timeout(5):
        return json.loads(await ws.recv())


async def test_fragmented_request_is_reassembled(server):
    login = json.dumps(
        {"op": "login", "id": 1, "app_id": APP, "account": "frag", "token": NO_TOKEN}
    )
    async with connect(server.url, compression=None) as ws:
        await ws.send(iter([login[:10], login[10:30], login[30:]]))  # three frames
        reply = await _recv(ws)
        assert reply["op"] == "reply" and reply["id"] == 1 and "code" not in reply
        await ws.send(iter([b'{"op":"ping",', b'"id":2}']))  # binary fragments too
        reply = await _recv(ws)
        assert reply["id"] == 2 and "time" in reply["data"]


async def test_pipelined_requests_behind_a_login_keep_their_order(server):
    """Requests sent right behind a login wait for it, and are answered in order."""
    async with connect(server.url, compression=None) as ws:
        frames = [{"op": "login", "id": 1, "app_id": APP, "account": "pipe", "token": NO_TOKEN}]
        frames += [{"op": "ping", "id": i} for i in range(2, 200)]
        for frame in frames:
            await ws.send(json.dumps(frame))
        ids = [(await _recv(ws))["id"] for _ in frames]
        assert ids == list(range(1, 200))
