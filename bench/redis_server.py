"""How a throwaway ``redis-server`` is started and awaited: shared by the cluster bench and
the test fixture (tests/support/redisproc.py), so both run Redis the same way."""

from __future__ import annotations

import asyncio
import socket

__all__ = ["free_port", "redis_argv", "wait_listening"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_argv(
    binary: str, port: int, folder: str, *, durable: bool = False, fsync: str = "always"
) -> list[str]:
    """Loopback only, no snapshots; ``durable`` turns on AOF with ``appendfsync fsync``."""
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    args += ["--dir", folder, "--daemonize", "no", "--loglevel", "warning"]
    if durable:
        return [*args, "--appendonly", "yes", "--appendfsync", fsync]
    return [*args, "--appendonly", "no"]


async def wait_listening(port: int, timeout: float = 20.0) -> None:
    """Until 127.0.0.1:``port`` accepts a connection (TimeoutError after ``timeout``)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return
