"""The ``sigphone`` process: single instance with link forwarding, clean quit, demo start-up.

These run the real entry point (``python -m sigphone``) offscreen in a child process, with a
profile folder under tmp_path so nothing touches the user's real settings.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from ..support.waiting import until

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


async def _run(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sigphone", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=ENV,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(errors="replace")


async def test_second_launch_forwards_its_link_and_quit_is_clean(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    log_file = profile / "logs" / "sigphone.log"
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sigphone", "--profile", str(profile),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=ENV,
    )  # fmt: skip
    try:
        await until(lambda: log_file.exists() and "login window shown" in log_file.read_text(), 60)
        code, out = await _run("--profile", str(profile), "tel:+1-555-0100")
        assert code == 0 and "already running" in out
        await until(lambda: "another launch: tel:+1-555-0100" in log_file.read_text(), 30)
        code, out = await _run("--profile", str(profile), "--quit")
        assert code == 0
        assert await asyncio.wait_for(first.wait(), 30) == 0
        assert "quitting" in log_file.read_text()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    # Nothing is running any more: --quit says so and fails.
    code, out = await _run("--profile", str(profile), "--quit")
    assert code == 1 and "not running" in out


async def test_demo_process_starts_and_exits_cleanly() -> None:
    code, out = await _run("--demo", "--startup-probe")
    assert code == 0, out
    assert "shown_at:" in out
