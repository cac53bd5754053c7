"""Issue 12, item 2: strangers cannot lock users out (edges/guard.py).

A connection that never logs in is closed at the login deadline; connections waiting to log
in are capped per address and in total; the Server API has a header deadline and a cap;
and under all of it at once, on a server with the common 1,024 open-file limit, ``/healthz``
answers and a user logs in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from sigphone.server import SignalServer

from ..support.config import APP, fast_config, fast_signal
from ..support.procserver import ServerProcess
from ..support.raw import Old, Raw
from ..support.waiting import until


@pytest.fixture
async def strict(tmp_path: Path):
    cfg = fast_config(tmp_path / "data")
    cfg.api_port = 0
    cfg.limits.login_timeout = 0.5
    cfg.limits.max_pending = 8
    cfg.limits.max_pending_per_address = 5
    cfg.api.header_timeout = 0.5
    cfg.api.max_connections = 6
    async with SignalServer(cfg) as srv:
        yield srv


async def _idle() -> None:
    """Wait until waiting connections count as idle (evictable); imported here so that the
    module still loads, and fails test by test, on a server without edges/guard.py."""
    from sigphone.server.edges.guard import MIN_WAIT_BEFORE_EVICTION

    await asyncio.sleep(MIN_WAIT_BEFORE_EVICTION)


async def _closed(ws: ClientConnection, within: float = 10.0) -> ConnectionClosed:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return closed.value


async def _healthz(port: int, local: str = "127.0.0.1") -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            return json.loads(await reader.readexactly(length))
    finally:
        writer.close()


async def test_a_connection_that_never_logs_in_is_closed_at_the_deadline(strict):
    async with connect(strict.url, compression=None) as ws:
        raw = Raw(ws)
        assert (await raw.call({"op": "ping", "id": 1}))["code"] == 0  # pings are answered...
        closed = await _closed(ws)  # ... but do not buy time
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert "log in" in closed.rcvd.reason
    old = Old(await connect(strict.url, compression=None))
    await old.alive()
    closed = await _closed(old.ws)
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    # Logged in in time: the deadline no longer applies.
    async with connect(strict.url, compression=None) as ws:
        assert (await Raw(ws).login("alice"))["code"] == 0
        await asyncio.sleep(1.0)  # twice the deadline
        assert (await Raw(ws).call({"op": "ping", "id": 2}))["code"] == 0


async def test_waiting_connections_are_capped_per_address_and_in_total(strict):
    held: list[ClientConnection] = []
    strict.admission.login_timeout = 30.0  # these wait longer than eviction needs
    try:
        for _ in range(5):
            held.append(await connect(strict.url, compression=None))
        with pytest.raises((ConnectionClosed, InvalidHandshake, OSError, TimeoutError)):
            extra = await connect(strict.url, compression=None, open_timeout=5)
            held.append(extra)
            await extra.recv()
        # Other addresses fill the total (8): the oldest idle connection of the busiest
        # address makes room (idle: older than a login takes, guard.MIN_WAIT_BEFORE_EVICTION).
        await _idle()
        for i in range(2, 6):
            held.append(await connect(strict.url, compression=None, local_addr=(f"127.0.0.{i}", 0)))
        await until(lambda: len(strict.admission.pending) <= 8)
        assert strict.admission.refused >= 2
        # A newcomer from another address is not locked out: probe and login both work.
        assert (await _healthz(strict.port, "127.0.0.9"))["status"] == "ok"
        await _idle()
        ws = await connect(strict.url, compression=None, local_addr=("127.0.0.10", 0))
        held.append(ws)
        assert (await Raw(ws).login("alice"))["code"] == 0
        # The flooding address itself gets no more room.
        assert strict.admission.by_address["127.0.0.1"] <= 5
    finally:
        for ws in held:
            with contextlib.suppress(Exception):
                await ws.close()


async def test_server_api_header_deadline_and_connection_cap(strict):
    port = strict.api.port
    loris = []
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n")  # never finished
        loris.append((reader, writer))
    for reader, _ in loris:  # closed at the header deadline, no answer
        async with asyncio.timeout(10):
            assert await reader.read() == b""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(8)]
    dropped = 0
    for reader, _ in conns:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.3):
                if await reader.read() == b"":
                    dropped += 1
    assert dropped >= 2  # over the cap of 6: closed at once
    for _, writer in conns + loris:
        writer.close()


async def test_strangers_cannot_lock_users_out(tmp_path):
    """The attack of the issue on a server with a 1,024 open-file limit: 1,000 idle WebSocket
    connections from 20 addresses (not the users' own) and 300 slow-loris on the Server API.
    Before: the server ran out of descriptors and nobody could log in."""
    resource = pytest.importorskip("resource")  # POSIX open-file limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 4096:
        pytest.skip("the attacking side needs more than 1,300 open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = ServerProcess(tmp_path / "data", [APP], max_files=1024)
    await server.start()
    idle: list[ClientConnection] = []
    loris: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:

        async def stranger(i: int) -> None:
            with contextlib.suppress(Exception):
                ws = await connect(
                    server.url, compression=None, local_addr=(f"127.0.0.{2 + i % 20}", 0)
                )
                idle.append(ws)

        for start in range(0, 1000, 100):
            await asyncio.gather(*(stranger(i) for i in range(start, start + 100)))
        for _ in range(300):
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.api_port)
                writer.write(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n")
                loris.append((reader, writer))
        # Under the attack (its connections idle): the probe answers and a user logs in.
        await _idle()
        assert (await _healthz(server.port))["status"] == "ok"
        session = await fast_signal(server.url).login("alice", "_no_need_token")
        assert await session.query_user_status("alice") == 1
        await session.logout()
        await asyncio.sleep(0.5)  # let the closes of the last refused connections arrive
        held = sum(1 for ws in idle if ws.close_code is None)
        api_held = sum(1 for r, _ in loris if not r.at_eof() and r.exception() is None)
        print(f"\nattacker holds {held} of {len(idle)} WebSocket connections, {api_held} API")
        assert held <= 256 and api_held <= 128
    finally:
        for ws in idle:
            with contextlib.suppress(Exception):
                ws.transport.abort()
        for _, writer in loris:
            writer.close()
        await server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
