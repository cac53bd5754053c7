"""One softphone: a bridge and its windows (login, main, incoming popup) wired together.

The app has one Phone; demo mode has two (alice and bob) in the same process and loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .audio import Tones
from .bridge import Bridge, SignalFactory, _default_signal
from .incoming import IncomingCallPopup
from .login import LoginWindow
from .main_window import MainWindow
from .paths import Paths
from .settings import AppSettings
from .settings_view import SettingsView
from .store import UserStore
from .uri import dial_target
from .voice import make_voice

if TYPE_CHECKING:
    from ..media import MediaConfig

__all__ = ["Phone"]


class Phone(QObject):
    def __init__(
        self,
        paths: Paths,
        tones: Tones | None = None,
        signal_factory: SignalFactory = _default_signal,
        has_tray: bool = True,
        presence_interval: float = 5.0,
        config: MediaConfig | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.settings = AppSettings(paths)
        self.store = UserStore(paths.database())
        if tones is None:
            # One Voice (one AudioIO, one mixed output stream) per phone: in demo mode alice
            # and bob each capture their own microphone stream instead of sharing one queue.
            tones = make_voice(
                self._chosen_devices, config, self._chosen_ringtone, self._chosen_ringer
            )
        self.bridge = Bridge(self.store, tones, signal_factory, presence_interval, self)
        self.login_window = LoginWindow(self.bridge, self.settings)
        self.settings_view = SettingsView(self.settings, paths.log_file())
        self.main_window = MainWindow(self.bridge, self.settings_view, has_tray)
        self.popup = IncomingCallPopup(self.bridge)
        self._pending_dial: str | None = None
        self._closed = False
        self._minimised_start = False
        self.bridge.logged_in.connect(self._on_logged_in)
        self.bridge.logged_out.connect(self._on_logged_out)

    def _chosen_devices(self) -> tuple[str, str]:
        """Microphone and speaker from Settings, read when the streams next open."""
        return self.settings.text("audio/input"), self.settings.text("audio/output")

    def _chosen_ringtone(self) -> str:
        """The ringtone's name from Settings, read each time a call starts ringing."""
        return self.settings.text("audio/ringtone")

    def _chosen_ringer(self) -> str:
        """The ringer output from Settings ("" = same as the speaker), read at each ring."""
        return self.settings.text("audio/ringer")

    def start(self, minimised: bool = False) -> None:
        """Show the login window; minimised to the tray, log in with the remembered details
        instead (the login window appears only if that fails, with the reason)."""
        window = self.login_window
        fields = [f.text().strip() for f in (window.server, window.app_id, window.account,
                                             window.token)]  # fmt: skip
        if minimised and self.settings.flag("login/remember") and all(fields):
            self._minimised_start = True
            self.bridge.login_failed.connect(self._show_login_once)
            self.bridge.login(*fields)
        else:
            window.show()

    def _show_login_once(self, _code: int, _text: str) -> None:
        self.bridge.login_failed.disconnect(self._show_login_once)
        self._minimised_start = False
        self.login_window.show()

    def show(self) -> None:
        window = self.main_window if self.bridge.status != "offline" else self.login_window
        window.show()
        window.raise_()
        window.activateWindow()

    def handle_message(self, message: str) -> None:
        """A line from a second launch: "show", or a ``tel:``/``sigphone:`` link to dial."""
        target = dial_target(message)
        self.show()
        if target is None:
            return
        if self.bridge.status == "online":
            self.main_window.show_page("Phone")
            self.main_window.dialer.field.setText(target)
            self.bridge.dial(target)
        else:
            self._pending_dial = target

    def _on_logged_in(self, _account: str) -> None:
        if self._minimised_start:
            self._minimised_start = False  # stay in the tray this once
        else:
            self.main_window.show()
        if self._pending_dial:
            target, self._pending_dial = self._pending_dial, None
            self.main_window.dialer.field.setText(target)
            self.bridge.dial(target)

    def _on_logged_out(self, _code: int, _text: str) -> None:
        self.popup.hide()
        self.main_window.hide()
        self.login_window.show()

    def close(self) -> None:
        """Drop the windows and the store (once; the app and tests may both call it)."""
        if self._closed:
            return
        self._closed = True
        for window in (self.popup, self.main_window, self.login_window):
            window.hide()
            window.deleteLater()
        self.store.close()
