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
        self,
        data: Path,
        apps: list[str],
        port: int = 0,
        *,
        extra: list[str] | None = None,
        max_files: int | None = None,
    ) -> None:
        """``extra`` are more command-line flags; ``max_files`` sets the child's open-file
        limit, soft and hard (POSIX), as a small server machine would have it."""
        self.data = data
        self.apps = apps
        self.port = port
        self.extra = extra or []
        self.max_files = max_files
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
            *args,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=None if self.max_files is None else self._limit_files,
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(30):
            line = await self.proc.stdout.readline()
            api_line = b"" if "--no-api" in args else await self.proc.stdout.readline()
        match = URL_LINE.search(line)
        assert match, f"unexpected first line from sigphone-server: {line!r}"
        self.port = int(match.group(2))
        self.url = f"{match.group(1).decode()}:{self.port}"
        api = API_LINE.search(api_line)
        while api is None and "--no-api" not in args:  # a cluster node prints its id first
            async with asyncio.timeout(30):
                api = API_LINE.search(await self.proc.stdout.readline())
        self.api_port = int(api.group(1)) if api else 0

    def _limit_files(self) -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_files, self.max_files))

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
