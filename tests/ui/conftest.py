"""GUI tests: Qt offscreen, every async test on a qasync loop, a real local server.

pytest-asyncio 1.5 builds each test's loop through ``pytest_asyncio_loop_factories``; we
return a qasync loop over the one QApplication, so SDK coroutines, Qt signals and widgets
share the loop exactly as in the app.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The hypothesis plugin imports hypothesis lazily in its terminal summary. After a Qt
# session, that late import (a pytest assertion-rewrite compile) intermittently fails on
# CPython 3.11.7 with "SystemError: AST constructor recursion depth mismatch" (CPython
# gh-106905) when tests/ui runs on its own; importing it here, before any Qt work, avoids
# the late compile. The full suite imports it early anyway (property tests).
import hypothesis  # noqa: F401
import pytest
import pytestqt.plugin
from PySide6.QtWidgets import QApplication

from sigphone.phone.core import PhoneCore, PhoneOptions
from sigphone.phone.sound import SilentTones
from sigphone.phone.store import UserStore
from sigphone.server import SignalServer
from sigphone.ui.bridge import Bridge
from sigphone.ui.loop import QasyncLoop

from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.keyrings import MemoryKeyring, use_keyring
from ..support.waiting import until


def _leave_qt_events_to_the_loop() -> None:
    """pytest-qt calls QApplication.processEvents() between test phases (after setup, after
    the call, around teardown), when no asyncio loop is running. qasync schedules asyncio
    callbacks as Qt timer events, so that would step the test's tasks outside their loop
    ("RuntimeError: no running event loop", or on the next test's loop). Here every Qt
    event is processed by the qasync loop while a test or fixture runs; between phases the
    events stay queued for it."""


pytestqt.plugin._process_events = _leave_qt_events_to_the_loop


def qt_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(["sigphone-tests"])
        app.setQuitOnLastWindowClosed(False)
    assert isinstance(app, QApplication)
    return app


#: Errors the qasync loop reported during the current test (callbacks, unretrieved tasks).
LOOP_ERRORS: list[dict[str, object]] = []


def _qasync_loop() -> asyncio.AbstractEventLoop:
    loop = QasyncLoop(qt_app())
    loop.set_exception_handler(lambda _loop, context: LOOP_ERRORS.append(context))
    return loop


def pytest_asyncio_loop_factories(config: object, item: object) -> dict[str, Callable[[], object]]:
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def _no_loop_errors() -> Iterator[None]:
    """A test fails on an error its loop reported, even if nothing awaited the failure
    (the loop's exception handler collects them; the message names the task)."""
    LOOP_ERRORS.clear()
    yield
    # Collect the test's cyclic garbage (widgets, bridges) here, on the GUI thread: left to
    # chance, the collector may run in a worker thread (asyncio's getaddrinfo executor,
    # the voice layer's PortAudio calls) and free QObjects there, which crashes Qt later.
    gc.collect()
    errors = [
        f"{c.get('message')}: {c.get('exception')!r} in {c.get('future') or c.get('handle')!r}"
        for c in LOOP_ERRORS
    ]
    LOOP_ERRORS.clear()
    assert errors == []


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every GUI test gets an empty in-memory keyring, never the desktop's."""
    with use_keyring(MemoryKeyring()) as backend:
        yield backend  # type: ignore[misc]


@pytest.fixture
def qapp() -> QApplication:
    """pytest-qt's application is ours (created before any loop)."""
    return qt_app()


MakeBridge = Callable[..., "asyncio.Future[Bridge]"]


@pytest.fixture
async def make_bridge(server: SignalServer, tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """``bridge = await make_bridge("alice")``: a logged-in Bridge with its own store."""
    bridges: list[Bridge] = []

    async def make(account: str, login: bool = True, **kw: object) -> Bridge:
        store = UserStore(tmp_path / f"{account}-{len(bridges)}.sqlite3")
        core = PhoneCore(
            store,
            SilentTones(),
            signal_factory=lambda app_id, url: fast_signal(url, app_id),  # type: ignore[arg-type]
            options=PhoneOptions(presence_interval=0.05, **kw),  # type: ignore[arg-type]
        )
        bridge = Bridge(core)
        bridges.append(bridge)
        if login:
            bridge.login(server.url, APP, account, NO_TOKEN)
            await until(lambda: bridge.status == "online")
        return bridge

    yield make
    for bridge in bridges:
        await bridge.shutdown()
        bridge.store.close()


@pytest.fixture
async def make_phone(server: SignalServer, tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    """``phone = await make_phone("alice")``: a Phone (bridge + windows) logged in through
    its login window, with its own profile folder under tmp_path."""
    from sigphone.phone.paths import Paths
    from sigphone.ui.phone import Phone

    phones: list[Phone] = []

    async def make(
        account: str, login: bool = True, profile: str | None = None, tones: object = None
    ) -> Phone:
        phone = Phone(
            Paths.under(tmp_path / (profile or account)),
            tones or SilentTones(),  # type: ignore[arg-type]
            signal_factory=lambda app_id, url: fast_signal(url, app_id),
            presence_interval=0.05,
        )
        phones.append(phone)
        phone.start()
        window = phone.login_window
        window.server.setText(server.url)
        window.app_id.setText(APP)
        window.account.setText(account)
        window.token.setText(NO_TOKEN)
        if login:
            window.button.click()
            await until(lambda: phone.bridge.status == "online")
        return phone

    yield make
    for phone in phones:
        await phone.bridge.shutdown()
        phone.close()
