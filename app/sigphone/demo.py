"""``sigphone --demo`` (G9): an embedded server plus two softphones, alice and bob, side by side.

A composition root above ``sigphone.ui`` (beside ``selftest.py``): it is the one place that
puts the server and the GUI in one process. The server runs in the same asyncio loop on free
local ports, with one app (``demo``, no certificate) and the development token endpoint;
both phones log in through that endpoint, exactly as a user would type it in the login
window.

``sigphone --demo --sip-trunk sip:HOST[:PORT]`` adds the SIP gateway (``sigphone.sipgw``, the
``sipgw`` extra): numbers dialled in either phone (``+4930123``) leave as SIP calls to that
trunk (a SIP phone or a PBX), and a SIP phone can call ``sip:alice@127.0.0.1:5070``
(``--sip-listen`` moves the port). docs/sip-gateway.md, "The demo".
"""

from __future__ import annotations

import argparse
import logging
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
    from .sipgw.gateway import Gateway

__all__ = ["DEMO_ACCOUNTS", "Demo", "demo_phones", "main"]

DEMO_ACCOUNTS = ("alice", "bob")
#: The demo gateway's account (the server routes numbers to it).
DEMO_GATEWAY = "sipgw"
#: Where the demo gateway listens for SIP unless --sip-listen says otherwise.
DEFAULT_SIP_PORT = 5070

log = logging.getLogger("sigphone.demo")


async def _start_gateway(server_url: str, trunk: str, port: int) -> Gateway:
    """The SIP gateway in this process, on loopback like the phones' media."""
    try:
        from .sipgw.config import GatewayConfig
        from .sipgw.gateway import Gateway
    except ImportError as exc:
        raise RuntimeError(
            f"the demo's SIP gateway needs pip install 'sigphone[sipgw]' ({exc})"
        ) from exc
    config = GatewayConfig(
        servers=[server_url],
        app="demo",
        account=DEMO_GATEWAY,
        port=port,
        trunk=trunk,
        ice_hosts=["127.0.0.1"],
    )
    gateway = Gateway(config)
    await gateway.start()
    log.info("demo SIP gateway on sip:127.0.0.1:%d, calls to numbers go to %s", port, trunk)
    print(
        f"SIP gateway: numbers go to {trunk}; SIP phones call sip:alice@127.0.0.1:{port}",
        flush=True,
    )
    return gateway


def _local_media() -> MediaConfig | None:
    """Both phones are in this process: their calls use loopback host candidates only, so
    the demo's voice works on any machine, networked or not (None without the media extra)."""
    if not media_available():
        return None
    from .media import MediaConfig, ice

    return MediaConfig(host_addresses=ice.LOOPBACK)


class Demo:
    def __init__(
        self,
        tones: Tones | None = None,
        root: Path | None = None,
        log_file: Path | None = None,
        *,
        sip_trunk: str | None = None,
        sip_port: int = DEFAULT_SIP_PORT,
    ) -> None:
        self.tones = tones
        self.log_file = log_file
        self.sip_trunk = sip_trunk
        self.sip_port = sip_port
        self.gateway: Gateway | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="sigphone-demo-") if root is None else None
        self.root: Path = Path(self._tmp.name) if self._tmp is not None else Path(root or ".")
        config = ServerConfig(
            port=0, data=None, apps={"demo": None}, api_port=0, api=ApiConfig(dev_tokens=True)
        )
        if sip_trunk is not None:
            config.calls.gateways["demo"] = [DEMO_GATEWAY]
        self.server = SignalServer(config)
        self.phones: list[Phone] = []

    @property
    def token_url(self) -> str:
        assert self.server.api is not None
        return f"http://127.0.0.1:{self.server.api.port}/api/token"

    async def start(self) -> list[Phone]:
        await self.server.start()
        if self.sip_trunk is not None:
            self.gateway = await _start_gateway(self.server.url, self.sip_trunk, self.sip_port)
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
        if self.gateway is not None:
            await self.gateway.close()
            self.gateway = None
        await self.server.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def demo_phones(tones: Tones | None, log_file: Path) -> Demo:
    """The ``PhoneSet`` factory ``sigphone.ui.app.main`` runs in demo mode."""
    return Demo(tones, log_file=log_file)


def _demo_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="sigphone --demo", add_help=False)
    parser.add_argument("--sip-trunk", metavar="sip:HOST[:PORT]", default=None)
    parser.add_argument("--sip-listen", metavar="PORT", type=int, default=DEFAULT_SIP_PORT)
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    from .ui.app import main as app_main

    ours, rest = _demo_args(sys.argv[1:] if argv is None else argv)

    def phone_set(tones: Tones | None, log_file: Path) -> Demo:
        return Demo(tones, log_file=log_file, sip_trunk=ours.sip_trunk, sip_port=ours.sip_listen)

    args = rest if "--demo" in rest else [*rest, "--demo"]
    return app_main(args, phone_set=phone_set if ours.sip_trunk else demo_phones)


if __name__ == "__main__":
    sys.exit(main())
