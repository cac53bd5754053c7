"""Start minimised: log in from the remembered details and stay in the tray; if that login
fails, the login window appears with the reason."""

from __future__ import annotations

from pathlib import Path

from sigphone.phone.paths import Paths
from sigphone.phone.sound import SilentTones
from sigphone.ui.phone import Phone
from sigphone.ui.settings import AppSettings

from ..support.config import APP, NO_TOKEN, fast_signal
from ..support.waiting import until


def _remember(root: Path, url: str, app: str) -> Paths:
    paths = Paths.under(root)
    settings = AppSettings(paths)
    for key, value in (("login/server", url), ("login/app_id", app),
                       ("login/account", "alice"), ("login/token", NO_TOKEN),
                       ("login/remember", True)):  # fmt: skip
        settings.set(key, value)
    settings.sync()
    return paths


async def test_minimised_start_logs_in_without_windows(server, tmp_path: Path) -> None:
    phone = Phone(
        _remember(tmp_path, server.url, APP),
        SilentTones(),
        signal_factory=lambda app_id, url: fast_signal(url, app_id),
    )
    try:
        phone.start(minimised=True)
        await until(lambda: phone.bridge.status == "online")
        assert not phone.login_window.isVisible() and not phone.main_window.isVisible()
    finally:
        await phone.bridge.shutdown()
        phone.close()


async def test_minimised_start_that_fails_shows_the_login_window(server, tmp_path: Path) -> None:
    phone = Phone(
        _remember(tmp_path, server.url, "nosuchapp"),
        SilentTones(),
        signal_factory=lambda app_id, url: fast_signal(url, app_id),
    )
    try:
        phone.start(minimised=True)
        await until(lambda: phone.login_window.isVisible())
        assert phone.login_window.status.text().startswith("The server does not know this app ID.")
    finally:
        await phone.bridge.shutdown()
        phone.close()
