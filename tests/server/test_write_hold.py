"""The write hold of a busy connection (edges/native.py): channel messages to a connection
that was just written to share a later write; anything else is written in the same turn."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from sigphone.protocol import calls
from sigphone.protocol import channels as c
from sigphone.server.edges import native

from ..support.config import APP
from ..support.raw import Raw


async def _turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_busy_members_messages_share_a_write_and_a_call_event_is_not_held(
    server, monkeypatch
):
    # Both bounds far above any stall of a loaded machine, so the test reads the rule, not
    # the clock: the three messages are held, and only the call event writes them.
    monkeypatch.setattr(native, "BUSY", 60.0)
    monkeypatch.setattr(native, "HOLD", 60.0)
    raw = Raw(await connect(server.url, compression=None))
    await raw.login("member")
    session = server.hub.sessions[(APP, "member")]
    link = session.link
    server.hub.push(session, calls.CallEvent(call="c1", what="start"))
    await _turns()  # written at the end of the turn: the link has just been written to
    assert not link._queue
    for i in (1, 2, 3):
        server.hub.push(session, c.ChannelMessage("room", "x", str(i)))
        await _turns()
    # Busy: the three wait together for one write, past the end of their turns.
    assert len(link._queue) == 3
    server.hub.push(session, calls.CallEvent(call="c1", what="ring"))
    await _turns()  # a call event is never held: written now, behind the held ones
    assert not link._queue
    got = []
    async with asyncio.timeout(5):
        while len(got) < 5:
            got.append(json.loads(await raw.ws.recv())["ev"])
    assert [e.get("msg", e.get("what")) for e in got] == ["start", "1", "2", "3", "ring"]
