"""Shared fixtures: a real server on 127.0.0.1 with an ephemeral port, real SDK clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sigphone.sdk import Session, Signal
from sigphone.server import HubConfig, ServerConfig, SignalServer

#: An app without a certificate (accepts _no_need_token) and one with a certificate.
APP = "testapp"
CERT_APP = "C5D15F8FD394285DA5227B533302A518"
CERT = "fe1a0437bf217bdd34cd65053fb0fe1d"
NO_TOKEN = "_no_need_token"


def fast_config(data: Path | None) -> ServerConfig:
    """Short time limits so tests run in milliseconds (defaults are proven separately)."""
    return ServerConfig(
        port=0,
        data=data,
        apps={APP: None, CERT_APP: CERT},
        hub=HubConfig(resume_grace=0.3, purge_interval=3600),
    )


def fast_signal(url: str, app: str = APP) -> Signal:
    sig = Signal(app, server=url)
    sig.request_timeout = 10.0
    sig.connect_timeout = 5.0
    sig.reconnect_delay = 0.05
    sig.reconnect_delay_max = 0.3
    sig.ack_delay = 0.01
    return sig


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SignalServer]:
    async with SignalServer(fast_config(tmp_path / "data")) as srv:
        yield srv


Login = Callable[..., Awaitable[Session]]


@pytest.fixture
async def login(server: SignalServer) -> AsyncIterator[Login]:
    """``await login("alice")``: a logged-in session on the test server (logged out after)."""
    sessions: list[Session] = []

    async def do_login(account: str, token: str = NO_TOKEN, **kw: object) -> Session:
        session = await fast_signal(server.url).login(account, token, **kw)  # type: ignore[arg-type]
        sessions.append(session)
        return session

    yield do_login
    for session in sessions:
        if session.get_status():
            await session.logout()
