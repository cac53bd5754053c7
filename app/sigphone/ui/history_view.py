"""Call history (G6): incoming, outgoing and missed calls from the SQLite store, newest
first; activating a row calls that person back."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from .bridge import Bridge
from .call_view import format_duration
from .icons import icon
from .theme import DANGER

__all__ = ["HistoryView"]


class HistoryView(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Call history")
        self.tree.setHeaderLabels(["", "Who", "When", "Duration", "Result"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemActivated.connect(
            lambda item, _col: self.bridge.dial(item.data(1, Qt.ItemDataRole.UserRole))
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        bridge.history_changed.connect(self.refresh)

    def refresh(self) -> None:
        self.tree.clear()
        for record in self.bridge.store.calls(self.bridge.account):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
            duration = format_duration(record.duration) if record.duration else "—"
            result = (
                record.kind.capitalize()
                if record.kind == record.outcome
                else f"{record.kind.capitalize()}, {record.outcome}"
            )
            item = QTreeWidgetItem(["", record.peer, when, duration, result])
            color = DANGER if record.kind == "missed" else None
            kind_icon = {"missed": "missed", "incoming": "incoming"}.get(record.kind, "outgoing")
            item.setIcon(0, icon(kind_icon, color))
            item.setToolTip(0, record.kind)
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, record.kind)
            item.setData(1, Qt.ItemDataRole.UserRole, record.peer)
            self.tree.addTopLevelItem(item)
        for column in range(5):
            self.tree.resizeColumnToContents(column)
