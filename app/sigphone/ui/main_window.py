"""The main window: presence in the header, a sidebar of pages, the reconnect banner.

Pages: Phone (dialer, replaced by the call view during a call), Channel, Contacts, Chats,
History, Settings; Ctrl+1..6 reach them. Closing the window hides it to the
tray; quitting is explicit (tray menu or Ctrl+Q), because a softphone must keep ringing.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge
from .call_view import CallView
from .channel_view import ChannelView
from .chat import ChatView
from .contacts import ContactsView
from .dialer import DialerView
from .history_view import HistoryView
from .icons import icon
from .settings_view import SettingsView

__all__ = ["MainWindow"]

_STATUS = {
    "online": ("#2e9d5b", "Online"),
    "connecting": ("#e0a800", "Connecting…"),
    "reconnecting": ("#e0a800", "Reconnecting…"),
    "offline": ("#9e9e9e", "Offline"),
}


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(
        self,
        bridge: Bridge,
        settings_view: SettingsView,
        has_tray: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.has_tray = has_tray
        self.setWindowIcon(icon("app"))
        self.setWindowTitle("Sigphone")
        self.resize(760, 560)

        # Header: who I am and whether I am reachable.
        self.account = QLabel("")
        self.account.setObjectName("peerName")
        self.account.setAccessibleName("My account")
        self.presence = QLabel("")
        self.presence.setAccessibleName("Connection status")
        self.logout_button = QPushButton(icon("logout"), "Log &out")
        self.logout_button.setAccessibleName("Log out")
        self.logout_button.clicked.connect(bridge.logout)
        header = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icon("app").pixmap(32, 32))
        header.addWidget(logo)
        header.addWidget(self.account)
        header.addWidget(self.presence)
        header.addStretch(1)
        header.addWidget(self.logout_button)

        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setAccessibleName("Connection banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        # Pages.
        self.dialer = DialerView(bridge)
        self.call_view = CallView(bridge)
        self.phone = QStackedWidget()
        self.phone.addWidget(self.dialer)
        self.phone.addWidget(self.call_view)
        self.channel = ChannelView(bridge)
        self.contacts = ContactsView(bridge)
        self.chats = ChatView(bridge)
        self.history = HistoryView(bridge)
        self.settings_view = settings_view
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(22, 22))
        self.pages = QStackedWidget()
        self._page_names: list[str] = []
        for name, icon_name, widget in (
            ("Phone", "dialpad", self.phone),
            ("Channel", "channel", self.channel),
            ("Contacts", "contacts", self.contacts),
            ("Chats", "chat", self.chats),
            ("History", "history", self.history),
            ("Settings", "settings", self.settings_view),
        ):
            self.add_page(name, icon_name, widget)
        self.sidebar.currentRowChanged.connect(self._on_page)
        self.sidebar.setCurrentRow(0)

        body = QHBoxLayout()
        body.addWidget(self.sidebar)
        body.addWidget(self.pages, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)

        self._shortcut("Ctrl+E", bridge.hang_up)
        self._shortcut("Ctrl+Shift+A", bridge.accept)
        self._shortcut("Ctrl+Q", self.quit_requested.emit)
        self._shortcut("Ctrl+L", lambda: (self.show_page("Phone"), self.dialer.field.setFocus()))

        bridge.status_changed.connect(self._on_status)
        bridge.logged_in.connect(self._on_logged_in)
        bridge.reconnecting.connect(self._on_reconnecting)
        bridge.reconnected.connect(self.banner.hide)
        bridge.logged_out.connect(lambda _c, _t: self.banner.hide())
        bridge.error.connect(lambda text: self.statusBar().showMessage(text, 8000))
        bridge.call_state.connect(self._on_call_state)
        bridge.missed_changed.connect(self._on_missed)
        self.call_view.finished.connect(self._back_to_dialer)
        self.contacts.chat_requested.connect(self.open_chat)
        self._on_status(bridge.status)

    def add_page(self, name: str, icon_name: str, widget: QWidget) -> None:
        index = len(self._page_names)
        self._page_names.append(name)
        item = QListWidgetItem(icon(icon_name), name)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, name)
        # A fixed row height: item padding from the style sheet is not applied alike by
        # every platform style.
        item.setSizeHint(QSize(0, self.fontMetrics().height() * 2 + 12))
        self.sidebar.addItem(item)
        self.pages.addWidget(widget)
        if index < 9:
            self._shortcut(f"Ctrl+{index + 1}", lambda i=index: self.sidebar.setCurrentRow(i))
        item.setToolTip(f"{name} (Ctrl+{index + 1})")

    def show_page(self, name: str) -> None:
        self.sidebar.setCurrentRow(self._page_names.index(name))

    def open_chat(self, peer: str) -> None:
        self.show_page("Chats")
        self.chats.open_chat(peer)

    def _shortcut(self, keys: str, slot) -> None:  # type: ignore[no-untyped-def]
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)

    def _on_page(self, row: int) -> None:
        self.pages.setCurrentIndex(row)
        if 0 <= row < len(self._page_names) and self._page_names[row] == "History":
            self.bridge.clear_missed()

    def _on_status(self, status: str) -> None:
        color, text = _STATUS.get(status, ("#9e9e9e", status))
        self.presence.setText(f'<span style="color:{color}">●</span> {text}')
        self.presence.setAccessibleDescription(text)

    def _on_logged_in(self, account: str) -> None:
        self.account.setText(account)
        self.setWindowTitle(f"Sigphone — {account}")
        self.banner.hide()
        self._on_missed(self.bridge.missed)

    def _on_reconnecting(self, attempt: int) -> None:
        self.banner.setText(
            f"Connection lost. Reconnecting (attempt {attempt})… "
            "Calls and messages resume by themselves."
        )
        self.banner.show()

    def _on_call_state(self, _peer: str, state: str, _text: str) -> None:
        if state != "ended":
            self.phone.setCurrentWidget(self.call_view)
            if state != "incoming":
                self.show_page("Phone")
                self.call_view.setFocus()

    def _back_to_dialer(self) -> None:
        if self.bridge.call is None:
            self.phone.setCurrentWidget(self.dialer)

    def _on_missed(self, count: int) -> None:
        row = self._page_names.index("History")
        self.sidebar.item(row).setText(f"History ({count})" if count else "History")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep running in the tray (a softphone must keep ringing); quit is explicit."""
        if self.has_tray:
            event.ignore()
            self.hide()
        else:
            event.ignore()
            self.quit_requested.emit()
