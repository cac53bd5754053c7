"""The dialer (G3): number/account field, keypad, Backspace, Call and Redial.

Digits typed on the keyboard go into the field and play their key tone, like pressing the
keypad. Enter calls. The same keypad sends DTMF when a call is connected (the call view
takes over the page then; see call_view.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from .bridge import Bridge
from .icons import icon
from .keypad import Keypad

__all__ = ["DialerView"]

DIGITS = "0123456789*#"


class DialerView(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.field = QLineEdit()
        self.field.setObjectName("dialField")
        self.field.setPlaceholderText("Account or number")
        self.field.setAccessibleName("Number or account to call")
        self.field.setClearButtonEnabled(False)
        self.field.returnPressed.connect(self.call)
        self.field.installEventFilter(self)

        self.backspace = QPushButton(icon("backspace"), "")
        self.backspace.setAccessibleName("Delete last character")
        self.backspace.setToolTip("Delete last character (Backspace)")
        self.backspace.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.backspace.clicked.connect(self.field.backspace)
        top = QHBoxLayout()
        top.addWidget(self.field, 1)
        top.addWidget(self.backspace)

        self.keypad = Keypad()
        self.keypad.key.connect(self.press)

        self.call_button = QPushButton(icon("call", "white"), "&Call")
        self.call_button.setObjectName("callButton")
        self.call_button.setAccessibleName("Call")
        self.call_button.setToolTip("Call the number or account (Enter)")
        self.call_button.clicked.connect(self.call)
        self.redial_button = QPushButton(icon("redial"), "&Redial")
        self.redial_button.setAccessibleName("Redial the last number")
        self.redial_button.clicked.connect(self.redial)
        actions = QHBoxLayout()
        actions.addWidget(self.redial_button)
        actions.addStretch(1)
        actions.addWidget(self.call_button)

        layout = QVBoxLayout(self)
        layout.addStretch(1)  # with the one below: vertically centred in a tall window
        layout.addLayout(top)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(actions)
        layout.addStretch(1)

    def press(self, digit: str) -> None:
        """A keypad key: play its tone and type it (DTMF goes out only in a call)."""
        self.bridge.tones.key(digit)
        self.field.insert(digit)
        self.field.setFocus()

    def call(self) -> None:
        if self.field.text().strip():
            self.bridge.dial(self.field.text())

    def redial(self) -> None:
        target = self.bridge.redial_target()
        if target:
            self.field.setText(target)
            self.bridge.dial(target)
        else:
            self.bridge.error.emit("Nothing to redial yet.")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Typed digits sound like keypad presses (the field still receives them)."""
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.text() and event.text() in DIGITS and not event.isAutoRepeat():
                self.bridge.tones.key(event.text())
        return False
