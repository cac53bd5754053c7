"""Free loopback ports for child processes that cannot report the port they bound."""

from __future__ import annotations

import socket


def free_port(kind: str = "udp") -> int:
    """A port free for ``kind`` ("udp", "tcp" or "both") on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            if kind == "udp":
                return port
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")
