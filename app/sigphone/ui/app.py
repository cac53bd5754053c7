"""``sigphone``: the softphone's start-up, one qasync loop, tray, single instance, quit.

Start-up order matters: parse arguments, hand a link to a running instance if there is one
(and exit), then create the loop, the theme, the windows and the tray. Quit is explicit
(tray menu, Ctrl+Q, or ``sigphone --quit`` from a shell): it logs out, stops sound and
cancels tasks with a short timeout, so the process never hangs on exit.

Demo mode is a composition root outside ``ui`` (``sigphone.demo``): it passes a
``PhoneSet`` factory to ``main``, so this package never imports the server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from .. import __version__
from ..phone.paths import Paths
from ..phone.sound import Tones
from ..phone.tasks import install_excepthook
from .gc_guard import GcGuard
from .logs import setup_logging
from .loop import QasyncLoop
from .phone import Phone
from .settings import AppSettings
from .single_instance import SingleInstance, instance_name
from .theme import apply_theme
from .tray import Tray

__all__ = ["PhoneSet", "PhoneSetFactory", "SoftphoneApp", "main"]


class PhoneSet(Protocol):
    """Several phones started together (the demo): ``start`` returns them logged in or
    logging in; ``close`` ends them and whatever they need (the demo's server)."""

    async def start(self) -> list[Phone]: ...
    async def close(self) -> None: ...


#: ``(tones, log_file) -> PhoneSet``
PhoneSetFactory = Callable[[Tones | None, Path], PhoneSet]

log = logging.getLogger("sigphone.ui")

#: Set as early as possible by ``sigphone.__main__`` / the entry point, for the start-up probe.
STARTED = time.perf_counter()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sigphone", description="Sigphone desktop softphone")
    parser.add_argument("link", nargs="?", help="a tel: or sigphone: link to dial")
    parser.add_argument("--demo", action="store_true",
                        help="start a local server and two softphones (alice and bob)")  # fmt: skip
    parser.add_argument("--minimised", "--minimized", action="store_true",
                        help="start in the tray")  # fmt: skip
    parser.add_argument("--profile", type=Path,
                        help="keep settings, history and logs in this folder")  # fmt: skip
    parser.add_argument("--quit", action="store_true", help="ask a running softphone to quit")
    parser.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"sigphone {__version__}")
    return parser.parse_args(argv)


class SoftphoneApp:
    """Owns the phones (one, or two in demo mode), the tray and the quit sequence."""

    def __init__(
        self,
        app: QApplication,
        args: argparse.Namespace,
        paths: Paths,
        instance: SingleInstance | None,
        tones: Tones | None = None,
        phone_set: PhoneSetFactory | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.app = app
        self.args = args
        self.paths = paths
        self.instance = instance
        self.tones = tones
        self.phone_set = phone_set
        self.log_file = log_file or paths.log_file()
        self.demo: PhoneSet | None = None
        self.phones: list[Phone] = []
        self.tray: Tray | None = None
        self._quit: asyncio.Future[None] | None = None
        self._audio_told = False

    async def run(self) -> None:
        self._quit = asyncio.get_running_loop().create_future()
        has_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if has_tray:
            self.tray = Tray()
            self.tray.show_requested.connect(self.show_all)
            self.tray.logout_requested.connect(self.logout_all)
            self.tray.quit_requested.connect(self.quit)
            self.tray.show()
        if self.phone_set is not None:
            self.demo = self.phone_set(self.tones, self.log_file)
            self.phones = await self.demo.start()
        else:
            # The theme before any window: views draw their icons in the palette's colours.
            apply_theme(self.app, AppSettings(self.paths).text("ui/theme"))
            phone = Phone(self.paths, self.tones, has_tray=has_tray, log_file=self.log_file)
            minimised = (
                self.args.minimised or phone.settings.flag("ui/start_minimised")
            ) and has_tray
            phone.start(minimised=minimised)
            self.phones = [phone]
        for phone in self.phones:
            self._wire(phone, has_tray)
        if self.instance is not None:
            self.instance.received.connect(self.on_forwarded)
        if self.args.link:
            log.info("link on the command line: %s", self.args.link)
            self.phones[0].handle_message(self.args.link)
        QTimer.singleShot(0, self._started)
        await self._quit
        await self.shutdown()

    def _started(self) -> None:
        elapsed = time.perf_counter() - STARTED
        log.info("login window shown %.3f s after start", elapsed)
        if self.args.startup_probe:  # bench/ui_startup.py measures from before the spawn
            print(f"shown_at: {time.time():.6f}", flush=True)
            self.quit()

    def on_forwarded(self, message: str) -> None:
        log.info("forwarded from another launch: %s", message)
        if message == "quit":
            self.quit()
        elif self.phones:
            self.phones[0].handle_message(message)

    def show_all(self) -> None:
        for phone in self.phones:
            phone.show()

    def logout_all(self) -> None:
        for phone in self.phones:
            phone.bridge.logout()

    def quit(self) -> None:
        if self._quit is not None and not self._quit.done():
            self._quit.set_result(None)

    async def shutdown(self) -> None:
        log.info("quitting")
        for phone in self.phones:
            await phone.bridge.shutdown(2.0)
        if self.demo is not None:
            await self.demo.close()
        else:
            for phone in self.phones:
                phone.close()
        self.phones.clear()
        if self.tray is not None:
            self.tray.hide()
        if self.instance is not None:
            self.instance.close()

    def _wire(self, phone: Phone, has_tray: bool) -> None:
        bridge = phone.bridge
        phone.main_window.has_tray = has_tray
        phone.main_window.quit_requested.connect(self.quit)
        phone.main_window.dnd_changed.connect(
            lambda on, p=phone: (p.settings.set("calls/dnd", on), p.settings.sync())
        )
        phone.popup.tray_geometry = self._tray_geometry
        bridge.incoming_call.connect(self._notify_incoming)
        bridge.call_waiting.connect(
            lambda peer, number: self._notify_incoming(peer, number) if peer else self._close_call()
        )
        bridge.call_state.connect(self._on_call_state)
        bridge.missed_changed.connect(self._update_badge)
        bridge.unread_changed.connect(self._update_badge)
        bridge.message_received.connect(self._notify_message)
        bridge.logged_in.connect(lambda _a, p=phone: self._tell_audio(p))

    def _on_call_state(self, _peer: str, state: str, _text: str) -> None:
        if state != "incoming":
            self._close_call()

    def _tray_geometry(self) -> QRect:
        return self.tray.geometry() if self.tray is not None else QRect()

    def _notify_incoming(self, peer: str, number: str) -> None:
        if self.tray is not None:
            seconds = max(p.core.calls.no_answer_timeout for p in self.phones)
            self.tray.notify_incoming(peer, number, seconds)

    def _close_call(self) -> None:
        """The call stopped ringing: its notification goes (if no other phone rings)."""
        ringing = any(
            p.bridge.call_status == "incoming" or p.bridge.waiting_peer for p in self.phones
        )
        if self.tray is not None and not ringing:
            self.tray.close_notification("call")

    def _notify_message(self, peer: str, text: str) -> None:
        if self.tray is not None:
            self.tray.notify_message(peer, text)

    def _update_badge(self, _count: int = 0) -> None:
        if self.tray is not None:
            self.tray.missed = sum(p.bridge.missed for p in self.phones)
            self.tray.set_unread(sum(p.bridge.unread_total() for p in self.phones))

    def _tell_audio(self, phone: Phone) -> None:
        """M3: say once that there is no sound; everything else keeps working."""
        problem = phone.bridge.tones.problem
        if problem:
            phone.main_window.statusBar().showMessage(problem, 15000)
            if not self._audio_told:
                self._audio_told = True
                log.warning("%s", problem)


def main(argv: list[str] | None = None, phone_set: PhoneSetFactory | None = None) -> int:
    """The softphone; ``phone_set`` starts several phones instead of one (``sigphone
    --demo`` passes the demo's)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.demo and phone_set is None:
        # The demo's server lives above ui, in sigphone.demo (``sigphone --demo`` goes there).
        print("start the demo with: sigphone --demo", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Sigphone")
    app.setOrganizationName("Sigphone")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)
    paths = Paths.under(args.profile) if args.profile else Paths.default()
    log_file = paths.log_file()
    setup_logging(log_file)

    instance: SingleInstance | None = None
    if phone_set is None:
        instance = SingleInstance(instance_name(str(paths.config.resolve())))
        if instance.forward("quit" if args.quit else (args.link or "show")):
            print("sigphone is already running: handed over", flush=True)
            return 0
        if args.quit:
            print("sigphone is not running", flush=True)
            return 1
        if not instance.listen():
            # Another launch became first since our forward() (two clicks on one link).
            if instance.hand_over(args.link or "show"):
                print("sigphone is already running: handed over", flush=True)
                return 0
            log.warning("single-instance socket unavailable; links will open new windows")
            instance = None

    apply_theme(app)
    loop = QasyncLoop(app)
    gc_guard = GcGuard(parent=app).install()  # collect on the GUI thread only (gc_guard.py)
    asyncio.set_event_loop(loop)
    install_excepthook(lambda text: _show_error(text))
    softphone = SoftphoneApp(app, args, paths, instance, phone_set=phone_set, log_file=log_file)
    with loop:
        loop.run_until_complete(softphone.run())
    gc_guard.uninstall()
    return 0


def _show_error(text: str) -> None:
    """Non-modal (no exec() inside the loop): the message box shows and returns at once."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Sigphone", f"Something went wrong:\n{text}")
    box.setModal(False)
    box.open()
    _boxes.append(box)
    box.finished.connect(lambda _r, b=box: _boxes.remove(b))


_boxes: list[QMessageBox] = []
