"""A tiny run of the bench harness (bench/) so that it cannot rot: correctness, not timings.

A few real sessions of the load generator against an in-process server: a channel fan-out,
point-to-point pairs and an offline drain must deliver every message exactly once.
"""

from __future__ import annotations

import asyncio
import os

import pytest

pytest.importorskip("picows")
pytest.importorskip("hdrh")

from bench.common import make_msg
from bench.loadgen import Gen, channel_sender, p2p_sender, run_rate_step

from ..support.config import APP
from ..support.waiting import until


async def test_fanout_and_p2p_deliver_everything(server):
    gen = Gen(server.url, app=APP)
    gen.start()
    try:
        pub = await gen.session("b0", channel="room")
        members = [pub, *await gen.sessions(["b1", "b2", "b3"], channel=lambda i: "room")]
        send = channel_sender(gen, [pub], ["room"], len(members))
        step = await run_rate_step(gen, send, 50.0, 0.2, os.getpid(), drain=10.0)
        assert step.deliveries == step.expected == 10 * len(members)
        assert step.lost == 0 and step.errors == 0

        pairs = await gen.sessions(["p0", "p1", "p2", "p3"])
        send = p2p_sender(gen, pairs[0::2], pairs[1::2])
        step = await run_rate_step(gen, send, 100.0, 0.2, os.getpid(), drain=10.0)
        assert step.deliveries == step.expected == 20
        assert step.lost == 0 and step.errors == 0 and gen.logouts == 0
    finally:
        await gen.stop()


async def test_offline_drain_loses_nothing(server):
    gen = Gen(server.url, app=APP)
    gen.start()
    try:
        sender = await gen.session("d-sender")
        replies = [
            sender.request(
                {
                    "op": "send",
                    "peer": "d-target",
                    "msg": make_msg(k, 0),
                    "msg_id": f"m{k}",
                    "cseq": k + 1,
                }
            )
            for k in range(50)
        ]
        await asyncio.gather(*replies)
        gen.seen = set()
        await gen.session("d-target")
        await until(lambda: gen.seen is not None and len(gen.seen) >= 50)
        assert gen.seen == set(range(50)) and gen.received == 50
    finally:
        gen.seen = None
        await gen.stop()
