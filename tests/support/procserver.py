"""The real ``sigphone-server`` as a child process, so tests can kill -9 and restart it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

URL_LINE = re.compile(rb"listening on (ws://\S+):(\d+)")
API_LINE = re.compile(rb"Server API on http://\S+:(\d+)/")


class ServerProcess:
    def __init__(
        self, data: Path, apps: list[str], port: int = 0, extra: list[str] | None = None
    ) -> None:
        self.data = data
        self.apps = apps
        self.port = port
        #: More command-line flags (a cluster node: --redis URL --node-id ID).
        self.extra = list(extra or [])
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.api_port = 0

    async def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "sigphone.server.cli",
            "--port",
            str(self.port),
            "--api-port",
            "0",  # a free port: fixed ports collide with anything else on the machine
            "--data",
            str(self.data),
            "--log-level",
            "WARNING",
        ]
        for app in self.apps:
            args += ["--app", app]
        args += self.extra
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            line = await self.proc.stdout.readline()
        match = URL_LINE.search(line)
        assert match, f"unexpected first line from sigphone-server: {line!r}"
        self.port = int(match.group(2))
        self.url = f"{match.group(1).decode()}:{self.port}"
        async with asyncio.timeout(30):  # then the Server API's line (--api-port 0: a free one)
            while not (api := API_LINE.search(await self.proc.stdout.readline())):
                pass
        self.api_port = int(api.group(1))

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def restart(self) -> None:
        await self.kill()
        await self.start()  # same port, same data folder

    async def stop(self) -> None:
        await stop_child(self.proc)


async def stop_child(proc: asyncio.subprocess.Process | None) -> None:
    """SIGTERM and wait; SIGKILL if it has not ended within 10 s."""
    if proc is not None and proc.returncode is None:
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
