"""Issue 17: acknowledgements on the wire, against a real server. A cumulative ack riding on
a request drops the outbox like an ack frame; the compact ack frame the SDK writes and any
other spelling of it are both applied; bad ones are refused with 1004."""

from __future__ import annotations

from websockets.asyncio.client import connect

from sigphone.server import SignalServer

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.raw import Raw
from ..support.waiting import until


async def test_acks_on_requests_and_in_both_spellings_drop_the_outbox(tmp_path):
    async with SignalServer(fast_config(tmp_path / "data")) as srv:
        ws = await connect(srv.url, compression=None)
        bob = Raw(ws)
        assert (await bob.login("bob"))["code"] == 0
        alice = await fast_signal(srv.url).login("alice", NO_TOKEN)
        for i in range(4):
            await alice.message_instant_send("bob", f"m{i}")
        seqs = []
        while len(seqs) < 4:
            frame = await bob.recv()
            if frame.get("op") == "event" and frame["ev"]["t"] == "msg":
                seqs.append(frame["seq"])
        session = srv.hub.sessions[(APP, "bob")]

        def outbox() -> list[int]:
            return [entry.seq for entry in session.outbox]

        assert outbox() == seqs
        reply = await bob.call({"op": "ping", "id": 5, "ack": seqs[1]})  # rides on a request
        assert reply["id"] == 5 and reply["code"] == 0
        assert outbox() == seqs[2:]
        await bob.send(f'{{"op":"ack","seq":{seqs[2]}}}')  # the SDK's compact frame
        await until(lambda: outbox() == seqs[3:])
        await bob.send(f'{{"seq": {seqs[3]}, "op": "ack"}}')  # any other spelling: decoded
        await until(lambda: outbox() == [])
        bad = await bob.call('{"op":"ack","seq":-1}')
        assert bad["op"] == "error" and bad["code"] == 1004
        bad = await bob.call({"op": "ping", "id": 6, "ack": -1})
        assert bad["id"] == 6 and bad["code"] == 1004
        await ws.close()
        # The durable inbox forgot what was acknowledged: a fresh login gets none of it again
        # (the store runs its operations in order: the deletes before this login's load).
        ws = await connect(srv.url, compression=None)
        bob = Raw(ws)
        assert (await bob.login("bob"))["code"] == 0
        await bob.send({"op": "ping", "id": 2})
        frames = []
        while not (frames and frames[-1].get("id") == 2):
            frames.append(await bob.recv())
        assert [f for f in frames if f.get("op") == "event" and f["ev"]["t"] == "msg"] == []
        await ws.close()
        await alice.logout()
