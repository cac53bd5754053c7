"""``sigphone --demo`` (G9): an embedded server plus two softphones, alice and bob, side by side.

A composition root above ``sigphone.ui`` (beside ``selftest.py``): it is the one place that
puts the server and the GUI in one process. The server runs in the same asyncio loop on free
local ports, with one app (``demo``, no certificate) and the development token endpoint;
both phones log in through that endpoint, exactly as a user would type it in the login
window.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication

from .phone.paths import Paths
from .phone.sound import Tones
from .phone.voice import media_available
from .server import ServerConfig, SignalServer
from .server.api.server_api import ApiConfig
from .ui.phone import Phone

if TYPE_CHECKING:
    from .media import MediaConfig

__all__ = ["DEMO_ACCOUNTS", "Demo", "demo_phones", "main"]

DEMO_ACCOUNTS = ("alice", "bob")


def _local_media() -> MediaConfig | None:
    """Both phones are in this process: their calls use loopback host candidates only, so
    the demo's voice works on any machine, networked or not (None without the media extra)."""
    if not media_available():
        return None
    from .media import MediaConfig, ice

    return MediaConfig(host_addresses=ice.LOOPBACK)


class Demo:
    def __init__(
        self, tones: Tones | None = None, root: Path | None = None, log_file: Path | None = None
    ) -> None:
        self.tones = tones
        self.log_file = log_file
        self._tmp = tempfile.TemporaryDirectory(prefix="sigphone-demo-") if root is None else None
        self.root: Path = Path(self._tmp.name) if self._tmp is not None else Path(root or ".")
        self.server = SignalServer(
            ServerConfig(
                port=0, data=None, apps={"demo": None}, api_port=0, api=ApiConfig(dev_tokens=True)
            )
        )
        self.phones: list[Phone] = []

    @property
    def token_url(self) -> str:
        assert self.server.api is not None
        return f"http://127.0.0.1:{self.server.api.port}/api/token"

    async def start(self) -> list[Phone]:
        await self.server.start()
        for index, account in enumerate(DEMO_ACCOUNTS):
            paths = Paths.under(self.root / account)
            phone = Phone(
                paths,
                self.tones,
                has_tray=True,
                config=_local_media(),
                # The log the app really writes (the demo's phones have no log of their own).
                log_file=self.log_file or paths.log_file(),
            )
            phone.settings.set("login/remember", False)
            window = phone.login_window
            for field, value in (
                (window.server, self.server.url),
                (window.app_id, "demo"),
                (window.account, account),
                (window.token, self.token_url),
            ):
                field.setText(value)
            self._place(phone, index)
            phone.bridge.login(self.server.url, "demo", account, self.token_url)
            self.phones.append(phone)
        return self.phones

    def _place(self, phone: Phone, index: int) -> None:
        """Side by side on the primary screen."""
        screen = QGuiApplication.primaryScreen()
        window = phone.main_window
        if screen is None:
            return
        area = screen.availableGeometry()
        width = max(360, min(760, area.width() // 2 - 16))
        window.resize(width, max(480, min(600, area.height() - 60)))
        window.move(area.left() + 8 + index * (width + 16), area.top() + 30)
        phone.login_window.move(window.pos())

    async def close(self) -> None:
        for phone in self.phones:
            await phone.bridge.shutdown(1.0)
            phone.close()
        self.phones.clear()
        await self.server.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def demo_phones(tones: Tones | None, log_file: Path) -> Demo:
    """The ``PhoneSet`` factory ``sigphone.ui.app.main`` runs in demo mode."""
    return Demo(tones, log_file=log_file)


def main(argv: list[str] | None = None) -> int:
    from .ui.app import main as app_main

    args = sys.argv[1:] if argv is None else argv
    return app_main(args if "--demo" in args else [*args, "--demo"], phone_set=demo_phones)


if __name__ == "__main__":
    sys.exit(main())
