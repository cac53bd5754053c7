"""A real ``redis-server`` child process on a free loopback port (apt redis-server)."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import pytest
from bench.redis_server import free_port, redis_argv, wait_listening

from .procserver import stop_child

__all__ = ["RedisProcess", "free_port"]


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
        args = redis_argv(
            self.binary, self.port, str(self.folder), durable=self.durable, fsync=self.fsync
        )
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await wait_listening(self.port)

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
