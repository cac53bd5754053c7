"""Issue 12, item 5: data at rest is private, and certificates stay off the command line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sigphone.protocol.token import make_token
from sigphone.server import SignalServer

from ..support.config import fast_config, fast_signal
from ..support.procserver import ServerProcess
from .test_cli import script

SEED_APP = "C5D15F8FD394285DA5227B533302A518"
SEED_CERT = "fe1a0437bf217bdd34cd65053fb0fe1d"
SEED_TOKEN = "1:C5D15F8FD394285DA5227B533302A518:2592000:5c0ee12fdf2020d0d0fdad04d6395473"

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX modes (Windows: folder ACLs)")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cmdline(pid: int) -> bytes:
    """What every user of the machine can read about the process."""
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@posix
async def test_data_folder_is_0700_and_files_0600(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # an existing, too open folder is tightened too
    os.chmod(data, 0o755)
    old_umask = os.umask(0o022)
    try:
        async with SignalServer(fast_config(data)) as srv:
            alice = await fast_signal(srv.url).login("alice", "_no_need_token")
            await alice.message_instant_send("bob", "kept in clear on disk")  # WAL written
            files = sorted(data.iterdir())
            modes = {p.name: _mode(p) for p in files}
            await alice.logout()
    finally:
        os.umask(old_umask)
    assert _mode(data) == 0o700
    assert {"sigphone.sqlite3", "sigphone.sqlite3-wal", "sigphone.sqlite3-shm"} <= set(modes)
    assert all(mode == 0o600 for mode in modes.values()), modes


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/cmdline")
async def test_server_takes_certificates_from_a_file_and_the_environment(tmp_path, monkeypatch):
    apps = tmp_path / "apps"
    apps.write_text(f"# app certificates\n{SEED_APP}:{SEED_CERT}\n", encoding="utf-8")
    os.chmod(apps, 0o600)
    monkeypatch.setenv("SIGPHONE_APPS", "envapp:envsecret0123456789, devapp")
    server = ServerProcess(tmp_path / "data", [], extra=["--apps-file", str(apps)])
    await server.start()
    try:
        assert server.proc is not None
        cmdline = _cmdline(server.proc.pid)
        assert SEED_CERT.encode() not in cmdline and b"envsecret" not in cmdline
        token = make_token("alice", SEED_APP, SEED_CERT, 0)
        alice = await fast_signal(server.url, SEED_APP).login("alice", token)
        await alice.logout()
        env_token = make_token("bob", "envapp", "envsecret0123456789", 0)
        bob = await fast_signal(server.url, "envapp").login("bob", env_token)
        await bob.logout()
        dev = await fast_signal(server.url, "devapp").login("carol", "_no_need_token")
        await dev.logout()
    finally:
        await server.stop()


def test_token_tool_takes_the_certificate_from_a_file_or_the_environment(tmp_path):
    base = [script("sigphone-token"), "--app-id", SEED_APP, "--account", "test@agora.io"]
    when = ["--expired-time", "2592000"]
    env = {**os.environ, "SIGPHONE_APPS": f"{SEED_APP}:{SEED_CERT}"}
    out = subprocess.run(base + when, capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == SEED_TOKEN
    apps = tmp_path / "apps"
    apps.write_text(f"{SEED_APP}:{SEED_CERT}\n", encoding="utf-8")
    os.chmod(apps, 0o600)
    env.pop("SIGPHONE_APPS")
    args = [*base, "--apps-file", str(apps), *when]
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == SEED_TOKEN
    missing = subprocess.run(base + when, capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "SIGPHONE_APPS" in missing.stderr
