"""Calling application callbacks: plain functions or coroutine functions, never fatal."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["invoke"]

log = logging.getLogger("sigphone.sdk")


async def invoke(
    callback: Callable[..., Any] | None,
    *args: Any,
    on_error: Callable[[BaseException], Any] | None = None,
) -> None:
    """Run ``callback(*args)``, awaiting it if it returns an awaitable.

    An exception in application code is logged and handed to ``on_error``; it never stops
    the SDK's event dispatch.
    """
    if callback is None:
        return
    try:
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        log.exception("callback %s raised", getattr(callback, "__name__", callback))
        if on_error is not None:
            try:
                result = on_error(exc)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("on_error raised")
