"""Fixtures of the SIP gateway tests: our server with a gateway account, the gateway, real
SIP peers (baresip, sipp) on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sigphone.server import SignalServer

from ..support.baresip import Baresip
from ..support.config import APP, CERT_APP, fast_config
from ..support.ports import free_port
from ..support.sipp import Sipp

pytest.importorskip("pjsua2", reason="pip install -e '.[test]' installs pjsua2-python")

from sigphone.sipgw.config import GatewayConfig
from sigphone.sipgw.gateway import Gateway

GATEWAY = "sipgw"


def _need(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.fail(f"{binary} is missing (apt: see .ci/run)")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SignalServer]:
    """The test server, with ``sipgw`` as the gateway account of the test app."""
    cfg = fast_config(tmp_path / "data")
    cfg.calls.gateways[APP] = [GATEWAY]
    cfg.calls.gateways[CERT_APP] = [GATEWAY]
    async with SignalServer(cfg) as srv:
        yield srv


MakeGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def gateway(server: SignalServer) -> AsyncIterator[MakeGateway]:
    """``await gateway(trunk="sip:127.0.0.1:PORT", **config)``: a started gateway."""
    started: list[Gateway] = []

    async def make(**kw: object) -> Gateway:
        cfg = GatewayConfig(
            servers=[server.url],
            app=APP,
            account=GATEWAY,
            port=free_port("both"),
            ice_hosts=["127.0.0.1"],
        )
        for key, value in kw.items():
            setattr(cfg, key, value)
        gw = Gateway(cfg)
        await gw.start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.close()


@pytest.fixture
async def baresip(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Baresip]]]:
    _need("baresip")
    phones: list[Baresip] = []

    async def make(**kw: object) -> Baresip:
        phone = Baresip(tmp_path / f"baresip{len(phones)}", **kw)  # type: ignore[arg-type]
        await phone.start()
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        await phone.stop()


RunSipp = Callable[..., Awaitable[Sipp]]


@pytest.fixture
async def sipp(tmp_path: Path) -> AsyncIterator[RunSipp]:
    """``await sipp("scenario.xml", {"__CODE__": "404"}, *args)``: sipp running a copy of a
    scenario of tests/sipgw/scenarios with the placeholders filled in. (sipp checks status
    codes when it loads a file, before its own keywords are substituted.)"""
    _need("sipp")
    started: list[Sipp] = []

    async def run(scenario: str, fill: dict[str, str] | None = None, *args: str) -> Sipp:
        folder = tmp_path / f"sipp{len(started)}"
        folder.mkdir()
        text = Path(Sipp.scenario(scenario)).read_text()  # noqa: ASYNC240 - a small local file
        for key, value in (fill or {}).items():
            text = text.replace(key, value)
        (folder / scenario).write_text(text)
        peer = await Sipp(folder, "-sf", str(folder / scenario), *args).start()
        started.append(peer)
        return peer

    yield run
    for peer in started:
        await peer.stop()
