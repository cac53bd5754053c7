"""Hand-driven clients of both wire formats: send anything, read the answers.

``Raw`` speaks the native protocol and ``Old`` the 1.x clients' wire format, so a test can
play a misbehaving party (what the real clients never send) while SDK sessions watch.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from .config import APP, NO_TOKEN


class Raw:
    """A hand-driven client: send any bytes, read the replies."""

    def __init__(self, ws) -> None:
        self.ws = ws

    async def send(self, payload: bytes | str | dict) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        await self.ws.send(payload)

    async def recv(self) -> dict:
        """The next frame; a reply without ``code`` succeeded (the protocol omits 0)."""
        async with asyncio.timeout(5):
            frame = json.loads(await self.ws.recv())
        if frame.get("op") == "reply":
            frame.setdefault("code", 0)
        return frame

    async def call(self, payload) -> dict:
        await self.send(payload)
        return await self.recv()

    async def login(self, account: str, resume: dict | None = None) -> dict:
        """Log in, or resume ``{"session": sid, "seq": n, "ack": n}``."""
        frame = {"op": "login", "id": 1, "app_id": APP, "account": account, "token": NO_TOKEN}
        if resume is not None:
            frame["resume"] = resume
        return await self.call(frame)


class Old:
    """A hand-driven legacy connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.callid = 0
        self.pushed: list[Any] = []

    async def send(self, command: str, payload: Any) -> None:
        await self.ws.send(json.dumps([command, payload]))

    async def recv(self) -> list[Any]:
        async with asyncio.timeout(10):
            return json.loads(await self.ws.recv())

    async def expect(self, command: str) -> Any:
        """The payload of the next ``command`` frame (other frames before it are kept for
        later calls, in order)."""
        for i, frame in enumerate(self.pushed):
            if frame[0] == command:
                del self.pushed[i]
                return frame[1]
        while True:
            frame = await self.recv()
            if frame[0] == command:
                return frame[1]
            self.pushed.append(frame)

    async def login(self, account: str, vid: str = APP, token: str = NO_TOKEN) -> tuple[str, dict]:
        args = {"vid": vid, "account": account, "token": token, "uid": 0, "device": "websdk"}
        await self.send("login", args)
        err, body = await self.expect("login_ret")
        return err, json.loads(body)

    async def call2(self, func: str, args: dict[str, Any]) -> tuple[str, dict]:
        self.callid += 1
        await self.send("call2", [func, self.callid, {"line": "x", **args}])
        while True:
            callid, err, body = await self.expect("call2-ret")
            if callid == self.callid:
                return err, json.loads(body)

    async def alive(self) -> None:
        """Answers a ping (earlier pongs, e.g. to a fuzzed ping, are skipped)."""
        await self.send("ping", 41)
        while await self.expect("pong") != 41:
            pass
