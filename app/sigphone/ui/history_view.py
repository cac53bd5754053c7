"""Call history (G6): incoming, outgoing and missed calls from the SQLite store, newest
first. Activating a row calls back; the context menu (right click, or the Menu key) also
sends a message, deletes the row or clears the history."""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from .bridge import Bridge
from .call_view import format_duration
from .icons import icon
from .theme import DANGER

__all__ = ["HistoryView", "result_text"]

_OUTCOMES = {
    "answered": "answered",
    "declined": "declined",
    "busy": "busy",
    "no answer": "no answer",
    "offline": "offline",
    "cancelled": "cancelled",
    "failed": "failed",
    "do not disturb": "do not disturb",
}


def result_text(kind: str, outcome: str) -> str:
    """ "Outgoing, offline", "Missed", "Missed, do not disturb"."""
    if kind == outcome:
        return kind.capitalize()
    return f"{kind.capitalize()}, {_OUTCOMES.get(outcome, outcome)}"


class HistoryView(QWidget):
    chat_requested = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Call history")
        self.tree.setHeaderLabels(["", "Who", "When", "Duration", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu_at)
        self.tree.itemActivated.connect(
            lambda item, _col: self.bridge.dial(item.data(1, Qt.ItemDataRole.UserRole))
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        bridge.history_changed.connect(self.refresh)
        self.menu: QMenu | None = None

    def refresh(self) -> None:
        self.tree.clear()
        for record in self.bridge.history():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
            duration = format_duration(record.duration) if record.duration else "—"
            result = result_text(record.kind, record.outcome)
            item = QTreeWidgetItem(["", record.peer, when, duration, result])
            color = DANGER if record.kind == "missed" else None
            kind_icon = {"missed": "missed", "incoming": "incoming"}.get(record.kind, "outgoing")
            item.setIcon(0, icon(kind_icon, color))
            item.setToolTip(0, record.kind)
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, record.kind)
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
            item.setData(1, Qt.ItemDataRole.UserRole, record.peer)
            self.tree.addTopLevelItem(item)
        for column in range(5):
            self.tree.resizeColumnToContents(column)

    def build_menu(self, item: QTreeWidgetItem | None) -> QMenu:
        """Call back, Message, Delete for a row; Clear history always."""
        menu = QMenu(self)
        if item is not None:
            peer = str(item.data(1, Qt.ItemDataRole.UserRole))
            record_id = int(item.data(0, Qt.ItemDataRole.UserRole) or 0)
            call = QAction(icon("call"), f"&Call {peer}", menu)
            call.triggered.connect(lambda: self.bridge.dial(peer))
            chat = QAction(icon("chat"), f"Send a &message to {peer}", menu)
            chat.triggered.connect(lambda: self.chat_requested.emit(peer))
            delete = QAction(icon("delete"), "&Delete this entry", menu)
            delete.triggered.connect(lambda: self.bridge.delete_call(record_id))
            for action in (call, chat, delete):
                menu.addAction(action)
            menu.addSeparator()
        clear = QAction("C&lear history…", menu)
        clear.setEnabled(self.tree.topLevelItemCount() > 0)
        clear.triggered.connect(self.confirm_clear)
        menu.addAction(clear)
        return menu

    def _menu_at(self, pos: QPoint) -> None:
        self.menu = self.build_menu(self.tree.itemAt(pos))
        self.menu.popup(self.tree.viewport().mapToGlobal(pos))

    def confirm_clear(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Clear the call history?",
            "Every call in the list is deleted. This cannot be undone.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        clear = box.addButton("Clear history", QMessageBox.ButtonRole.DestructiveRole)
        box.buttonClicked.connect(lambda b: self.bridge.clear_history() if b is clear else None)
        box.setModal(False)
        box.open()
        self._box = box
