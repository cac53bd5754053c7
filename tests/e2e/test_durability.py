"""Lossless delivery (A5, DESIGN "Delivery semantics"): crashes, restarts and network cuts.

The server here is the real ``sigphone-server`` process, killed with SIGKILL; the network is a
real TCP proxy that the tests cut at random.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from pathlib import Path

import pytest

from sigphone.sdk import Session

from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.netfault import FaultyLink
from ..support.procserver import ServerProcess
from ..support.waiting import until


@pytest.fixture
async def proc_server(tmp_path: Path):
    server = ServerProcess(tmp_path / "data", [APP])
    await server.start()
    yield server
    await server.stop()


async def test_offline_messages_survive_kill_9(proc_server: ServerProcess):
    alice = await fast_signal(proc_server.url).login("alice", NO_TOKEN)
    for i in range(100):
        await alice.message_instant_send("bob", f"message {i}")
    await alice.logout()

    await proc_server.restart()  # kill -9, then start again on the same data

    bob = await fast_signal(proc_server.url).login("bob", NO_TOKEN)
    got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
    await until(lambda: len(got) >= 100)
    await asyncio.sleep(0.2)  # would let a duplicate show up; the assertion is exact
    assert got == [f"message {i}" for i in range(100)]
    await bob.logout()

    # Acknowledged messages are gone for good: a new login gets nothing again.
    bob2 = await fast_signal(proc_server.url).login("bob", NO_TOKEN)
    again: list[str] = []
    bob2.on_message_instant_receive = lambda account, uid, msg: again.append(msg)
    await bob2.message_instant_send("bob", "marker")
    await until(lambda: again)
    assert again == ["marker"]
    await bob2.logout()


class Checker:
    """Records what every receiver got and judges it: lost, duplicated, reordered."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], int] = defaultdict(int)  # (from, to) -> count acked
        self.received: dict[tuple[str, str], list[int]] = defaultdict(list)

    def on_receive(self, me: str):
        def callback(account: str, uid: int, msg: str) -> None:
            sender, number = msg.split(":")
            assert sender == account
            self.received[(account, me)].append(int(number))

        return callback

    def total_received(self) -> int:
        return sum(len(v) for v in self.received.values())

    def verdict(self) -> dict[str, int]:
        lost = duplicated = reordered = 0
        for pair, count in self.sent.items():
            got = self.received.get(pair, [])
            seen = set(got)
            lost += sum(1 for n in range(count) if n not in seen)
            duplicated += len(got) - len(seen)
            reordered += sum(1 for a, b in itertools.pairwise(got) if b <= a)
        return {"lost": lost, "duplicated": duplicated, "reordered": reordered}


async def test_jepsen_style_no_loss_no_duplicates_no_reordering(tmp_path: Path):
    """>= 2,000 messages among 5 users while connections are cut at random and the server
    is killed (SIGKILL) and restarted twice; every message arrives exactly once, in order."""
    server = ServerProcess(tmp_path / "data", [APP])
    await server.start()
    link = FaultyLink(server.port)
    await link.start()
    rng = random.Random(20261121)
    users = ["u1", "u2", "u3", "u4", "u5"]
    per_pair = 100  # 5 * 4 pairs * 100 = 2,000 messages
    checker = Checker()
    sessions: dict[str, Session] = {}
    logouts: list[tuple[str, int]] = []
    try:
        for name in users:
            sig = fast_signal(link.url)
            session = await sig.login(name, NO_TOKEN, reconnect_count=1000, reconnect_time=60)
            session.on_message_instant_receive = checker.on_receive(name)
            session.on_logout = lambda code, name=name: logouts.append((name, code))
            sessions[name] = session

        async def sender(me: str) -> None:
            order = [(peer, n) for n in range(per_pair) for peer in users if peer != me]
            for peer, n in order:
                await sessions[me].message_instant_send(peer, f"{me}:{n}")
                checker.sent[(me, peer)] = n + 1
                if rng.random() < 0.05:
                    await asyncio.sleep(rng.random() * 0.01)

        restarts = 0

        async def chaos() -> None:
            nonlocal restarts
            while True:
                await asyncio.sleep(rng.uniform(0.01, 0.08))
                if restarts < 2 and checker.total_received() > 600 * (restarts + 1):
                    restarts += 1
                    await server.restart()
                    link.target_port = server.port
                link.cut()

        chaos_task = asyncio.create_task(chaos())
        try:
            await asyncio.wait_for(asyncio.gather(*(sender(u) for u in users)), 240)
        finally:
            chaos_task.cancel()
        total = sum(checker.sent.values())
        assert total == 2000
        await until(lambda: checker.total_received() >= total, within=60)
        await asyncio.sleep(0.5)  # room for a late duplicate to show itself
        verdict = checker.verdict()
        print(
            f"checker: {total} sent, {checker.total_received()} received, {link.cuts} cuts,"
            f" {restarts} restarts, verdict {verdict}"
        )
        assert verdict == {"lost": 0, "duplicated": 0, "reordered": 0}
        assert link.cuts > 5, "the network was not disturbed enough for the test to mean much"
        assert restarts == 2
        assert logouts == []
    finally:
        for session in sessions.values():
            if session.get_status():
                await session.logout()
        await link.close()
        await server.stop()
