"""Waiting for conditions that real network events make true (never fixed sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(predicate: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``predicate`` until it is true; fail with TimeoutError after ``within`` s.

    Polling keeps the code under test free of test-only hooks; the bound only guards a
    broken run, it is not a timing assertion.
    """
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the condition is set by other tasks
            await asyncio.sleep(0.005)


async def until_true(probe: Callable[[], Awaitable[object]], within: float = 10.0) -> None:
    """``until`` for a condition that needs a request to check (a status query, /healthz)."""
    async with asyncio.timeout(within):
        while not await probe():  # noqa: ASYNC110 - the condition is set by other processes
            await asyncio.sleep(0.02)
