"""The channel room (G2): join by name, live members with a count, the attribute table
(set, edit, delete, clear; others' changes appear live) and the channel chat.

Large channels (over 200 members) send no member list: the room shows the count and says
why the list is partial, with a button to ask the server for a fresh count.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .bridge import Bridge
from .channel_bridge import RoomAdapter
from .icons import icon

__all__ = ["ChannelView"]


class ChannelView(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.room: RoomAdapter = bridge.room
        #: The attribute row picked for editing: (name, value when picked).
        self._picked: tuple[str, str] | None = None

        # Join / leave.
        self.name = QLineEdit()
        self.name.setPlaceholderText("Channel name, e.g. support")
        self.name.setAccessibleName("Channel name")
        self.name.returnPressed.connect(self.join)
        self.name.textChanged.connect(lambda _t: self._update_join())
        self.join_button = QPushButton(icon("channel"), "&Join")
        self.join_button.setAccessibleName("Join channel")
        self.join_button.clicked.connect(self.join)
        self.leave_button = QPushButton(icon("logout"), "Lea&ve")
        self.leave_button.setAccessibleName("Leave channel")
        self.leave_button.clicked.connect(self.room.leave)
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.join_button)
        top.addWidget(self.leave_button)
        self.status = QLabel("Not in a channel.")
        self.status.setAccessibleName("Channel status")
        self.status.setWordWrap(True)

        # Members.
        self.members_box = QGroupBox("Members")
        self.members = QListWidget()
        self.members.setAccessibleName("Channel members")
        self.members.setSpacing(2)
        self.large_note = QLabel("")
        self.large_note.setWordWrap(True)
        self.large_note.hide()
        self.count_button = QPushButton("Refresh &count")
        self.count_button.setAccessibleName("Refresh member count")
        self.count_button.clicked.connect(self.room.query_count)
        self.count_button.hide()
        members_layout = QVBoxLayout(self.members_box)
        members_layout.addWidget(self.members, 1)
        members_layout.addWidget(self.large_note)
        members_layout.addWidget(self.count_button)

        # Attributes.
        self.table = QTableWidget(0, 2)
        self.table.setAccessibleName("Channel attributes")
        self.table.setHorizontalHeaderLabels(["Name", "Value"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._on_pick_attr)
        self.attr_name = QLineEdit()
        self.attr_name.setPlaceholderText("name")
        self.attr_name.setAccessibleName("Attribute name")
        self.attr_value = QLineEdit()
        self.attr_value.setPlaceholderText("value")
        self.attr_value.setAccessibleName("Attribute value")
        self.attr_value.returnPressed.connect(self.set_attr)
        self.attr_note = QLabel("")
        self.attr_note.setObjectName("noteText")
        self.attr_note.setWordWrap(True)
        self.attr_note.hide()
        self.set_button = QPushButton(icon("add"), "&Set")
        self.set_button.setAccessibleName("Set attribute")
        self.set_button.clicked.connect(self.set_attr)
        self.del_button = QPushButton(icon("delete"), "&Delete")
        self.del_button.setAccessibleName("Delete attribute")
        self.del_button.clicked.connect(self.del_attr)
        self.clear_button = QPushButton("C&lear all")
        self.clear_button.setAccessibleName("Clear all attributes")
        self.clear_button.clicked.connect(self.room.clear_attrs)
        fields = QHBoxLayout()
        fields.addWidget(self.attr_name, 1)
        fields.addWidget(self.attr_value, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.set_button)
        buttons.addWidget(self.del_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        attrs_box = QGroupBox("Attributes")
        attrs_layout = QVBoxLayout(attrs_box)
        attrs_layout.addWidget(self.table, 1)
        attrs_layout.addLayout(fields)
        attrs_layout.addWidget(self.attr_note)
        attrs_layout.addLayout(buttons)

        # Chat.
        self.transcript = QTextBrowser()
        self.transcript.setAccessibleName("Channel messages")
        self.input = QLineEdit()
        self.input.setPlaceholderText("Message to everyone in the channel")
        self.input.setAccessibleName("Channel message")
        self.input.returnPressed.connect(self.send)
        self.send_button = QPushButton(icon("send"), "Se&nd")
        self.send_button.setAccessibleName("Send to channel")
        self.send_button.clicked.connect(self.send)
        send_row = QHBoxLayout()
        send_row.addWidget(self.input, 1)
        send_row.addWidget(self.send_button)
        chat_box = QGroupBox("Chat")
        chat_layout = QVBoxLayout(chat_box)
        chat_layout.addWidget(self.transcript, 1)
        chat_layout.addLayout(send_row)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(attrs_box)
        right.addWidget(chat_box)
        right.setSizes([250, 230])
        split = QSplitter()
        split.addWidget(self.members_box)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([150, 450])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

        self.room.joined.connect(self._on_joined)
        self.room.left.connect(self._on_left)
        self.room.join_failed.connect(self._on_join_failed)
        bridge.logged_in.connect(lambda _a: self.reset())
        self._update_join()
        self.room.members_changed.connect(self._render_members)
        self.room.attrs_changed.connect(self._render_attrs)
        self.room.message.connect(lambda *_: self._render_chat())
        self.room.error.connect(lambda text: self.status.setText(text))
        self._set_enabled(False)

    # --- Actions --------------------------------------------------------------------------

    def join(self) -> None:
        if self.name.text().strip() and self.room.join(self.name.text()) is not None:
            self.status.setText(f"Joining {self.name.text().strip()}…")
        self._update_join()

    def set_attr(self) -> None:
        self.room.set_attr(self.attr_name.text(), self.attr_value.text())
        self._picked = (self.attr_name.text().strip(), self.attr_value.text())
        self.attr_note.hide()

    def reset(self) -> None:
        """A new login: nothing of the last session's room is left on screen."""
        self.status.setText("Not in a channel.")
        self.transcript.clear()
        self.members.clear()
        self.members_box.setTitle("Members")
        self.large_note.hide()
        self.count_button.hide()
        self.attr_name.clear()
        self.attr_value.clear()
        self.attr_note.hide()
        self._picked = None
        self._set_enabled(False)
        self._update_join()

    def _update_join(self) -> None:
        wanted = self.name.text().strip()
        busy = bool(self.room.joining)
        here = bool(wanted) and wanted == self.room.name
        self.join_button.setEnabled(bool(wanted) and not busy and not here)
        self.join_button.setToolTip("You are in this channel" if here else "Join the channel")

    def _on_join_failed(self, text: str) -> None:
        self.status.setText(text)
        self._update_join()

    def del_attr(self) -> None:
        name = self.attr_name.text().strip()
        if name:
            self.room.del_attr(name)

    def send(self) -> None:
        if self.input.text().strip():
            self.room.send(self.input.text())
            self.input.clear()

    # --- Rendering -------------------------------------------------------------------------

    def _on_joined(self, name: str) -> None:
        self.name.setText(name)
        self._picked = None
        self.attr_name.clear()
        self.attr_value.clear()
        self.attr_note.hide()
        self._set_enabled(True)
        self._update_join()
        self._render_members()
        self._render_attrs()
        self._render_chat()
        self.input.setFocus()

    def _on_left(self, name: str, text: str) -> None:
        if self.room.name:  # already in the next channel: the old one's leave is history
            return
        self.status.setText(text)
        self._set_enabled(False)
        self.members.clear()
        self.members_box.setTitle("Members")
        self.large_note.hide()
        self.count_button.hide()
        self.attr_name.clear()
        self.attr_value.clear()
        self.attr_note.hide()
        self._picked = None
        self._update_join()

    def _render_members(self) -> None:
        if not self.room.name:
            return
        members = self.room.members
        count = self.room.count
        self.members.clear()
        for account in members:
            label = f"{account} (you)" if account == self.bridge.account else account
            self.members.addItem(QListWidgetItem(icon("contacts"), label))
        self.members_box.setTitle(f"Members ({count})")
        large = self.room.large
        self.large_note.setVisible(large)
        self.count_button.setVisible(large)
        if large:
            self.large_note.setText(
                f"{count} members: large channels send no member list, so only changes "
                "since you joined are shown."
            )
        noun = "member" if count == 1 else "members"
        self.status.setText(f"In {self.room.name} — {count} {noun}")

    def _render_attrs(self) -> None:
        attrs = self.room.attrs
        self._follow_picked(attrs)
        self.table.blockSignals(True)
        self.table.setRowCount(len(attrs))
        for row, (name, value) in enumerate(sorted(attrs.items())):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, QTableWidgetItem(value))
        self.table.blockSignals(False)
        self.table.resizeColumnToContents(0)

    def _follow_picked(self, attrs: dict[str, str]) -> None:
        """Someone else changed the attribute being edited: an untouched field follows the
        new value; an edited one keeps the edit and says the value changed meanwhile (Set
        then overwrites knowingly, never by accident)."""
        if self._picked is None:
            return
        name, was = self._picked
        if self.attr_name.text().strip() != name:
            return
        now = attrs.get(name)
        if now == was:
            return
        if self.attr_value.text() == was:
            self.attr_value.setText(now or "")
            self._picked = (name, now or "")
            if now is None:
                self.attr_note.setText(f"“{name}” was deleted by someone else.")
                self.attr_note.show()
            return
        if now is None:
            self.attr_note.setText(f"“{name}” was deleted by someone else meanwhile.")
        else:
            self.attr_note.setText(
                f"“{name}” was changed to “{now}” meanwhile. Set replaces it with your value."
            )
        self.attr_note.show()
        self._picked = (name, now or "")

    def _render_chat(self) -> None:
        parts = []
        for line in self.room.lines:
            when = time.strftime("%H:%M", time.localtime(line.at))
            parts.append(
                f'<p><span style="color:gray">{when}</span> <b>{html.escape(line.account)}</b>:'
                f" {html.escape(line.text)}</p>"
            )
        self.transcript.setHtml("".join(parts))
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_pick_attr(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            row = rows[0].row()
            name, value = self.table.item(row, 0), self.table.item(row, 1)
            self.attr_name.setText(name.text() if name else "")
            self.attr_value.setText(value.text() if value else "")
            self._picked = (self.attr_name.text(), self.attr_value.text())
            self.attr_note.hide()

    def _set_enabled(self, joined: bool) -> None:
        self.leave_button.setEnabled(joined)
        for widget in (
            self.table, self.attr_name, self.attr_value, self.set_button, self.del_button,
            self.clear_button, self.input, self.send_button,
        ):  # fmt: skip
            widget.setEnabled(joined)
        if not joined:
            self.table.setRowCount(0)
