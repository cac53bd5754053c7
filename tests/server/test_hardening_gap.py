"""Issue 12, item 6: others flooding a channel during a member's reconnect window never end
its session; the member gets a gap signal and a fresh snapshot instead (ch_gap, ch_joined)."""

from __future__ import annotations

from websockets.asyncio.client import connect

from sigphone.server import SignalServer

from ..support.config import APP, fast_config, fast_signal
from ..support.raw import Raw
from ..support.waiting import until


async def test_a_channel_flood_in_the_reconnect_window_resyncs_instead_of_ending(tmp_path):
    cfg = fast_config(tmp_path / "data")
    cfg.hub.max_outbox = 50
    async with SignalServer(cfg) as srv:
        ws = await connect(srv.url, compression=None)
        raw = Raw(ws)
        sid = (await raw.login("lagger"))["data"]["session"]
        await raw.send({"op": "ch_join", "id": 2, "channel": "room"})
        seq = 0
        while True:  # the join's snapshot and reply
            frame = await raw.recv()
            seq = max(seq, frame.get("seq", 0))
            if frame.get("op") == "reply":
                break
        await raw.send({"op": "ack", "seq": seq})
        await ws.close()
        await until(lambda: srv.hub.sessions[(APP, "lagger")].link is None)

        talker = await fast_signal(srv.url).login("talker", "_no_need_token")
        room = await talker.channel_join("room")
        for i in range(120):  # more than the lagger's outbox holds
            await room.message_channel_send(f"m{i}")
        session = srv.hub.sessions.get((APP, "lagger"))
        assert session is not None and not session.closed  # before: ended with 102

        ws = await connect(srv.url, compression=None)
        raw = Raw(ws)
        reply = await raw.login("lagger", resume={"session": sid, "seq": seq, "ack": seq})
        assert reply["code"] == 0 and reply["data"]["resumed"] is True
        kinds: list[str] = []
        messages: list[str] = []
        while "ch_joined" not in kinds:
            frame = await raw.recv()
            if frame.get("op") != "event":
                continue
            ev = frame["ev"]
            kinds.append(ev["t"])
            if ev["t"] == "ch_msg":
                messages.append(ev["msg"])
            elif ev["t"] == "ch_gap":
                assert ev["channel"] == "room" and ev["dropped"] > 0
            await raw.send({"op": "ack", "seq": frame["seq"]})
        assert kinds[-2:] == ["ch_gap", "ch_joined"]
        assert messages == [f"m{i}" for i in range(len(messages))]  # in order up to the gap
        # Live again: the next message arrives after the snapshot.
        await room.message_channel_send("after")
        while True:
            frame = await raw.recv()
            if frame.get("op") == "event" and frame["ev"]["t"] == "ch_msg":
                assert frame["ev"]["msg"] == "after"
                break
        assert srv.channels.member_count(APP, "room") == 2
        await ws.close()
        await talker.logout()
