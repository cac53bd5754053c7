"""sipp as a scripted SIP peer (docs/sip-gateway.md, "Tests"): run a scenario, wait for
its verdict."""

from __future__ import annotations

import asyncio
from pathlib import Path

from .ports import free_port

SCENARIOS = Path(__file__).resolve().parent.parent / "sipgw" / "scenarios"


class Sipp:
    """One sipp process on 127.0.0.1; ``returncode`` 0 means its scenario passed (every
    ``check_it`` held, every expected message came)."""

    def __init__(self, folder: Path, *args: str, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port("udp")
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Sipp:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = await asyncio.create_subprocess_exec(
            "sipp",
            "-i", "127.0.0.1",
            "-p", str(self.port),
            "-m", "1",
            "-nostdin",
            "-timeout", "60s",  # never outlives a broken test
            "-mi", "127.0.0.1",
            "-trace_err",
            *self.args,
            cwd=self.folder,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=(self.folder / "stdout.log").open("wb"),
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        return self

    @staticmethod
    def scenario(name: str) -> str:
        return str(SCENARIOS / name)

    async def wait(self, within: float = 90.0) -> int:
        assert self.proc is not None
        async with asyncio.timeout(within):
            return await self.proc.wait()

    def errors(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.folder.glob("*errors.log"))

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
