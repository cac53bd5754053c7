"""The signaling server process: store + hub + WebSocket front end + HTTP health."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import http
import json
import logging
import signal
import ssl
from typing import Any, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from sigphone.protocol.limits import MAX_WIRE_BYTES
from sigphone.server.api.server_api import ServerApi
from sigphone.server.backends import make_backend, make_calls, make_channels
from sigphone.server.config import ServerConfig
from sigphone.server.core.hub import Hub
from sigphone.server.edges.guard import (
    Admission,
    capacity,
    open_file_limit,
    raise_open_file_limit,
)
from sigphone.server.edges.legacy import LegacyEdge, getaddr_body, getaddr_vid, is_legacy_frame
from sigphone.server.edges.logs import FRAME_SAFE_LOGGER
from sigphone.server.edges.native import NativeConnection, serve_native
from sigphone.server.services.presence import Presence
from sigphone.server.services.users import Users

__all__ = ["SignalServer"]

log = logging.getLogger("sigphone.server")


class SignalServer:
    """Start with ``await server.start()``; ``server.url`` is then the ws:// address."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store, broker = make_backend(config)
        self.hub = Hub(config.apps, self.store, config.hub, broker=broker)
        self.users = Users(self.hub)
        self.calls = make_calls(self.hub, config.calls)
        self.channels = make_channels(self.hub, config.channels, config.quotas)
        self.presence = Presence(self.hub)
        if config.cluster.redis:  # every node's status and attribute changes
            from sigphone.server.backends.redis.presence import cluster_presence

            cluster_presence(self.hub, self.hub.broker, self.presence)  # type: ignore[arg-type]
        self.api = (
            None
            if config.api_port is None
            else ServerApi(self.hub, self.calls, self.channels, config.api, users=self.users)
        )
        #: The vendor's 1.x client SDKs, on the same port (told apart by their first frame).
        self.legacy = LegacyEdge(self.hub, config.limits)
        self._server: Server | None = None
        self.admission: Admission | None = None
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "wss" if self.config.tls_cert else "ws"
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        await self.store.open()
        await self.hub.start()
        tls: ssl.SSLContext | None = None
        if self.config.tls_cert:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        limits = self.config.limits
        api_cap = self.api.config.max_connections if self.api is not None else 0
        room = capacity(open_file_limit(), limits.max_pending, api_cap)
        log.info("%s", room.describe())
        self.admission = Admission(
            limits.login_timeout, room.pending, limits.max_pending_per_address
        )
        if self.api is not None:
            self.api.config.max_connections = room.api
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            ssl=tls,
            compression=None,
            max_size=MAX_WIRE_BYTES,
            max_queue=64,
            process_request=self._http,
            server_header="sigphone",
            create_connection=cast(  # a factory with this server's rules bound
                type[ServerConnection],
                functools.partial(NativeConnection, admission=self.admission, limits=limits),
            ),
            # Frame logging at DEBUG would quote message bodies: see edges/logs.py.
            logger=FRAME_SAFE_LOGGER,
            # asyncio's default listen backlog (100) overflows in a login storm (a server
            # restart: every client reconnects at once) and the kernel drops SYNs, which
            # clients only retry after 1 s: the bench's p99 time to logged-in was ~1 s.
            backlog=LISTEN_BACKLOG,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        log.info("listening on %s", self.url)
        if self.api is not None:
            assert self.config.api_port is not None
            await self.api.start(self.config.host, self.config.api_port)

    async def close(self) -> None:
        if self.api is not None:
            await self.api.close()
        await self.hub.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.store.close()

    async def __aenter__(self) -> SignalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            body: dict[str, Any] = {"status": "ok", "sessions": len(self.hub.sessions)}
            body.update(self.hub.broker.health())  # a cluster node: its id and Redis
            status = http.HTTPStatus.OK
            if body.get("redis", "ok") != "ok":
                body["status"] = "redis unreachable"
                status = http.HTTPStatus.SERVICE_UNAVAILABLE
            response = connection.respond(status, json.dumps(body) + "\n")
            response.headers["Content-Type"] = "application/json"
            return response
        if getaddr_vid(request.path) is not None:
            return self._getaddr(connection)
        if "upgrade" not in request.headers.get("Connection", "").lower():
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        return None

    def _getaddr(self, connection: ServerConnection) -> Response:
        """The old clients' load-balancer lookup: this server is their only access point."""
        address = self.config.legacy_address or str(connection.local_address[0])
        body = json.dumps(getaddr_body(address, self.port))
        response = connection.respond(http.HTTPStatus.OK, body + "\n")
        response.headers["Content-Type"] = "application/json"
        # The JS client asks with XMLHttpRequest from the application's own origin.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        log.info("connect %s", ws.remote_address)
        try:
            # The first message tells our clients from the vendor's 1.x ones.
            if isinstance(ws, NativeConnection):
                first = await ws.first_message()
            else:
                try:
                    first = await ws.recv(decode=False)
                except ConnectionClosed:
                    first = None
            if first is None:
                return
            if is_legacy_frame(first):
                pending = [first]
                if isinstance(ws, NativeConnection):
                    pending, ws.early = ws.early, []
                    ws.passthrough = True  # the legacy adapter reads with recv()
                await self.legacy.serve(ws, pending)
            elif isinstance(ws, NativeConnection):
                await serve_native(ws, self.hub, self.config.limits)  # takes ws.early
            else:
                await serve_native(ws, self.hub, self.config.limits, first=first)
        finally:
            log.info("disconnect %s", ws.remote_address)


#: Pending connections the kernel queues before accept (capped by net.core.somaxconn).
LISTEN_BACKLOG = 2048
#: Net new container objects before a young garbage collection (CPython's default is 700).
GC_YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """Let short-lived objects die young instead of being promoted and rescanned.

    With the default threshold, a young collection runs every 700 objects; under load the
    futures, events and outbox entries of messages in flight (alive for a few ms until the
    commit or the ack) survive two of them and are promoted, and every few thousand
    promotions trigger a full collection that walks every object of every session. In the
    bench's P2P run (1,000 sessions, ~15 s) that was 11 full collections of 80-150 ms each,
    0.9-1.6 s of CPU and the worst latencies; with this threshold, none. Only *when* cyclic
    garbage is reclaimed changes, never what is reclaimed. A process-wide setting, so the
    server process's entry point applies it, not an embedded ``SignalServer``.
    """
    young, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), gen1, gen2)


async def run_until_cancelled(config: ServerConfig, *, announce: bool = True) -> None:
    """Serve until cancelled (Ctrl+C) or, where the platform has it, SIGTERM."""
    tune_gc()
    limit = raise_open_file_limit()
    if limit is not None:
        log.info("open-file limit raised to %d (hard limit %d)", *limit)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)  # POSIX only; Windows: Ctrl+C
    async with SignalServer(config) as server:
        if announce:
            print(f"sigphone-server listening on {server.url}", flush=True)
            if config.cluster.redis:
                node = server.hub.broker.node_id
                print(f"cluster node {node} on {config.cluster.redis}", flush=True)
            if server.api is not None:
                print(f"Server API on http://{config.host}:{server.api.port}/api/", flush=True)
        await stop.wait()
