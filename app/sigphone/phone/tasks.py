"""Tracked asyncio tasks: keep a reference to every task and report every failure.

qasync drops unreferenced tasks like any asyncio loop (a task can be garbage-collected
mid-run) and an exception in a forgotten task is only printed at interpreter exit. Every
coroutine the UI starts goes through ``TaskSet.spawn`` so it is kept until done and its error
reaches ``on_error`` (logged and shown), never swallowed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

__all__ = ["TaskSet", "install_excepthook"]

log = logging.getLogger("sigphone.phone")


class TaskSet:
    """The tasks one owner started; ``cancel_all`` ends them on quit with a timeout."""

    def __init__(self, on_error: Callable[[str, BaseException], None]) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``coro`` on the loop; ``what`` names it in the log and in the error shown."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what))
        return task

    def _done(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s failed", what, exc_info=exc)
            self._on_error(what, exc)

    async def cancel_all(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109
        """Cancel what is left and wait a bounded time: quitting must never hang."""
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


def install_excepthook(show: Callable[[str], None] | None = None) -> None:
    """Log (and show) exceptions that reach ``sys.excepthook``: qasync sends errors raised in
    ``@asyncSlot`` handlers there, where the default hook would only print them."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled error", exc_info=(kind, exc, tb))
        if show is not None:
            try:
                show(f"{kind.__name__}: {exc}")
            except Exception:  # the hook itself must never raise
                log.exception("showing an error failed")

    sys.excepthook = hook
