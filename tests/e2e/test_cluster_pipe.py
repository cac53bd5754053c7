"""The Redis pipe merges neighbouring calls of one script into one EVALSHA (pipe.submit_script)
without changing what each call does, its order, or how failures are reported.

A real redis-server; the pipe and the store run in this process against it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.backends.redis.pipe import Pipe
from sigphone.server.backends.redis.store import RedisStore

from ..support.redisproc import RedisProcess

#: Fails on ``boom`` (a Lua error) and on ``incr`` of a key holding text (a Redis error);
#: returns nothing (nil) on ``nil``; its argument otherwise.
PROBE = """
if ARGV[1] == 'boom' then error('boom') end
if ARGV[1] == 'incr' then return redis.call('INCR', KEYS[1]) end
if ARGV[1] == 'nil' then return nil end
redis.call('RPUSH', 'probe:order', ARGV[1])
return ARGV[1]
"""


@pytest.fixture
async def redis(tmp_path: Path):
    r = RedisProcess(tmp_path / "redis")
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def pipe(redis: RedisProcess):
    p = Pipe(redis.url, op_timeout=2.0)
    p.start()
    yield p
    await p.close()


async def script_calls(pipe: Pipe) -> int:
    stats = await pipe.client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("eval", "evalsha"))


async def test_neighbouring_sends_share_one_command_and_keep_their_order(pipe: Pipe):
    store = RedisStore(pipe, inbox_ttl=600)
    before = await script_calls(pipe)
    sends = [
        store.append_message(
            "app", "bob", "alice", f"m{i}", ts=1.0, expires=9e9, client_id="c1", cseq=i + 1
        )
        for i in range(100)
    ]
    iids = await asyncio.gather(*sends)
    assert await script_calls(pipe) - before == 1
    assert iids == sorted(iids) and len(set(iids)) == 100 and iids[0] > 0
    # A resend of a number already applied is not stored again (the de-duplication mark).
    again = await store.append_message(
        "app", "bob", "alice", "m5", ts=1.0, expires=9e9, client_id="c1", cseq=5
    )
    assert again == 0
    records = await store.load_inbox("app", "bob", now=2.0)
    assert [r.msg for r in records] == [f"m{i}" for i in range(100)]
    assert [r.iid for r in records] == iids
    # Acknowledged deletes of several acks merge too, and delete exactly those ids.
    deletes = [store.delete_messages("app", "bob", iids[i : i + 10]) for i in range(0, 50, 10)]
    await asyncio.gather(*deletes)
    left = await store.load_inbox("app", "bob", now=2.0)
    assert [r.iid for r in left] == iids[50:]


async def test_a_failing_call_fails_alone(pipe: Pipe):
    await pipe.client.set("probe:text", "not a number")
    args = ["a", "boom", "b", "incr", "nil", "c"]
    before = await script_calls(pipe)
    futs = [pipe.submit_script(PROBE, ("probe:text",), (a,), lambda r: r) for a in args]
    done = await asyncio.gather(*futs, return_exceptions=True)
    assert await script_calls(pipe) - before == 1
    assert done[0] == b"a" and done[2] == b"b" and done[5] == b"c"
    assert done[4] is None
    for failed in (done[1], done[3]):
        assert isinstance(failed, SignalError) and failed.code == ErrorCode.GENERAL_E_FAILED
    assert await pipe.client.lrange("probe:order", 0, -1) == [b"a", b"b", b"c"]


async def test_merged_calls_fail_with_1001_when_redis_is_gone(redis: RedisProcess, pipe: Pipe):
    store = RedisStore(pipe, inbox_ttl=600)
    await store.load_inbox("app", "x", now=0.0)  # connected
    await redis.kill()
    sends = [
        store.append_message("app", "bob", "al", "m", ts=1.0, expires=9e9, client_id="", cseq=0)
        for _ in range(20)
    ]
    async with asyncio.timeout(10):
        done = await asyncio.gather(*sends, return_exceptions=True)
    assert all(isinstance(d, SignalError) and d.code == ErrorCode.GENERAL_E_FAILED for d in done)
