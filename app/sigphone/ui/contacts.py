"""Contacts (G6): accounts you add, with online/offline, one click to call or chat.

A name is checked as it is typed and when it is added (a valid account name, not yourself,
not already there in any letter case); the reason shows under the field.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge
from .icons import icon

__all__ = ["ContactsView"]


def presence_dot(online: bool | None) -> QIcon:
    color = "#2e9d5b" if online else ("#d0d0d0" if online is None else "#8d9399")
    pixmap = QPixmap(24, 24)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(color))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 8, 8)
    painter.end()
    return QIcon(pixmap)


class ContactsView(QWidget):
    chat_requested = Signal(str)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.new = QLineEdit()
        self.new.setPlaceholderText("Add a contact by account")
        self.new.setAccessibleName("New contact account")
        self.new.returnPressed.connect(self.add)
        self.new.textChanged.connect(self._check)
        self.add_button = QPushButton(icon("add"), "&Add")
        self.add_button.setAccessibleName("Add contact")
        self.add_button.clicked.connect(self.add)
        top = QHBoxLayout()
        top.addWidget(self.new, 1)
        top.addWidget(self.add_button)
        self.problem = QLabel("")
        self.problem.setObjectName("errorText")
        self.problem.setAccessibleName("Contact problem")
        self.problem.setWordWrap(True)
        self.problem.hide()

        self.list = QListWidget()
        self.list.setAccessibleName("Contacts")
        self.list.itemActivated.connect(
            lambda item: self.bridge.dial(item.data(Qt.ItemDataRole.UserRole))
        )

        self.call_button = QPushButton(icon("call"), "Ca&ll")
        self.call_button.setAccessibleName("Call contact")
        self.call_button.clicked.connect(lambda: self._with_selected(self.bridge.dial))
        self.chat_button = QPushButton(icon("chat"), "C&hat")
        self.chat_button.setAccessibleName("Chat with contact")
        self.chat_button.clicked.connect(lambda: self._with_selected(self.chat_requested.emit))
        self.remove_button = QPushButton(icon("delete"), "Re&move")
        self.remove_button.setAccessibleName("Remove contact")
        self.remove_button.clicked.connect(lambda: self._with_selected(self.bridge.remove_contact))
        actions = QHBoxLayout()
        actions.addWidget(self.call_button)
        actions.addWidget(self.chat_button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.problem)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        bridge.contacts_changed.connect(self.refresh)
        bridge.presence_changed.connect(lambda *_: self.refresh())

    def add(self) -> None:
        problem = self.bridge.add_contact(self.new.text())
        self._show_problem(problem)
        if problem is None:
            self.new.clear()

    def _check(self, text: str) -> None:
        """As it is typed: only what is certainly wrong (spaces, yourself, a duplicate)."""
        self._show_problem(self.bridge.check_contact(text) if text.strip() else None)

    def _show_problem(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.add_button.setEnabled(problem is None or not self.new.text().strip())

    def refresh(self) -> None:
        current = self.selected()
        self.list.clear()
        for account in self.bridge.contacts():
            online = self.bridge.presence.get(account)
            state = "online" if online else ("checking…" if online is None else "offline")
            item = QListWidgetItem(presence_dot(online), f"{account}  —  {state}")
            item.setData(Qt.ItemDataRole.UserRole, account)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{account}, {state}")
            self.list.addItem(item)
            if account == current:
                self.list.setCurrentItem(item)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _with_selected(self, action) -> None:  # type: ignore[no-untyped-def]
        account = self.selected()
        if account:
            action(account)
