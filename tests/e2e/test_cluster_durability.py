"""The Jepsen-style checker on a cluster: 3 nodes, durable Redis, and everything going wrong.

Six users spread over three ``sigphone-server --redis`` nodes exchange point-to-point and
channel messages (over 10,000 sends) while the test cuts client connections at random, kills
a node with SIGKILL (its users move to the others through the SDK's server list), kills Redis
with SIGKILL and starts it again on its AOF (``appendfsync always``), and cuts one node off
Redis for a while. The verdict counts acknowledged messages lost, any message delivered twice
and any pair delivered out of order; all must be 0.

A send that failed (1001 while Redis was unreachable, for example) is indeterminate, as in
Jepsen: it may arrive, at most once and in order, and is never counted as lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections import defaultdict
from pathlib import Path

import pytest

from sigphone.protocol.errors import SignalError
from sigphone.sdk import Session

from ..support.cluster import Cluster
from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.netfault import FaultyLink
from ..support.waiting import until

USERS = [f"u{i}" for i in range(6)]
P2P_PER_PAIR = 200  # 6 * 5 pairs * 200 = 6,000
CHANNEL_PER_USER = 700  # 6 * 700 = 4,200 channel sends (25,200 deliveries)
ROOM = "jepsen"


class ClusterChecker:
    def __init__(self) -> None:
        self.acked: dict[tuple[str, str], set[int]] = defaultdict(set)  # (from, to|#room)
        self.failed: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.got: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # (from, to, me)
        self.room_order: dict[str, list[str]] = defaultdict(list)  # each member's channel order

    def p2p(self, me: str):
        def callback(account: str, _uid: int, msg: str) -> None:
            sender, number = msg.split(":")
            assert sender == account
            self.got[(account, me, me)].append(int(number))

        return callback

    def channel(self, me: str):
        def callback(account: str, _uid: int, msg: str) -> None:
            sender, number = msg.split(":")
            self.got[(sender, "#", me)].append(int(number))
            self.room_order[me].append(msg)

        return callback

    def delivered(self) -> int:
        return sum(len(v) for v in self.got.values())

    def expected(self) -> int:
        p2p = sum(len(v) for (_, to), v in self.acked.items() if to != "#")
        room = sum(len(v) for (_, to), v in self.acked.items() if to == "#")
        return p2p + room * len(USERS)

    def verdict(self, kind: str = "") -> dict[str, int]:
        """Counts over both kinds, or only ``"p2p"`` or ``"channel"`` ones."""
        lost = duplicated = reordered = 0
        for (sender, to), acked in self.acked.items():
            if kind and (to == "#") != (kind == "channel"):
                continue
            receivers = USERS if to == "#" else [to]
            for me in receivers:
                got = self.got.get((sender, "#" if to == "#" else to, me), [])
                seen = set(got)
                lost += len(acked - seen)
                duplicated += len(got) - len(seen)
                reordered += sum(1 for a, b in itertools.pairwise(got) if b <= a)
        # One order per channel: any two members saw the messages they share in one order.
        orders = list(self.room_order.values()) if kind != "p2p" else []
        for a, b in itertools.combinations(orders, 2):
            where = {m: i for i, m in enumerate(a)}
            shared = [where[m] for m in b if m in where]
            reordered += sum(1 for x, y in itertools.pairwise(shared) if y <= x)
        return {"lost": lost, "duplicated": duplicated, "reordered": reordered}


@pytest.mark.timeout(600)
async def test_cluster_jepsen_no_loss_no_duplicates_no_reordering(tmp_path: Path):
    cluster = Cluster(tmp_path, [APP], nodes=3, durable=True)
    await cluster.start()
    fronts = [FaultyLink(node.port) for node in cluster.nodes]  # the clients' network
    for link in fronts:
        await link.start()
    rng = random.Random(20261130)
    checker = ClusterChecker()
    sessions: dict[str, Session] = {}
    channels = {}
    logouts: list[tuple[str, int]] = []
    faults: list[str] = []
    try:
        for i, name in enumerate(USERS):
            home = i % 3  # two users per node; the list rotates on a reconnect
            urls = [fronts[(home + k) % 3].url for k in range(3)]
            sig = fast_signal(urls)  # type: ignore[arg-type]
            session = await sig.login(name, NO_TOKEN, reconnect_count=10_000, reconnect_time=120)
            session.on_message_instant_receive = checker.p2p(name)
            session.on_logout = lambda code, name=name: logouts.append((name, code))
            sessions[name] = session
            channels[name] = await session.channel_join(
                ROOM, on_message_channel_receive=checker.channel(name)
            )

        async def send(key: tuple[str, str], n: int, coro) -> None:
            try:
                await coro
            except SignalError:
                checker.failed[key].add(n)  # indeterminate: may arrive, at most once
                await asyncio.sleep(0.05)
                return
            checker.acked[key].add(n)

        async def sender(me: str) -> None:
            plan = [("p2p", peer, n) for n in range(P2P_PER_PAIR) for peer in USERS if peer != me]
            plan += [("room", "#", n) for n in range(CHANNEL_PER_USER)]
            rng_me = random.Random(me)
            rng_me.shuffle(plan)
            counters: dict[str, int] = defaultdict(int)
            for kind, peer, _ in plan:
                n = counters[peer]
                counters[peer] += 1
                if kind == "p2p":
                    coro = sessions[me].message_instant_send(peer, f"{me}:{n}")
                else:
                    coro = channels[me].message_channel_send(f"{me}:{n}")
                await send((me, peer), n, coro)

        async def chaos() -> None:
            steps = ["node", "redis", "cut"]
            while True:
                await asyncio.sleep(rng.uniform(0.05, 0.2))
                fronts[rng.randrange(3)].cut()  # a client's network drops
                progress = checker.delivered()
                if steps and progress > 5_000 * (4 - len(steps)):
                    step = steps.pop(0)
                    faults.append(step)
                    if step == "node":  # kill -9 of node 3: its users move to nodes 1-2
                        fronts[2].refuse = True
                        fronts[2].cut()
                        await cluster.nodes[2].kill()
                    elif step == "redis":  # kill -9 of Redis, then start it on its AOF
                        await cluster.restart_redis()
                    else:  # node 1 cut off Redis for 2 s
                        cluster.redis_links[0].refuse = True
                        cluster.redis_links[0].cut()
                        await asyncio.sleep(2.0)
                        cluster.redis_links[0].refuse = False

        chaos_task = asyncio.create_task(chaos())
        try:
            await asyncio.wait_for(asyncio.gather(*(sender(u) for u in USERS)), 600)
        finally:
            chaos_task.cancel()
            await asyncio.gather(chaos_task, return_exceptions=True)
        sent = sum(len(v) for v in checker.acked.values())
        failed = sum(len(v) for v in checker.failed.values())
        with contextlib.suppress(TimeoutError):  # what never came is counted as lost below
            await until(lambda: checker.delivered() >= checker.expected(), within=60)
        await asyncio.sleep(1.0)  # room for a late duplicate to show itself
        verdict = checker.verdict()
        cuts = sum(link.cuts for link in fronts) + sum(link.cuts for link in cluster.redis_links)
        print(
            f"cluster checker: {sent + failed} sends ({sent} acknowledged, {failed} failed and"
            f" indeterminate), {checker.delivered()} deliveries over 3 nodes, {cuts} cuts,"
            f" faults {faults}, verdict {verdict} (p2p {checker.verdict('p2p')},"
            f" channel {checker.verdict('channel')}), logouts {logouts}"
        )
        assert sent + failed >= 10_000
        assert verdict == {"lost": 0, "duplicated": 0, "reordered": 0}
        assert faults == ["node", "redis", "cut"]
        assert logouts == []
    finally:
        for session in sessions.values():
            if session.get_status():
                await session.logout()
        for link in fronts:
            await link.close()
        await cluster.stop()
