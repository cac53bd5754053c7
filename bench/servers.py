"""Start and stop the servers under test, each pinned to the server core."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import taskset

__all__ = ["NODE_DIR", "Server", "ensure_node_modules", "start_server"]

NODE_DIR = Path(__file__).resolve().parent / "node"
_URL = re.compile(rb"(ws://127\.0\.0\.1:\d+)")

#: Our server for the bench: one app without certificate, and the per-connection request rate,
#: the large-channel send rates, the caps on connections waiting to log in (every bench
#: client comes from 127.0.0.1, 10,000 at once in the login storm) and the per-sender message
#: quotas (the drain has one sender fill an inbox) lifted: they would refuse the load, and
#: they cost the same per request either way. Everything else is the default.
SIGPHONE_TOML = """\
[[apps]]
id = "bench"

[limits]
rate = 1000000.0
burst = 1000000.0
max_pending = 100000
max_pending_per_address = 100000
login_timeout = 120.0
undelivered_per_sender = 1000000
inbox_share_per_sender = 100000

[channels]
user_rate_large = 1000000.0
channel_rate_large = 1000000.0
"""


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.proc.kill()
                self.proc.wait()
        if self.tmp is not None:
            self.tmp.cleanup()


def ensure_node_modules() -> bool:
    """Install socket.io and socket.io-client into bench/node (npm); False without npm."""
    if (NODE_DIR / "node_modules" / "socket.io").is_dir() and (
        NODE_DIR / "node_modules" / "socket.io-client"
    ).is_dir():
        return True
    if not (shutil.which("npm") and shutil.which("node")):
        return False
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return True


async def start_server(
    kind: str,
    core: int | None,
    *,
    durable: bool = True,
    src: str | None = None,
    extra: list[str] | None = None,
) -> Server:
    """Start ``kind``: sigphone, websockets, picows or socketio, pinned to ``core`` (None:
    not pinned; the cluster bench gives nodes a CPU budget instead, bench/cgroup.py).

    ``src`` runs our server from another source tree (its ``app`` folder, e.g. an older
    commit from ``git archive``), for before/after ratios measured in one run; ``extra``
    adds flags to ours (a cluster node: ``--redis URL --node-id ID``).
    """
    tmp: tempfile.TemporaryDirectory[str] | None = None
    cwd = None
    if kind == "sigphone":
        tmp = tempfile.TemporaryDirectory(prefix="sigphone-bench-")
        conf = Path(tmp.name) / "bench.toml"
        conf.write_text(SIGPHONE_TOML)
        store = ["--data", str(Path(tmp.name) / "data")] if durable else ["--memory"]
        argv = [
            sys.executable,
            "-m",
            "sigphone.server.cli",
            "--config",
            str(conf),
            *store,
            "--port",
            "0",
            "--no-api",
            "--log-level",
            "WARNING",
            *(extra or []),
        ]
    elif kind in ("websockets", "picows"):
        argv = [sys.executable, "-m", "bench.raw_server", kind]
        cwd = str(Path(__file__).resolve().parent.parent)
    elif kind == "socketio":
        argv = ["node", str(NODE_DIR / "sio_server.js")]
    else:
        raise ValueError(kind)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if kind != "sigphone":
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    elif src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    proc = subprocess.Popen(
        argv if core is None else taskset(core, argv),
        stdout=subprocess.PIPE,
        stderr=None,
        env=env,
        cwd=cwd,
    )
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    line = b""
    try:
        async with asyncio.timeout(30):
            while not (match := _URL.search(line)):
                line = await loop.run_in_executor(None, proc.stdout.readline)
                if not line and proc.poll() is not None:
                    raise RuntimeError(f"{kind} server exited with {proc.returncode}")
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    return Server(kind, proc, match.group(1).decode(), tmp)
