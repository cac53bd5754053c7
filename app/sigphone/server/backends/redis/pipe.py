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
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sigphone.protocol.errors import ErrorCode, SignalError

__all__ = ["Pipe", "redis_client", "unreachable"]

log = logging.getLogger("sigphone.server")

#: Adds one command to the pipeline (exactly one: results map 1:1 to operations).
Build = Callable[[Pipeline], Any]
#: Turns that command's reply into the operation's result (may raise SignalError).
Parse = Callable[[Any], Any]

NETWORK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


def unreachable(detail: str = "") -> SignalError:
    reason = "the cluster store (Redis) is unreachable; the request was not applied or may not be"
    return SignalError(ErrorCode.GENERAL_E_FAILED, reason + (f" ({detail})" if detail else ""))


def redis_client(url: str, timeout: float | None) -> Redis:
    """A client that fails fast (no hidden retries): the callers own the retry policy."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout or 1.0, 1.0),
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


@dataclass(slots=True)
class _Op:
    build: Build
    parse: Parse
    future: asyncio.Future[Any]
    queued: float


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
            for op in batch:
                op.build(pipe)
            try:
                remaining = max(deadline - time.monotonic(), 0.05)
                async with asyncio.timeout(remaining):
                    replies = await pipe.execute(raise_on_error=False)
            except NETWORK_ERRORS as exc:
                self.reachable = False
                with contextlib.suppress(Exception):
                    await pipe.reset()
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
            for op, reply in zip(batch, replies, strict=True):
                if op.future.done():
                    continue
                if isinstance(reply, ResponseError):
                    op.future.set_exception(
                        SignalError(ErrorCode.GENERAL_E_FAILED, f"storage error: {reply}")
                    )
                    continue
                try:
                    op.future.set_result(op.parse(reply))
                except Exception as exc:
                    op.future.set_exception(exc)
            return

    @staticmethod
    def _fail(batch: list[_Op], exc: SignalError) -> None:
        for op in batch:
            if not op.future.done():
                op.future.set_exception(exc)
