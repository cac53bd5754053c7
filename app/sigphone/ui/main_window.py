"""The main window: presence in the header, a sidebar of pages, the reconnect banner.

Pages: Phone (dialer, replaced by the call view during a call), Channel, Contacts, Chats,
History, Settings; Ctrl+1..6 reach them. During a call every other page shows a bar
"In call with bob 01:23" that returns to the call. Below 560 px wide the sidebar shows
icons only and the keypad shrinks (the compact layout works down to 320 x 480). Closing
the window hides it to the tray; quitting is explicit (tray menu or Ctrl+Q), because a
softphone must keep ringing.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge
from .call_view import CallView, format_duration
from .channel_view import ChannelView
from .chat import ChatView
from .contacts import ContactsView
from .dialer import DialerView
from .history_view import HistoryView
from .icons import icon
from .settings_view import SettingsView
from .tray import badge_icon

__all__ = ["MainWindow"]

_STATUS = {
    "online": ("#2e9d5b", "Online"),
    "connecting": ("#e0a800", "Connecting…"),
    "reconnecting": ("#e0a800", "Reconnecting…"),
    "offline": ("#9e9e9e", "Offline"),
}

_ICONS = {"Chats": "chat", "History": "history"}

#: Narrower than this, the sidebar shows icons only and the keypad shrinks.
COMPACT_WIDTH = 560
MIN_SIZE = QSize(320, 480)
#: The widest the dialer and the call view grow.
PHONE_COLUMN = 560


class MainWindow(QMainWindow):
    quit_requested = Signal()
    dnd_changed = Signal(bool)

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
        self.setMinimumSize(MIN_SIZE)
        self.resize(760, 560)
        self.compact = False

        # Header: who I am and whether I am reachable.
        self.account = QLabel("")
        self.account.setObjectName("peerName")
        self.account.setAccessibleName("My account")
        self.presence = QLabel("")
        self.presence.setAccessibleName("Connection status")
        self.dnd = QCheckBox("Do not &disturb")
        self.dnd.setAccessibleName("Do not disturb")
        self.dnd.setToolTip("Decline every call as busy; they are kept as missed calls")
        self.dnd.setChecked(bridge.dnd)
        self.dnd.toggled.connect(self._on_dnd)
        self.logout_button = QPushButton(icon("logout"), "Log &out")
        self.logout_button.setAccessibleName("Log out")
        self.logout_button.clicked.connect(self.confirm_logout)
        header = QHBoxLayout()
        self.logo = QLabel()
        self.logo.setPixmap(icon("app").pixmap(32, 32))
        header.addWidget(self.logo)
        header.addWidget(self.account)
        header.addWidget(self.presence)
        header.addStretch(1)
        header.addWidget(self.dnd)
        header.addWidget(self.logout_button)

        # The in-call bar: on every page but the call itself; a click returns to the call.
        self.call_bar = QPushButton("")
        self.call_bar.setObjectName("callBar")
        self.call_bar.setAccessibleName("Return to the call")
        self.call_bar.setIcon(icon("call", "white"))
        self.call_bar.clicked.connect(self.show_call)
        self.call_bar.hide()
        self._bar_timer = QTimer(self)
        self._bar_timer.setInterval(1000)
        self._bar_timer.timeout.connect(self._update_call_bar)

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
        # A large window: the dialer and the call view stay a phone-sized column in the
        # middle (a 1200 px wide number field and a Call button at the far edge help nobody).
        column = QWidget()
        column.setMaximumWidth(PHONE_COLUMN)
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.phone)
        phone_page = QWidget()
        phone_layout = QHBoxLayout(phone_page)
        phone_layout.setContentsMargins(0, 0, 0, 0)
        phone_layout.addStretch(1)
        phone_layout.addWidget(column, 100)
        phone_layout.addStretch(1)
        self.channel = ChannelView(bridge)
        self.contacts = ContactsView(bridge)
        self.chats = ChatView(bridge)
        self.history = HistoryView(bridge)
        self.settings_view = settings_view
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setAlternatingRowColors(False)
        self.sidebar.setIconSize(QSize(22, 22))
        self.pages = QStackedWidget()
        self._page_names: list[str] = []
        for name, icon_name, widget in (
            ("Phone", "dialpad", phone_page),
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
        layout.addWidget(self.call_bar)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self._body = layout

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
        bridge.unread_changed.connect(self._on_unread)
        self.call_view.finished.connect(self._back_to_dialer)
        self.contacts.chat_requested.connect(self.open_chat)
        self.history.chat_requested.connect(self.open_chat)
        self._on_status(bridge.status)
        self._confirm: QMessageBox | None = None

    def add_page(self, name: str, icon_name: str, widget: QWidget) -> None:
        index = len(self._page_names)
        self._page_names.append(name)
        item = QListWidgetItem(icon(icon_name), name)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, name)
        # A fixed row height: item padding from the style sheet is not applied alike by
        # every platform style.
        item.setSizeHint(QSize(0, self.fontMetrics().height() * 2 + 12))
        item.setData(Qt.ItemDataRole.UserRole, name)
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

    def page_name(self) -> str:
        row = self.sidebar.currentRow()
        return self._page_names[row] if 0 <= row < len(self._page_names) else ""

    def show_call(self) -> None:
        """The call view, from any page (the in-call bar, an incoming call, answering)."""
        if self.bridge.in_call:
            self.phone.setCurrentWidget(self.call_view)
        self.show_page("Phone")

    def confirm_logout(self) -> None:
        """Logging out ends the call: ask first (non-modal: never exec() in the loop)."""
        if not self.bridge.in_call:
            self.bridge.logout()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Log out during a call?",
            f"Logging out ends your call with {self.bridge.call_peer}.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        end = box.addButton("End call and log out", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda b: self.bridge.logout() if b is end else None)
        box.setModal(False)
        box.open()
        self._confirm = box

    def _on_dnd(self, on: bool) -> None:
        self.bridge.set_dnd(on)
        self.dnd_changed.emit(on)
        self._on_status(self.bridge.status)

    def _on_page(self, row: int) -> None:
        self.pages.setCurrentIndex(row)
        name = self.page_name()
        if name == "History":
            self.bridge.clear_missed()
        self.bridge.view_chat(self.chats.peer if name == "Chats" and self.isVisible() else "")
        self._update_call_bar()

    def _update_call_bar(self) -> None:
        on_call = self.bridge.in_call and not (
            self.page_name() == "Phone" and self.phone.currentWidget() is self.call_view
        )
        if on_call:
            peer = self.bridge.call_peer
            status = self.bridge.call_status
            if status == "connected":
                what = "On hold with" if self.bridge.held else "In call with"
                text = f"{what} {peer}  {format_duration(self.bridge.call_elapsed())}"
            elif status == "incoming":
                text = f"{peer} is calling"
            else:
                text = f"Calling {peer}…"
            self.call_bar.setText(
                f"{text}  ›" if self.compact else f"{text}  —  return to the call"
            )
            self._bar_timer.start()
        else:
            self._bar_timer.stop()
        self.call_bar.setVisible(on_call)

    def _set_item_text(self, name: str, text: str, count: int = 0) -> None:
        item = self.sidebar.item(self._page_names.index(name))
        # The count also sits on the icon: visible in the compact, icons-only sidebar.
        item.setIcon(badge_icon(count, icon(_ICONS[name])))
        item.setData(Qt.ItemDataRole.UserRole + 1, text)
        item.setText("" if self.compact else text)
        item.setToolTip(f"{text} (Ctrl+{self._page_names.index(name) + 1})")
        item.setData(Qt.ItemDataRole.AccessibleTextRole, text)

    def _on_unread(self, count: int) -> None:
        self._set_item_text("Chats", f"Chats ({count})" if count else "Chats", count)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.set_compact(event.size().width() < COMPACT_WIDTH)

    def set_compact(self, compact: bool) -> None:
        """Icons-only sidebar, smaller keys and header: MicroSIP's narrow shape."""
        if compact == self.compact:
            return
        self.compact = compact
        self.sidebar.setFixedWidth(52 if compact else 150)
        for row, name in enumerate(self._page_names):
            item = self.sidebar.item(row)
            text = item.data(Qt.ItemDataRole.UserRole + 1) or name
            item.setText("" if compact else text)
        self.logo.setVisible(not compact)
        self.dnd.setText("DND" if compact else "Do not &disturb")
        self.logout_button.setText("" if compact else "Log &out")
        self.logout_button.setToolTip("Log out")
        for pad in (self.dialer.keypad, self.call_view.keypad):
            pad.set_compact(compact)
        self.call_view.set_compact(compact)
        self.setProperty("compact", compact)

    def _on_status(self, status: str) -> None:
        color, text = _STATUS.get(status, ("#9e9e9e", status))
        if status == "online" and self.bridge.dnd:
            color, text = "#c62828", "Do not disturb"
        self.presence.setText(f'<span style="color:{color}">●</span> {text}')
        self.presence.setAccessibleDescription(text)

    def _on_logged_in(self, account: str) -> None:
        self.account.setText(account)
        self.setWindowTitle(f"Sigphone — {account}")
        self.banner.hide()
        self._on_missed(self.bridge.missed)
        self._on_unread(self.bridge.unread_total())

    def _on_reconnecting(self, attempt: int) -> None:
        self.banner.setText(
            f"Connection lost. Reconnecting (attempt {attempt})… "
            "Calls and messages resume by themselves."
        )
        self.banner.show()

    def _on_call_state(self, _peer: str, state: str, _text: str) -> None:
        if state != "ended":
            self.phone.setCurrentWidget(self.call_view)
            if state in ("calling", "ringing"):
                self.show_page("Phone")
                self.call_view.setFocus()
        self._update_call_bar()

    def _back_to_dialer(self) -> None:
        if not self.bridge.in_call:
            self.phone.setCurrentWidget(self.dialer)
        self._update_call_bar()

    def _on_missed(self, count: int) -> None:
        self._set_item_text("History", f"History ({count})" if count else "History", count)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Keep running in the tray (a softphone must keep ringing); quit is explicit."""
        if self.has_tray:
            event.ignore()
            self.hide()
        else:
            event.ignore()
            self.quit_requested.emit()
