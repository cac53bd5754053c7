"""The console entry points (D1) as a user runs them: ``sigphone-server``, ``sigphone-token``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest
import trustme

from sigphone.sdk import Signal
from sigphone.server import ServerConfig, SignalServer

from ..support.procserver import ServerProcess


def script(name: str) -> str:
    """The installed console script (the venv's scripts folder first, then PATH)."""
    folder = Path(sysconfig.get_path("scripts"))
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    assert found, f"{name} is not installed: pip install the project first"
    return found


def test_token_tool_prints_the_seed_vector():
    out = subprocess.run(
        [
            script("sigphone-token"),
            "--app-id",
            "C5D15F8FD394285DA5227B533302A518",
            "--certificate",
            "fe1a0437bf217bdd34cd65053fb0fe1d",
            "--account",
            "test@agora.io",
            "--expired-time",
            "2592000",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == (
        "1:C5D15F8FD394285DA5227B533302A518:2592000:5c0ee12fdf2020d0d0fdad04d6395473"
    )


def test_token_tool_valid_for_and_bad_account():
    out = subprocess.run(
        [
            script("sigphone-token"),
            "--app-id",
            "A",
            "--certificate",
            "C",
            "--account",
            "bob",
            "--valid-for",
            "60",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("1:A:")
    bad = subprocess.run(
        [
            script("sigphone-token"),
            "--app-id",
            "A",
            "--certificate",
            "C",
            "--account",
            "b b",
            "--valid-for",
            "60",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "account" in bad.stderr


def test_server_refuses_to_start_without_an_app():
    out = subprocess.run(
        [script("sigphone-server"), "--memory"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "--app" in out.stderr


async def test_server_prints_its_url_and_answers_health(tmp_path: Path):
    server = ServerProcess(tmp_path / "data", ["demo", "certapp:secret"])
    await server.start()
    try:
        assert server.url.startswith("ws://127.0.0.1:")
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz").read()
        )
        assert json.loads(body)["status"] == "ok"
        session = await Signal("demo", server.url).login("alice", "_no_need_token")
        assert session.is_online()
        await session.logout()
        assert (tmp_path / "data" / "sigphone.sqlite3").exists()
        await server.stop()  # SIGTERM: a clean shutdown
        assert server.proc is not None and server.proc.returncode == 0
    finally:
        await server.stop()


async def test_config_file(tmp_path: Path):
    config = tmp_path / "server.toml"
    config.write_text(
        '[server]\nhost = "127.0.0.1"\nport = 0\ndata = "state"\n\n'
        '[[apps]]\nid = "demo"\n\n[[apps]]\nid = "prod"\ncertificate = "abc"\n\n'
        "[hub]\ninbox_ttl = 3600\n\n[limits]\nrate = 50\n",
        encoding="utf-8",
    )
    cfg = ServerConfig.from_toml(config)
    assert cfg.apps == {"demo": None, "prod": "abc"}
    assert cfg.data == (tmp_path / "state").resolve()
    assert cfg.hub.inbox_ttl == 3600 and cfg.limits.rate == 50
    proc = await asyncio.create_subprocess_exec(
        script("sigphone-server"),
        "--no-api",
        "--config",
        str(config),
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
        assert "listening on ws://127.0.0.1:" in line
    finally:
        proc.terminate()
        await proc.wait()
    bad = tmp_path / "bad.toml"
    bad.write_text("[hub]\nno_such_setting = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_setting"):
        ServerConfig.from_toml(bad)


async def test_tls_wss(tmp_path: Path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    cfg = ServerConfig(port=0, data=None, apps={"demo": None}, tls_cert=cert_file, tls_key=key_file)
    async with SignalServer(cfg) as server:
        assert server.url.startswith("wss://")
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        signal = Signal("demo", server.url)
        signal.ssl = client_ctx
        session = await signal.login("alice", "_no_need_token")
        await session.message_instant_send("alice", "over TLS")
        await session.logout()


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "sigphone", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "sigphone" in out.stdout


def test_cluster_flags_and_their_errors(tmp_path: Path):
    from sigphone.server.cli import build_parser, config_from_args

    args = build_parser().parse_args(
        ["--app", "demo", "--redis", "redis://127.0.0.1:6390/0", "--node-id", "n7"]
    )
    cfg = config_from_args(args)
    assert (cfg.cluster.redis, cfg.cluster.node_id) == ("redis://127.0.0.1:6390/0", "n7")
    assert config_from_args(build_parser().parse_args(["--app", "demo"])).cluster.redis == ""
    for argv in (["--node-id", "n1"], ["--redis", "127.0.0.1:6379"]):
        out = subprocess.run(
            [script("sigphone-server"), "--memory", "--app", "demo", *argv],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2 and "redis" in out.stderr
    config = tmp_path / "node.toml"
    config.write_text('[cluster]\nredis = "redis://10.0.0.5:6379/2"\nop_timeout = 2\n')
    cfg = ServerConfig.from_toml(config)
    assert cfg.cluster.redis == "redis://10.0.0.5:6379/2" and cfg.cluster.op_timeout == 2.0


def test_redis_without_the_cluster_extra_is_a_clear_error():
    """A plain install (the Windows bundle too) has no redis-py: --redis says what to
    install instead of a traceback. The import is blocked in a real server process."""
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from sigphone.server.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = ["--memory", "--app", "demo", "--redis", "redis://127.0.0.1:6390/0"]
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2, out.stderr
    assert "pip install 'sigphone[cluster]'" in out.stderr
    assert "Traceback" not in out.stderr
