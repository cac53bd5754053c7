"""The signaling server process: store + hub + WebSocket front end + HTTP health."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import http
import ipaddress
import json
import logging
import signal
import ssl
from collections.abc import Coroutine
from typing import Any

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
from sigphone.server.edges.native import NativeRun, end_native, start_native
from sigphone.server.edges.picows_server import serve_picows
from sigphone.server.edges.wire import Listen, Wire
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
        self._server: asyncio.Server | None = None
        #: Open WebSocket connections and the tasks that end them (closed on close()).
        self._connections: set[Wire] = set()
        self._handlers: set[asyncio.Task[None]] = set()
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
        # asyncio's default listen backlog (100) overflows in a login storm (a server
        # restart: every client reconnects at once) and the kernel drops SYNs, which
        # clients only retry after 1 s: the bench's p99 time to logged-in was ~1 s.
        where = Listen(self.config.host, self.config.port, tls, LISTEN_BACKLOG)
        admission = self.admission
        self._server = await serve_picows(self, where, limits, admission)
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
            await self._close_connections()
            await self._server.wait_closed()
        await self.store.close()

    async def _close_connections(self) -> None:
        """Close the open connections (1001; asyncio's server leaves them open) and wait for
        the tasks ending them; one that does not answer is dropped."""
        connections = list(self._connections)
        if connections:
            closing = [ws.close(1001, "server shutting down") for ws in connections]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await asyncio.gather(*closing, return_exceptions=True)
            for ws in connections:
                ws.transport.abort()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=10.0)

    async def __aenter__(self) -> SignalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    def http_answer(
        self, target: str, connection: str, local: str | None
    ) -> tuple[http.HTTPStatus, str, dict[str, str]] | None:
        """The answer to a plain HTTP request on the WebSocket port (status, body, headers),
        or None for a WebSocket upgrade; ``local`` is the address the client reached."""
        path = target.split("?", 1)[0]
        if path == "/healthz":
            body: dict[str, Any] = {"status": "ok", "sessions": len(self.hub.sessions)}
            body.update(self.hub.broker.health())  # a cluster node: its id and Redis
            status = http.HTTPStatus.OK
            if body.get("redis", "ok") != "ok":
                body["status"] = "redis unreachable"
                status = http.HTTPStatus.SERVICE_UNAVAILABLE
            return status, json.dumps(body) + "\n", {"Content-Type": "application/json"}
        if getaddr_vid(target) is not None:
            # The old clients' load-balancer lookup: this server is their only access point.
            address = self.config.legacy_address or local or self._bound_address()
            headers = {
                "Content-Type": "application/json",
                # The JS client asks with XMLHttpRequest from the application's own origin.
                "Access-Control-Allow-Origin": "*",
            }
            return http.HTTPStatus.OK, json.dumps(getaddr_body(address, self.port)) + "\n", headers
        if "upgrade" not in connection.lower():
            return http.HTTPStatus.NOT_FOUND, "not found\n", {}
        return None

    def _bound_address(self) -> str:
        """The address this port listens on, when it is one address (else getaddr_body's
        fallback; a server on every interface sets ``legacy_address``)."""
        try:
            ip = ipaddress.ip_address(self.config.host)
        except ValueError:
            return ""
        return "" if ip.is_unspecified else str(ip)

    def connected(self, ws: Wire) -> None:
        """A WebSocket connection is open: no task runs for it; its first message picks the
        adapter (``_first``), its close ends it (``_gone``)."""
        log.info("connect %s", ws.remote_address)
        self._connections.add(ws)
        ws.on_message = functools.partial(self._first, ws)
        ws.on_close = functools.partial(self._gone, ws, None)

    def _first(self, ws: Wire, data: bytes) -> None:
        """The first message tells our clients from the vendor's 1.x ones."""
        ws.on_message = None
        ws.early.insert(0, data)
        if is_legacy_frame(data):
            ws.on_close = None  # the legacy adapter's queue takes it
            self._spawn(self._legacy(ws))  # reads at its own pace: a task
        else:
            inbound = start_native(ws, self.hub, self.config.limits)  # takes ws.early
            ws.on_close = functools.partial(self._gone, ws, inbound)

    async def _legacy(self, ws: Wire) -> None:
        pending, ws.early = ws.early, []
        try:
            await self.legacy.serve(ws, pending)
        finally:
            self._gone(ws, None)

    def _gone(self, ws: Wire, inbound: NativeRun | None) -> None:
        self._connections.discard(ws)
        log.info("disconnect %s", ws.remote_address)
        if inbound is not None:
            self._spawn(end_native(inbound))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)


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
