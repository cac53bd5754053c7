"""Point-to-point chat (G6): one conversation per peer, the real outcome on each line.

Lines come from ``Bridge.chats`` (kept in SQLite by the phone, so conversations survive a
logout and a restart); messages kept for you while offline arrive right after login like any
other. Conversations with unread messages show their count; the sidebar shows the total.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge, ChatLine
from .icons import icon

__all__ = ["ChatView"]

_MARK = {
    "sending": "sending…",
    "sent": "✓ sent",
    "delivered": "✓ delivered",
    "failed": "✗ not sent",
    "received": "",
}


def render_line(line: ChatLine, me: str) -> str:
    when = time.strftime("%H:%M", time.localtime(line.at))
    who = me if line.mine else line.peer
    if line.state == "stored":
        mark = f"⏳ kept by the server until {line.peer} logs in"
    else:
        mark = _MARK.get(line.state, line.state)
    color = "#c62828" if line.state == "failed" else "gray"
    return (
        f'<p><span style="color:gray">{when}</span> <b>{html.escape(who)}</b>: '
        f"{html.escape(line.text)}"
        + (f' <span style="color:{color}">{mark}</span>' if mark else "")
        + "</p>"
    )


class ChatView(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.peer = ""
        self.peers = QListWidget()
        self.peers.setAccessibleName("Conversations")
        self.peers.currentItemChanged.connect(self._on_pick)
        self.to = QLineEdit()
        self.to.setPlaceholderText("Chat with… (account)")
        self.to.setAccessibleName("Chat with account")
        self.to.returnPressed.connect(lambda: self.open_chat(self.to.text().strip()))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.to)
        left_layout.addWidget(self.peers, 1)

        self.transcript = QTextBrowser()
        self.transcript.setAccessibleName("Messages")
        self.input = QLineEdit()
        self.input.setPlaceholderText("Type a message and press Enter")
        self.input.setAccessibleName("Message")
        self.input.returnPressed.connect(self.send)
        self.send_button = QPushButton(icon("send"), "&Send")
        self.send_button.setAccessibleName("Send message")
        self.send_button.clicked.connect(self.send)
        bottom = QHBoxLayout()
        bottom.addWidget(self.input, 1)
        bottom.addWidget(self.send_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.transcript, 1)
        right_layout.addLayout(bottom)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([160, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        bridge.chat_changed.connect(self._on_changed)
        bridge.logged_in.connect(lambda _a: self._reset())
        self._set_enabled()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.bridge.view_chat(self.peer)

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().hideEvent(event)
        self.bridge.view_chat("")

    def open_chat(self, peer: str) -> None:
        if not peer:
            return
        self._ensure_peer(peer)
        for row in range(self.peers.count()):
            item = self.peers.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == peer:
                self.peers.setCurrentItem(item)
        self.to.clear()
        self.input.setFocus()

    def send(self) -> None:
        text = self.input.text()
        if self.peer and text.strip():
            self.bridge.send_message(self.peer, text)
            self.input.clear()

    def _reset(self) -> None:
        self.peers.blockSignals(True)
        self.peers.clear()
        self.peers.blockSignals(False)
        self.peer = ""
        self.transcript.clear()
        for peer in self.bridge.chats:  # the conversations kept from earlier sessions
            self._label(self._ensure_peer(peer), peer)
        self._set_enabled()

    def _label(self, item: QListWidgetItem, peer: str) -> None:
        unread = self.bridge.unread(peer)
        item.setText(f"{peer}  ({unread})" if unread else peer)
        item.setData(
            Qt.ItemDataRole.AccessibleTextRole, f"{peer}, {unread} unread" if unread else peer
        )
        font = item.font()
        font.setBold(bool(unread))
        item.setFont(font)

    def _ensure_peer(self, peer: str) -> QListWidgetItem:
        for row in range(self.peers.count()):
            item = self.peers.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == peer:
                return item
        item = QListWidgetItem(icon("chat"), peer)
        item.setData(Qt.ItemDataRole.UserRole, peer)
        self.peers.addItem(item)
        return item

    def _on_pick(self, item: QListWidgetItem | None, _old: object = None) -> None:
        self.peer = "" if item is None else str(item.data(Qt.ItemDataRole.UserRole))
        if self.isVisible():
            self.bridge.view_chat(self.peer)
        if item is not None:
            self._label(item, self.peer)
        self._render()
        self._set_enabled()

    def _on_changed(self, peer: str) -> None:
        item = self._ensure_peer(peer)
        if not self.peer:
            self.peers.setCurrentItem(item)  # read only once the page is on screen
        elif peer == self.peer:
            self._render()
        self._label(item, peer)

    def _render(self) -> None:
        lines = self.bridge.chats.get(self.peer, [])
        self.transcript.setHtml("".join(render_line(x, self.bridge.account) for x in lines))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _set_enabled(self) -> None:
        self.input.setEnabled(bool(self.peer))
        self.send_button.setEnabled(bool(self.peer))
