"""baresip as a far SIP phone for the gateway tests (docs/sip-gateway.md, "Tests").

It listens on 127.0.0.1 only, auto-answers, plays a sine (``ausine``) as its microphone,
records what it hears (``sndfile``: ``dump-*-dec.wav``) and reports events as netstring JSON
on its ``ctrl_tcp`` socket (CALL_INCOMING, CALL_ESTABLISHED, CALL_DTMF_START, CALL_CLOSED).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from .ports import free_port


class Baresip:
    def __init__(
        self,
        folder: Path,
        *,
        user: str = "bob",
        answer: str = "auto",
        tone_hz: int = 600,
        codecs: str = "PCMU,PCMA",
    ) -> None:
        self.folder = folder
        self.user = user
        self.answer = answer
        self.tone_hz = tone_hz
        self.codecs = codecs
        self.sip_port = free_port("both")  # baresip listens on UDP and TCP
        self.ctrl_port = free_port("tcp")
        self.proc: asyncio.subprocess.Process | None = None
        self.recording_rate = 8000
        self.events: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    def _write_config(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        modules = ["g711", "g722", "alsa", "ausine", "sndfile", "account", "menu", "ctrl_tcp"]
        lines = [
            "module_path /usr/lib/baresip/modules",
            f"sip_listen 127.0.0.1:{self.sip_port}",
            "net_interface 127.0.0.1",
            "audio_player alsa,null",
            f"audio_source ausine,{self.tone_hz}",
            "audio_alert alsa,null",
            "ausrc_srate 48000",
            "ausrc_channels 2",
            f"snd_path {self.folder}",
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            "rtp_ports 20000-29999",
            *(f"module {m}.so" for m in modules[:5]),
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
        ]
        (self.folder / "config").write_text("\n".join(lines) + "\n")
        account = (
            f"<sip:{self.user}@127.0.0.1:{self.sip_port}>;regint=0;"
            f"answermode={self.answer};audio_codecs={self.codecs}\n"
        )
        (self.folder / "accounts").write_text(account)
        (self.folder / "contacts").write_text("")

    async def start(self) -> None:
        """Start and connect to its control socket. A port taken between our probe and
        baresip's bind (other processes on the machine) gets fresh ports, up to 3 tries."""
        for attempt in range(3):
            try:
                await self._start()
                return
            except RuntimeError:
                if attempt == 2 or "in use" not in self._log():
                    raise
                self.sip_port, self.ctrl_port = free_port("both"), free_port("tcp")

    def _log(self) -> str:
        path = self.folder / "stdout.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def _start(self) -> None:
        self._write_config()
        self.proc = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(self.folder),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=(self.folder / "stdout.log").open("wb"),
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(20):
            while True:
                try:
                    self._reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.ctrl_port
                    )
                    break
                except OSError:
                    if self.proc.returncode is not None:
                        raise RuntimeError("baresip exited; see stdout.log") from None
                    await asyncio.sleep(0.05)
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self._reader is not None
        while True:
            try:
                length = await self._reader.readuntil(b":")
                body = await self._reader.readexactly(int(length[:-1]) + 1)  # + the ","
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                return
            msg = json.loads(body[:-1])
            (self.events if msg.get("event") else self.responses).append(msg)

    async def command(self, command: str, params: str = "") -> None:
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    def types(self) -> list[str]:
        return [e.get("type", "") for e in self.events]

    def event(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("type") == kind), None)

    def dtmf(self) -> str:
        return "".join(e.get("param", "") for e in self.events if e["type"] == "CALL_DTMF_START")

    def recording(self) -> np.ndarray:
        """What baresip has heard so far (its decoder's dump), mono float at
        ``recording_rate``. Read while it grows: the WAV header's length is only filled in
        when the call closes, so the samples after the header are taken as they are."""
        files = sorted(self.folder.glob("dump-*-dec.wav"))
        if not files:
            return np.zeros(0, dtype=np.float32)
        raw = files[-1].read_bytes()
        if len(raw) < 44:
            return np.zeros(0, dtype=np.float32)
        # sndfile writes the canonical 44-byte header: channels at 22, rate at 24.
        channels = int.from_bytes(raw[22:24], "little") or 1
        self.recording_rate = int.from_bytes(raw[24:28], "little") or 8000
        raw = raw[44:]
        usable = len(raw) // (2 * channels) * 2 * channels
        data = np.frombuffer(raw[:usable], dtype=np.int16)
        return data.reshape(-1, channels)[:, 0].astype(np.float32) / 32768.0

    async def stop(self) -> None:
        """Quit (idempotent): the recording is complete afterwards."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self.command("quit")
            self._writer.close()
            self._writer = None
        if self.proc is not None and self.proc.returncode is None:
            try:
                async with asyncio.timeout(5):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
