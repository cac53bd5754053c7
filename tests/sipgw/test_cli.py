"""``sigphone-sipgw`` as its own process: flags, joining the app, serving SIP, clean exit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from sigphone.sipgw.cli import build_parser, config_from_args
from sigphone.sipgw.config import GatewayConfig

from ..support.config import APP
from ..support.ports import free_port
from ..support.waiting import until
from .conftest import GATEWAY
from .test_bad_input import _invite


def test_flags_and_toml(tmp_path: Path):
    path = tmp_path / "gw.toml"
    path.write_text(
        "[gateway]\n"
        'server = ["ws://10.0.0.1:9000", "ws://10.0.0.2:9000"]\n'
        'app = "demo:secret"\n'
        'listen = "127.0.0.1:5070"\n'
        'trunk = "sip:pbx.example.org:5060"\n'
        'codecs = ["PCMA/8000"]\n'
        "no_answer_timeout = 30.0\n"
        "[credentials]\n"
        'username = "gw"\npassword = "pw"\nregister = true\n'
    )
    args = build_parser().parse_args(["--config", str(path), "--listen", "127.0.0.1:5080"])
    cfg = config_from_args(args)
    assert cfg.servers == ["ws://10.0.0.1:9000", "ws://10.0.0.2:9000"]
    assert (cfg.app, cfg.certificate) == ("demo", "secret")
    assert (cfg.host, cfg.port) == ("127.0.0.1", 5080)  # the flag wins
    assert cfg.trunk == "sip:pbx.example.org:5060"
    assert cfg.codecs == ["PCMA/8000"] and cfg.no_answer_timeout == 30.0
    assert cfg.credentials is not None and cfg.credentials.register
    args = build_parser().parse_args(["--app", "x", "--server", "ws://a:1,ws://b:2"])
    assert config_from_args(args).servers == ["ws://a:1", "ws://b:2"]
    for bad in (["--app", "x", "--listen", "nowhere"], ["--app", "x", "--trunk", "http://x"], []):
        with pytest.raises(ValueError):
            config_from_args(build_parser().parse_args(bad))
    path.write_text("[gateway]\nfavourite_colour = 1\n")
    with pytest.raises(ValueError):
        GatewayConfig.from_toml(path)


async def test_the_gateway_process_joins_serves_and_exits(server, sipp):
    port = free_port("both")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sigphone.sipgw.cli",
        "--server", server.url, "--app", APP, "--account", GATEWAY,
        "--listen", f"127.0.0.1:{port}", "--trunk", "sip:127.0.0.1:9",
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = b""
            while b"sigphone-sipgw:" not in line:  # pjlib prints its start-up lines first
                line = await proc.stdout.readline()
                assert line, "the gateway exited"
        assert f"SIP on 127.0.0.1:{port}" in line.decode()
        await until(lambda: (APP, GATEWAY) in server.hub.sessions, 10)
        # An INVITE for a user who is not logged in: 480 from the process.
        peer = await sipp("invite_expect.xml", _invite(480), f"127.0.0.1:{port}", "-s", "dave")
        assert await peer.wait() == 0, peer.errors()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
        await until(lambda: (APP, GATEWAY) not in server.hub.sessions, 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
