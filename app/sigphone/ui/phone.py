"""One softphone: a ``PhoneCore`` (Qt-free), its Qt adapter and its windows wired together.

The app has one Phone; demo mode has two (alice and bob) in the same process and loop. This
is the composition point of the UI: it builds the core with the sound from Settings and
the token vault, and connects what is not a single view's business (bringing the call view
forward on an incoming call and on answering, the login window after a logout).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt

from ..phone.account import SignalFactory, default_signal
from ..phone.core import PhoneCore, PhoneOptions
from ..phone.credentials import TokenVault
from ..phone.paths import Paths
from ..phone.sound import Tones
from ..phone.store import UserStore
from ..phone.uri import dial_target
from ..phone.voice import make_voice
from .bridge import Bridge
from .incoming import IncomingCallPopup
from .login import LoginWindow
from .main_window import MainWindow
from .settings import AppSettings
from .settings_view import SettingsView

__all__ = ["Phone"]


class Phone(QObject):
    def __init__(
        self,
        paths: Paths,
        tones: Tones | None = None,
        signal_factory: SignalFactory = default_signal,
        has_tray: bool = True,
        presence_interval: float = 15.0,
        config: Any = None,  # a sigphone.media.MediaConfig for each call's media
        log_file: Path | None = None,
        vault: TokenVault | None = None,
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
                self._chosen_devices,
                config,
                self._chosen_ringtone,
                self._chosen_ringer,
                self._volumes,
            )
        options = PhoneOptions(
            no_answer_timeout=float(self.settings.number("calls/no_answer_timeout")),
            presence_interval=presence_interval,
        )
        self.core = PhoneCore(self.store, tones, signal_factory, options)
        self.core.calls.dnd = self.settings.flag("calls/dnd")
        self.bridge = Bridge(self.core, self)
        self.vault = vault if vault is not None else TokenVault()
        self.login_window = LoginWindow(self.bridge, self.settings, self.vault)
        self.settings_view = SettingsView(self.settings, log_file or paths.log_file(), tones=tones)
        self.main_window = MainWindow(self.bridge, self.settings_view, has_tray)
        self.popup = IncomingCallPopup(self.bridge)
        self._pending_dial: str | None = None
        self._closed = False
        self._minimised_start = False
        self.bridge.logged_in.connect(self._on_logged_in)
        self.bridge.logged_out.connect(self._on_logged_out)
        self.bridge.incoming_call.connect(lambda *_: self.bring_call_forward(activate=False))
        self.popup.answered.connect(lambda: self.bring_call_forward(activate=True))
        self.settings_view.timeout_changed.connect(self._on_timeout)

    # --- Settings read when they apply -------------------------------------------------------

    def _chosen_devices(self) -> tuple[str, str]:
        """Microphone and speaker from Settings, read when the streams next open."""
        return self.settings.text("audio/input"), self.settings.text("audio/output")

    def _chosen_ringtone(self) -> str:
        """The ringtone's name from Settings, read each time a call starts ringing."""
        return self.settings.text("audio/ringtone")

    def _chosen_ringer(self) -> str:
        """The ringer output from Settings ("" = same as the speaker), read at each ring."""
        return self.settings.text("audio/ringer")

    def _volumes(self) -> tuple[float, float]:
        """Ring and speaker volume (0..1) from Settings."""
        return (
            self.settings.number("audio/ring_volume") / 100.0,
            self.settings.number("audio/speaker_volume") / 100.0,
        )

    def _on_timeout(self, seconds: int) -> None:
        self.core.calls.no_answer_timeout = float(seconds)

    # --- Windows -------------------------------------------------------------------------------

    def start(self, minimised: bool = False) -> None:
        """Show the login window; minimised to the tray, log in with the remembered details
        instead (the login window appears only if that fails, with the reason)."""
        window = self.login_window
        fields = window.values()
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
        window: Any = self.main_window if self.bridge.status != "offline" else self.login_window
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.activateWindow()

    def bring_call_forward(self, activate: bool) -> None:
        """An incoming call or answering it: the main window comes up on the call view (an
        incoming call does not take the keyboard from another app; answering does)."""
        window = self.main_window
        window.show_call()
        if not activate:
            window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
        if activate:
            window.activateWindow()
            window.call_view.setFocus()

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
        self.settings_view.stop_meter()
        for window in (self.popup, self.main_window, self.login_window):
            window.hide()
            window.deleteLater()
        self.store.close()
