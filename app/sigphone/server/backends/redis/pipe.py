"""Ordered, batched commands to Redis: the Redis counterpart of the SQLite group commit.

Operations queue in submission order and go out as one pipeline per batch, one batch at a
time, so Redis executes them in that order and their futures resolve in that order (the hub's
delivery order depends on it). Under load batches grow and a round trip carries many
operations.

Failures: every operation is written to be safe to run twice (a send carries its
de-duplication mark, a login its once-key), so a batch whose connection broke is sent again
until ``op_timeout`` after its oldest operation was queued. Past that, every operation of the
batch fails with 1001 (GENERAL_E_FAILED, "Redis unreachable"): a request never hangs and is
never answered with a success Redis did not confirm.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.backends.redis import scripts as s

__all__ = ["Pipe", "redis_client", "unreachable", "unwaited"]

log = logging.getLogger("sigphone.server")

#: Adds one command to the pipeline (exactly one: results map 1:1 to operations).
Build = Callable[[Pipeline], Any]
#: Turns that command's reply into the operation's result (may raise SignalError).
Parse = Callable[[Any], Any]

NETWORK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


def unreachable(detail: str = "") -> SignalError:
    reason = "the cluster store (Redis) is unreachable; the request was not applied or may not be"
    return SignalError(ErrorCode.GENERAL_E_FAILED, reason + (f" ({detail})" if detail else ""))


class _HiredisPacking(Connection):
    """Commands packed by hiredis (C) instead of redis-py's Python packer: the same bytes
    (redis-py's own sync client does this), and packing was 10 % of a sending node's CPU
    under load (py-spy, docs/benchmarks.md "Cluster")."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._packer.pack(*args)  # type: ignore[no-any-return]  # redis-py: untyped


def unwaited(fut: asyncio.Future[Any]) -> None:
    """Nothing waits for ``fut`` (the caller repairs a failure by other means, e.g. the
    next login or the reaper): its error is retrieved so asyncio does not log it as lost."""
    fut.add_done_callback(_retrieve)


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()


def redis_client(url: str, timeout: float | None) -> Redis:
    """A client that fails fast (no hidden retries): the callers own the retry policy."""
    # Plain TCP only: rediss:// and unix:// keep the connection class redis-py picks for them.
    fast: dict[str, Any] = (
        {"connection_class": _HiredisPacking} if url.startswith("redis://") else {}
    )
    return Redis.from_url(
        url,
        **fast,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout or 1.0, 1.0),
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


#: At most this many calls of one script share one EVALSHA: Redis runs a script as one step
#: and serves nobody else meanwhile; 256 appends took 2.1 ms there (INFO commandstats).
MAX_MERGED = 256


@dataclass(slots=True)
class _Op:
    build: Build | None
    parse: Parse
    future: asyncio.Future[Any]
    queued: float
    #: A script call (``submit_script``): neighbours calling the same script share a command.
    text: str = ""
    keys: tuple[Any, ...] = ()
    args: tuple[Any, ...] = ()


class Pipe:
    def __init__(self, url: str, op_timeout: float) -> None:
        self.op_timeout = op_timeout
        self.client = redis_client(url, op_timeout)
        self._queue: list[_Op] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: monotonic time of the last batch Redis answered (for /healthz).
        self.last_ok = 0.0
        self.reachable = False
        self._shas: dict[str, str] = {}
        #: Scripts already sent in full in the batch being built (see ``script``).
        self._in_batch: set[str] = set()
        #: script text -> its scripts.many form (see ``submit_script``).
        self._many: dict[str, str] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sigphone-redis-pipe")

    async def close(self) -> None:
        # Give queued work (a last release of presence) a moment to go out.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while self._queue:
                    self._wakeup.set()
                    await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for op in self._queue:
            if not op.future.done():
                op.future.set_exception(unreachable("node shutting down"))
        self._queue.clear()
        await self.client.aclose()

    def script(self, p: Pipeline, text: str, numkeys: int, *args: Any) -> Any:
        """Add a script call: in full (EVAL) the first time in this batch, by its digest
        (EVALSHA) after that. EVAL caches the script, and the EVALSHAs behind it in the same
        pipeline run after it on the same connection, so none can meet an empty cache (a
        Redis restart breaks the connection and the whole batch is built again)."""
        if text in self._in_batch:
            sha = self._shas.get(text)
            if sha is None:
                sha = self._shas[text] = hashlib.sha1(text.encode()).hexdigest()
            return p.evalsha(sha, numkeys, *args)
        self._in_batch.add(text)
        return p.eval(text, numkeys, *args)

    def submit(self, build: Build, parse: Parse = lambda reply: reply) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Op(build, parse, fut, time.monotonic()))
        self._wakeup.set()
        return fut

    def submit_script(
        self, text: str, keys: tuple[Any, ...], args: tuple[Any, ...], parse: Parse
    ) -> asyncio.Future[Any]:
        """Queue one call of a Lua script. Consecutive calls of the same script in a batch go
        out as one EVALSHA (scripts.many): under load a batch is mostly sends (or mostly
        acknowledged deletes), and redis-py's work per command (building, packing, parsing
        the reply) was about a fifth of a sending node's CPU (py-spy, docs/benchmarks.md
        "Cluster"). Order is unchanged: only neighbours merge, and they run one after the
        other inside the merged call."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Op(None, parse, fut, time.monotonic(), text, keys, args))
        self._wakeup.set()
        return fut

    def _build(self, p: Pipeline, batch: list[_Op]) -> list[int]:
        """Add the batch's commands; the number of operations each command answers for."""
        sizes: list[int] = []
        i, n = 0, len(batch)
        while i < n:
            op = batch[i]
            if op.build is not None:
                op.build(p)
                sizes.append(1)
                i += 1
                continue
            j = i + 1
            while j < n and j - i < MAX_MERGED and batch[j].text == op.text:
                j += 1
            if j - i == 1:
                self.script(p, op.text, len(op.keys), *op.keys, *op.args)
            else:
                keys: list[Any] = []
                args: list[Any] = [j - i]
                for other in batch[i:j]:
                    keys += other.keys
                    args += (len(other.keys), len(other.args), *other.args)
                merged = self._many.get(op.text)
                if merged is None:
                    merged = self._many[op.text] = s.many(op.text)
                self.script(p, merged, len(keys), *keys, *args)
            sizes.append(j - i)
            i = j
        return sizes

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                await self._run_batch(batch)

    async def _run_batch(self, batch: list[_Op]) -> None:
        deadline = batch[0].queued + self.op_timeout
        attempt = 0
        while True:
            attempt += 1
            pipe = self.client.pipeline(transaction=False)
            self._in_batch.clear()
            sizes = self._build(pipe, batch)
            try:
                remaining = max(deadline - time.monotonic(), 0.05)
                async with asyncio.timeout(remaining):
                    replies = await pipe.execute(raise_on_error=False)
            except NETWORK_ERRORS as exc:
                self.reachable = False
                with contextlib.suppress(Exception):
                    await pipe.reset()  # type: ignore[no-untyped-call]  # redis-py: untyped
                if time.monotonic() >= deadline:
                    log.warning("Redis unreachable for %d operation(s): %r", len(batch), exc)
                    self._fail(batch, unreachable(type(exc).__name__))
                    return
                await asyncio.sleep(min(0.05 * attempt, 0.25))
                continue
            except RedisError as exc:  # not the network: a bug or a refused command
                log.error("Redis batch failed: %r", exc)
                self._fail(batch, SignalError(ErrorCode.GENERAL_E_FAILED, f"storage error: {exc}"))
                return
            self.reachable = True
            self.last_ok = time.monotonic()
            i = 0
            for size, reply in zip(sizes, replies, strict=True):
                if size == 1:
                    self._settle(batch[i], reply)
                elif isinstance(reply, list) and len(reply) == size:
                    for op, one in zip(batch[i : i + size], reply, strict=True):
                        self._settle(op, one)
                else:  # the merged call itself was refused: each of its calls failed
                    if not isinstance(reply, ResponseError):
                        reply = ResponseError(f"unexpected reply to a merged call: {reply!r}")
                    for op in batch[i : i + size]:
                        self._settle(op, reply)
                i += size
            return

    @staticmethod
    def _settle(op: _Op, reply: Any) -> None:
        if op.future.done():
            return
        if isinstance(reply, ResponseError):
            op.future.set_exception(
                SignalError(ErrorCode.GENERAL_E_FAILED, f"storage error: {reply}")
            )
            return
        try:
            op.future.set_result(op.parse(reply))
        except Exception as exc:
            op.future.set_exception(exc)

    @staticmethod
    def _fail(batch: list[_Op], exc: SignalError) -> None:
        for op in batch:
            if not op.future.done():
                op.future.set_exception(exc)
