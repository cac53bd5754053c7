"""Regression: PySide6-Essentials 6.12.0 on Python 3.11 drops a reference to None each time
Qt calls an overridden virtual (qasync's timerEvent runs once per callback), and the
interpreter aborts after a few thousand. pyproject pins < 6.12 on 3.11; this test fails
(or crashes) if that pin is lost."""

from __future__ import annotations

import asyncio
import sys

import qasync


async def test_none_refcount_stays_flat_over_20000_qasync_callbacks() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, qasync.QEventLoop)
    total = 20_000
    done = loop.create_future()
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count == total:
            done.set_result(None)
        else:
            loop.call_later(0, tick) if count % 2 else loop.call_soon(tick)

    before = sys.getrefcount(None)
    loop.call_soon(tick)
    await done
    after = sys.getrefcount(None)
    # Broken builds lose one reference per callback (-20,000); a healthy one moves by a few.
    assert abs(after - before) < 1_000, (before, after)
