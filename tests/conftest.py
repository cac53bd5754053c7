"""Shared fixtures: a real server on 127.0.0.1 with an ephemeral port, real SDK clients."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from sigphone.media.devices import list_devices, load_sounddevice
from sigphone.sdk import Session
from sigphone.server import SignalServer

from .support.config import NO_TOKEN, fast_config, fast_signal
from .support.pulse import PulseAudio


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


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseAudio]:
    """A private PulseAudio daemon with a virtual microphone and speaker (tests/support/pulse.py),
    made PortAudio's default devices for the whole test session.

    Missing pulseaudio or libportaudio2 skips locally but fails when SIGPHONE_REQUIRE_AUDIO=1
    (.ci/run sets it after installing them): CI never skips the full-path audio tests.
    """
    missing = [b for b in ("pulseaudio", "pactl", "pacat", "parec") if not shutil.which(b)]
    sd, error = load_sounddevice()
    if sd is None:
        missing.append(error or "sounddevice")
    if missing:
        why = "full-path audio needs " + ", ".join(missing) + " (apt: see .ci/run)"
        if os.environ.get("SIGPHONE_REQUIRE_AUDIO") == "1":
            pytest.fail(why)
        pytest.skip(why)
    daemon = PulseAudio()
    daemon.start()
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = daemon.server
    list_devices(rescan=True)  # PortAudio froze its device list at import: read it again
    try:
        yield daemon
    finally:
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        list_devices(rescan=True)
        daemon.stop()
