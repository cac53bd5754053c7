"""The incoming-call popup (G4): caller, number, Decline / Answer; never steals focus.

A tool window that stays on top and is shown without activation (``WA_ShowWithoutActivating``
+ ``WindowDoesNotAcceptFocus``), so someone typing in another app keeps typing. It closes
itself on any state other than "incoming" (answered, declined, cancelled by the caller, no
answer), so it never lingers while nothing rings. It also rings for a second call during a
call (call waiting): Answer then puts the first call on hold.

Placement: the corner of the screen away from the tray icon, where notifications appear
(a Windows toast and Qt's own balloon sit next to the tray), so nothing covers Answer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .bridge import Bridge
from .icons import icon

__all__ = ["IncomingCallPopup"]


class IncomingCallPopup(QWidget):
    answered = Signal()  # the user answered here (the main window comes forward)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            Qt.WindowType.Tool
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus,
        )
        self.bridge = bridge
        #: Where the tray icon is (set by the app); the popup keeps clear of it.
        self.tray_geometry: Callable[[], QRect] | None = None
        self.waiting = False
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("Incoming call")
        self.setWindowIcon(icon("incoming"))
        self.setAccessibleName("Incoming call")
        self.caller = QLabel("")
        self.caller.setObjectName("peerName")
        self.caller.setAccessibleName("Caller")
        self.caller.setWordWrap(True)
        self.number = QLabel("")
        self.number.setAccessibleName("Caller number")
        self.note = QLabel("")
        self.note.setObjectName("callSubtitle")
        self.note.setWordWrap(True)
        self.accept_button = QPushButton(icon("call", "white"), "&Answer")
        self.accept_button.setObjectName("callButton")
        self.accept_button.setAccessibleName("Answer call")
        self.accept_button.clicked.connect(self._answer)
        self.refuse_button = QPushButton(icon("hangup", "white"), "&Decline")
        self.refuse_button.setObjectName("hangupButton")
        self.refuse_button.setAccessibleName("Decline call")
        self.refuse_button.clicked.connect(self._decline)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refuse_button)
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        self.picture = QLabel()
        head = QHBoxLayout()
        head.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        self.subtitle = QLabel("Incoming call")
        self.subtitle.setObjectName("callSubtitle")
        text.addWidget(self.subtitle)
        text.addWidget(self.caller)
        text.addWidget(self.number)
        text.addWidget(self.note)
        head.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(12)
        layout.addLayout(head)
        layout.addLayout(buttons)
        self.setMinimumWidth(320)
        self._draw_picture()
        bridge.incoming_call.connect(self.ring)
        bridge.call_waiting.connect(self._on_waiting)
        bridge.call_state.connect(self._on_state)

    def ring(self, peer: str, number: str, waiting: bool = False) -> None:
        self.waiting = waiting
        self.subtitle.setText("Call waiting" if waiting else "Incoming call")
        self.caller.setText(f"{peer} is calling")
        self.number.setText(f"Number: {number}" if number and number != peer else "")
        self.number.setVisible(bool(self.number.text()))
        current = self.bridge.call_peer
        self.note.setText(f"Answer puts {current} on hold." if waiting and current else "")
        self.note.setVisible(bool(self.note.text()))
        self.refuse_button.setText("&Decline (busy)" if waiting else "&Decline")
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        """Bottom right, or top right when the tray is in the lower half of the screen
        (where its notifications appear): never under a notification."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        x = area.right() - self.width() - 24
        tray = self.tray_geometry() if self.tray_geometry is not None else QRect()
        tray_low = tray.isValid() and not tray.isEmpty() and tray.center().y() > area.center().y()
        # Windows toasts and Qt's balloon sit at the bottom right, above the taskbar.
        top = tray_low or tray.isEmpty()
        self.move(x, area.top() + 24 if top else area.bottom() - self.height() - 24)

    def _answer(self) -> None:
        if self.waiting:
            self.bridge.answer_waiting()
        else:
            self.bridge.accept()
        self.hide()
        self.answered.emit()

    def _decline(self) -> None:
        if self.waiting:
            self.bridge.decline_waiting()
        else:
            self.bridge.refuse()
        self.hide()

    def _on_waiting(self, peer: str, number: str) -> None:
        if peer:
            self.ring(peer, number, waiting=True)
        elif self.waiting:
            self.hide()

    def _on_state(self, _peer: str, state: str, _text: str) -> None:
        if state != "incoming" and not self.waiting:
            self.hide()

    def _draw_picture(self) -> None:
        self.picture.setPixmap(icon("incoming").pixmap(48, 48))

    def changeEvent(self, event: QEvent) -> None:
        """Theme switch: redraw the picture in the new text colour (not black on dark)."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._draw_picture()
        super().changeEvent(event)
