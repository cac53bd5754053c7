"""Issue 12, items 3, 7, 8, 11: ping floods, deep JSON, odd digits, and bodies in logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import struct
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect

from sigphone.protocol.api_auth import sign
from sigphone.protocol.errors import ErrorCode
from sigphone.sdk.server_api import signed_headers
from sigphone.server import SignalServer

from ..support.config import APP, CERT, CERT_APP, fast_config
from ..support.procserver import ServerProcess
from ..support.raw import Old, Raw
from ..support.waiting import until

DEEP = 20_000


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; a zero mask keeps the payload as it is)."""
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + b"\0\0\0\0" + payload


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for memory")
async def test_a_ping_flood_from_a_client_that_never_reads_is_cut_off(tmp_path):
    """Item 3. Before: the automatic pongs grew the server by ~150 MB in 7 s."""
    server = ServerProcess(tmp_path / "data", [APP])
    await server.start()
    assert server.proc is not None
    try:
        before = _rss_kib(server.proc.pid)
        sent, cut = await _flood_pings(server.port, 7.0)
        grown_mb = (_rss_kib(server.proc.pid) - before) / 1024
        print(f"\nping flood: {sent} pings sent, server grew {grown_mb:.1f} MB, cut off: {cut}")
        assert cut, "the flooding connection was never cut off"
        assert grown_mb < 40
    finally:
        await server.stop()


async def _flood_pings(port: int, seconds: float) -> tuple[int, bool]:
    """Pings as fast as the socket takes them from a client that never reads; returns
    (pings sent, whether the server cut the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.transport.pause_reading()  # never read a pong
    batch = _masked(0x9, b"p" * 125) * 1000
    sent = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not writer.transport.is_closing():
            writer.write(batch)
            async with asyncio.timeout(1.0):
                await writer.drain()
            sent += 1000
    except (ConnectionError, TimeoutError):
        pass
    cut = writer.transport.is_closing() or time.monotonic() < deadline
    writer.close()
    return sent, cut


async def test_pongs_count_against_the_send_bound(tmp_path):
    """With the ping rate allowed, the pongs a client never reads fill its send bound and
    it is cut off as a slow consumer, like any other frames."""
    cfg = fast_config(tmp_path / "data")
    cfg.limits.rate = cfg.limits.burst = 1e9
    cfg.limits.send_queue_bytes = 64 * 1024
    async with SignalServer(cfg) as srv:
        sent, cut = await _flood_pings(srv.port, 20.0)
    assert cut, f"not cut off after {sent} pings"


# --- Item 7: JSON nested 20,000 deep -------------------------------------------------------


async def test_deep_json_is_1004_and_the_native_connection_lives(server):
    async with connect(server.url, compression=None) as ws:
        raw = Raw(ws)
        await raw.send("[" * DEEP + "]" * DEEP)
        assert (await raw.recv())["code"] == ErrorCode.GENERAL_E_WRONG_PARAM
        deep_args = (
            '{"op":"invoke","id":5,"func":"f","args":' + '{"a":' * 10_000 + "1" + "}" * 10_000
        )
        await raw.send(deep_args + "}")
        assert (await raw.recv())["code"] == ErrorCode.GENERAL_E_WRONG_PARAM
        assert (await raw.login("alice"))["code"] == 0  # the same connection


async def test_deep_json_is_1004_and_the_legacy_connection_lives(server):
    old = Old(await connect(server.url, compression=None))
    try:
        await old.login("alice")
        await old.ws.send('["call2", ["user_sendmsg", 7, ' + "[" * DEEP + "]" * DEEP + "]]")
        frame = await old.recv()
        assert frame[0] in ("error", "call2-ret")
        body = frame[1] if frame[0] == "error" else json.loads(frame[1][2])
        assert body["code"] == ErrorCode.GENERAL_E_WRONG_PARAM
        await old.alive()
    finally:
        await old.ws.close()


async def test_deep_json_body_is_1004_on_the_server_api(tmp_path):
    cfg = fast_config(tmp_path / "data")
    cfg.api_port = 0
    async with SignalServer(cfg) as srv, aiohttp.ClientSession() as http:
        path = "/api/v1/users/bob/messages"
        body = ('{"msg":' + "[" * DEEP + "]" * DEEP + "}").encode()
        headers = signed_headers(CERT_APP, CERT, "POST", path, body)
        url = f"http://127.0.0.1:{srv.api.port}{path}"
        async with http.post(url, data=body, headers=headers) as r:
            assert r.status == 400
            assert (await r.json())["code"] == ErrorCode.GENERAL_E_WRONG_PARAM


# --- Item 8: a timestamp of non-ASCII digits ------------------------------------------------


@pytest.mark.parametrize("stamp", ["¹²³", "١٢٣٤٥٦٧٨٩٠"])
async def test_non_ascii_digit_timestamp_is_401(tmp_path, stamp):
    """Digits that str.isdigit() accepts but int() does not (superscripts) gave HTTP 500."""
    cfg = fast_config(tmp_path / "data")
    cfg.api_port = 0
    async with SignalServer(cfg) as srv:
        path = "/api/v1/users/bob/status"
        nonce = "n0nce-123456"
        headers = {  # correctly signed, so the timestamp itself is what gets parsed
            "X-Sigphone-App": CERT_APP,
            "X-Sigphone-Timestamp": stamp,
            "X-Sigphone-Nonce": nonce,
            "X-Sigphone-Signature": sign(CERT, "GET", path, stamp, nonce),
        }
        head = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.api.port)
        writer.write(head.encode("utf-8"))  # raw UTF-8 header bytes, as an attacker sends
        async with asyncio.timeout(10):
            answer = await reader.read()
        writer.close()
        status = answer.split(b" ", 2)[1]
        assert status == b"401", answer[:200]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == ErrorCode.LOGIN_E_TOKENWRONG


# --- Item 11: message bodies never reach the logs -----------------------------------------


async def test_message_bodies_never_reach_the_logs_at_debug(tmp_path, login, caplog):
    secret = "hush42"  # short: the library's frame lines show 75 characters
    cfg = fast_config(tmp_path / "data")
    cfg.api_port = 0
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        async with SignalServer(cfg) as srv:
            async with connect(srv.url, compression=None) as ws:
                raw = Raw(ws)
                await raw.login("alice")
                await raw.call({"op": "send", "id": 2, "peer": "b", "msg": secret})
            old = Old(await connect(srv.url, compression=None))
            await old.login("carol")
            await old.call2("user_sendmsg", {"peer": "b", "content": secret})
            await old.ws.close()
            path = "/api/v1/users/bob/messages"
            data = json.dumps({"msg": secret}).encode()
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{srv.api.port}{path}"
                headers = signed_headers(CERT_APP, CERT, "POST", path, data)
                async with http.post(url, data=data, headers=headers) as r:
                    assert r.status == 200
            await until(lambda: True)
    # The server's records (the test's own client library logs its frames too).
    records = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    assert any("TEXT" in r.getMessage() for r in records), "frame logging not exercised"
    leaked = [r.getMessage() for r in records if secret in r.getMessage()]
    leaked += [r.exc_text for r in records if r.exc_text and secret in r.exc_text]
    assert not leaked, leaked[:3]
