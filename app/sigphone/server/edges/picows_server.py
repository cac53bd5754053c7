"""The WebSocket port on picows: plain HTTP answers, upgrades to ``PicowsConnection``."""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from picows import (
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from sigphone.protocol.limits import MAX_WIRE_BYTES
from sigphone.server.edges.guard import Admission
from sigphone.server.edges.native import EdgeLimits
from sigphone.server.edges.picows_edge import PicowsConnection
from sigphone.server.edges.wire import FrontDoor, Listen

__all__ = ["READ_BUFFER_BYTES", "serve_picows"]

#: picows' first read buffer per connection (it doubles when a read does not fit). Its
#: default of 16 KiB alone was more than the whole idle-session target (12 KB); our
#: requests and acks are under 1 KiB, and picows takes at least 2 KiB.
READ_BUFFER_BYTES = 2048
#: Seconds a new connection has to finish its HTTP request (a slow-loris sends its headers
#: a byte at a time); the login deadline (edges/guard.py) starts after it.
HANDSHAKE_TIMEOUT = 10.0

# picows logs every connect and disconnect at INFO (the front door logs them already) and
# frames at its debug level 9: this edge's logger stays at WARNING so no body is logged.
_LOG = logging.getLogger("sigphone.server.picows")
_LOG.setLevel(logging.WARNING)
#: An adapter, not the logger: picows creates a child Logger per connection for a Logger
#: (~1 KB each, never freed from the logging tree's parent links until the connection goes).
_LOGGER = logging.LoggerAdapter(_LOG, {})


async def serve_picows(
    door: FrontDoor, where: Listen, limits: EdgeLimits, admission: Admission | None
) -> asyncio.Server:
    """Listen on ``where``: ``/healthz``, ``/getaddr`` and 404 answered as plain HTTP,
    WebSocket upgrades handed to ``door.connected`` (no compression: picows offers none)."""

    def route(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
        target = request.path.decode("latin-1")
        answer = door.http_answer(target, request.headers.get("Connection", ""), _host(request))
        if answer is None:
            listener = PicowsConnection(admission, limits, door.connected)
            response = WSUpgradeResponse.create_101_response({"Server": "sigphone"})
            return WSUpgradeResponseWithListener(response, listener)
        status, body, headers = answer
        headers["Server"] = "sigphone"
        if status < 400:
            response = WSUpgradeResponse.create_ok_response(body.encode(), headers)
            response.status = status
        else:
            response = WSUpgradeResponse.create_error_response(status, body.encode(), headers)
        return WSUpgradeResponseWithListener(response, None)

    server: asyncio.Server = await ws_create_server(
        route,
        where.host,
        where.port,
        ssl=where.tls,
        backlog=where.backlog,
        max_frame_size=MAX_WIRE_BYTES,
        read_buffer_init_size=READ_BUFFER_BYTES,
        websocket_handshake_timeout=HANDSHAKE_TIMEOUT,
        logger_name=_LOGGER,
        # Pongs are ours (picows_edge.py): pings count against the rate, pongs the send bound.
        enable_auto_pong=False,
        # Plain asyncio transports: the same on every loop (qasync, the Windows proactor).
        use_aiofastnet=False,
    )
    return server


def _host(request: WSUpgradeRequest) -> str | None:
    """The address in the Host header when it is an IP literal (what the client reached).

    picows hands the router the request only, not the socket; the absolute-target form of
    getaddr (through an HTTP proxy) names the vendor's host instead, and then the address
    the port listens on is used (app.py).
    """
    host = request.headers.get("Host", "")
    if host.startswith("["):
        return host[1:].split("]", 1)[0] or None
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None
