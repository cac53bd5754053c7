"""A real ``redis-server`` child process on a free loopback port (apt redis-server)."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
from pathlib import Path

import pytest

from .procserver import stop_child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """``durable`` turns on AOF with ``appendfsync always`` (the documented cluster setting)."""

    def __init__(self, folder: Path, *, durable: bool = False, fsync: str = "always") -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("the cluster tests need redis-server (apt redis-server; see .ci/run)")
        self.binary = binary
        self.folder = folder
        self.durable = durable
        self.fsync = fsync
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        args += ["--dir", str(self.folder), "--daemonize", "no", "--loglevel", "warning"]
        if self.durable:
            args += ["--appendonly", "yes", "--appendfsync", self.fsync]
        else:
            args += ["--appendonly", "no"]
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        async with asyncio.timeout(20):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.02)
                    continue
                writer.close()
                break

    async def kill(self) -> None:
        """SIGKILL: what Redis had not written to disk is gone."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def restart(self) -> None:
        await self.kill()
        await self.start()  # same port, same folder (the AOF)

    async def stop(self) -> None:
        await stop_child(self.proc)
