"""The incoming-call popup (G4): caller, number, Accept / Decline; never steals focus.

A frameless-ish tool window that stays on top and is shown without activation
(``WA_ShowWithoutActivating`` + ``WindowDoesNotAcceptFocus``), so someone typing in another
app keeps typing. It closes itself on any state other than "incoming" (answered, declined,
cancelled by the caller, timed out), so it never lingers while nothing rings.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .bridge import Bridge
from .icons import icon

__all__ = ["IncomingCallPopup"]


class IncomingCallPopup(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            Qt.WindowType.Tool
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus,
        )
        self.bridge = bridge
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("Incoming call")
        self.setWindowIcon(icon("incoming"))
        self.setAccessibleName("Incoming call")
        self.caller = QLabel("")
        self.caller.setObjectName("peerName")
        self.caller.setAccessibleName("Caller")
        self.number = QLabel("")
        self.number.setAccessibleName("Caller number")
        self.accept_button = QPushButton(icon("call", "white"), "&Accept")
        self.accept_button.setObjectName("callButton")
        self.accept_button.setAccessibleName("Accept call")
        self.accept_button.clicked.connect(bridge.accept)
        self.refuse_button = QPushButton(icon("hangup", "white"), "&Decline")
        self.refuse_button.setObjectName("hangupButton")
        self.refuse_button.setAccessibleName("Decline call")
        self.refuse_button.clicked.connect(bridge.refuse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refuse_button)
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        picture = QLabel()
        picture.setPixmap(icon("incoming").pixmap(48, 48))
        head = QHBoxLayout()
        head.addWidget(picture)
        text = QVBoxLayout()
        subtitle = QLabel("Incoming call")
        subtitle.setObjectName("callSubtitle")
        text.addWidget(subtitle)
        text.addWidget(self.caller)
        text.addWidget(self.number)
        head.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(12)
        layout.addLayout(head)
        layout.addLayout(buttons)
        self.setMinimumWidth(320)
        bridge.incoming_call.connect(self.ring)
        bridge.call_state.connect(self._on_state)

    def ring(self, peer: str, number: str) -> None:
        self.caller.setText(f"{peer} is calling")
        self.number.setText(f"Number: {number}" if number and number != peer else "")
        self.number.setVisible(bool(self.number.text()))
        self.adjustSize()
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            self.move(area.right() - self.width() - 24, area.bottom() - self.height() - 24)
        self.show()
        self.raise_()

    def _on_state(self, _peer: str, state: str, _text: str) -> None:
        if state != "incoming":
            self.hide()
