"""Controller tests: the Qt-free phone (``sigphone.phone``) on a real server, no QApplication.

``core = await make_core("alice")`` gives a logged-in ``PhoneCore`` with its own store and
``SilentTones``; ``core.events`` is every event it published, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from sigphone.phone.core import PhoneCore, PhoneOptions
from sigphone.phone.sound import SilentTones
from sigphone.phone.store import UserStore
from sigphone.server import SignalServer

from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.waiting import until


class Recorder(list):  # type: ignore[type-arg]
    """The events a core published; ``of(Type)`` filters them."""

    def of(self, kind: type) -> list[Any]:
        return [e for e in self if isinstance(e, kind)]


@pytest.fixture
async def make_core(server: SignalServer, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    cores: list[PhoneCore] = []

    async def make(account: str, login: bool = True, tones: Any = None, **options: Any) -> Any:
        store = UserStore(tmp_path / f"{account}-{len(cores)}.sqlite3")
        core = PhoneCore(
            store,
            tones or SilentTones(),
            signal_factory=lambda app_id, url: fast_signal(url, app_id),  # type: ignore[arg-type]
            options=PhoneOptions(presence_interval=0.05, **options),
        )
        core.events = Recorder()  # type: ignore[attr-defined]
        core.bus.subscribe(core.events.append)  # type: ignore[attr-defined]
        cores.append(core)
        if login:
            core.account.login(server.url, APP, account, NO_TOKEN)
            await until(lambda: core.account.status == "online")
        return core

    yield make
    for core in cores:
        await core.shutdown()
        core.store.close()
