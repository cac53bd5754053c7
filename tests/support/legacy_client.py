"""The vendor's unmodified clients in subprocesses, as a test sees them.

A driver process runs one client: ``tests/support/legacy_py_driver.py`` the Python one on its
twisted reactor, ``tests/legacy_js/driver.mjs`` the JS one in headless Chromium. Both take
JSON-line commands on stdin and print the client's callbacks as JSON lines; this side
writes the commands and collects the callbacks. The only redirection is of the network:
``HTTP_PROXY`` for the Python client (as an office proxy would do), request routing in the
browser for the JS one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .waiting import until

PY_DRIVER = Path(__file__).with_name("legacy_py_driver.py")
JS_DIR = Path(__file__).resolve().parents[1] / "legacy_js"


class LegacyClient:
    """One legacy client process; ``events`` are its callbacks in arrival order."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def python(cls, port: int, log: Path) -> LegacyClient:
        """The Python client: its lookup of lbs.sig.agora.io goes through our server."""
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
        env["HTTP_PROXY"] = env["http_proxy"] = f"http://127.0.0.1:{port}"
        return await cls._start([sys.executable, str(PY_DRIVER)], env, log)

    @classmethod
    async def javascript(cls, port: int, log: Path) -> LegacyClient:
        """The JS client in headless Chromium, its lookup and WebSocket routed to us."""
        argv = ["node", "--experimental-websocket", str(JS_DIR / "driver.mjs"), str(port)]
        return await cls._start(argv, dict(os.environ), log, within=60.0)

    @classmethod
    async def _start(
        cls, argv: list[str], env: dict[str, str], log: Path, within: float = 20.0
    ) -> LegacyClient:
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=env,
            )
        client = cls(proc, log)
        await client.wait("ready", within=within)
        return client

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def do(self, op: str, **args: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}).encode() + b"\n")

    def of(self, ev: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["ev"] == ev]

    async def wait(self, ev: str, count: int = 1, within: float = 20.0) -> dict[str, Any]:
        """The ``count``-th event named ``ev`` (waiting for it); fails with the client log."""
        try:
            await until(lambda: len(self.of(ev)) >= count, within=within)
        except TimeoutError:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"no {ev!r} #{count}; events {self.events}\n{tail}") from None
        return self.of(ev)[count - 1]

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.do("quit")
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        errors = self.of("driver_error") + self.of("page_error")
        assert not errors, errors
