"""What the server's front door needs for old clients: the address lookup and the sniff.

The 1.x clients first ask a load balancer ``GET <lbs>/getaddr?vid=APPID`` for access
points, then open a WebSocket to one of them; the same port serves both adapters, told
apart by their first frame (a JSON array for the old clients, an object for ours).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["GETADDR_PATH", "getaddr_body", "getaddr_vid", "is_legacy_frame"]

GETADDR_PATH = "/getaddr"


def getaddr_vid(target: str) -> str | None:
    """The ``vid`` of a getaddr request target, or None if the target is something else.

    The target may be absolute (``http://lbs.sig.agora.io/getaddr?vid=X``) when the client
    reaches us through an HTTP proxy, which is one way to point an old app at us.
    """
    parts = urlsplit(target)
    if parts.path != GETADDR_PATH:
        return None
    return parse_qs(parts.query).get("vid", [""])[0]


def getaddr_body(address: str, port: int) -> dict[str, Any]:
    """The load balancer's answer: access points as ``[ip, port]`` pairs.

    The Python client reads ``web`` and opens ``ws://`` to that port; the JavaScript client
    reads ``web`` too and opens ``wss://<a-b-c-d>-sig-web.agora.io:<port + 1>/``, so a
    deployment puts a TLS proxy on the next port (docs/legacy-clients.md). Both need an IPv4
    address: the JS client builds its host name from the dotted quad.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reached over IPv4
    address = str(ip) if isinstance(ip, ipaddress.IPv4Address) else "127.0.0.1"
    point = [address, port]
    return {"result": "ok", "web": [point], "web2": [point]}


def is_legacy_frame(data: bytes | str) -> bool:
    """True for the old clients' frames (``["command", payload]``), False for anything else,
    which the native adapter answers (with 1004 when it is garbage)."""
    head = data[:64].decode("utf-8", "replace") if isinstance(data, bytes) else data[:64]
    head = head.lstrip()
    return head.startswith("[") and head[1:].lstrip().startswith('"')
