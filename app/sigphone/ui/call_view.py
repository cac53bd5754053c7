"""The in-call view (G5): peer, state, elapsed time, mute, hold, hang up, DTMF keypad.

States come from ``Bridge.call_state``; the timer ticks once a second from the call's
connect time (no counting of ticks, so a busy loop never makes the clock drift). Digits
typed while this view is shown are sent as DTMF; digits the other side sends are shown
("Received: 42#"). "On hold" shows on both phones (the far side is told). Two small lines
under the keypad show what the voice layer says: a sound problem (no audio device, device
lost; the call stays up) and the call's quality (RTT, loss, jitter).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .bridge import Bridge
from .icons import icon
from .keypad import Keypad

__all__ = ["CallView", "format_duration"]

_STATE_TEXT = {
    "calling": "Calling…",
    "ringing": "Ringing…",
    "incoming": "Incoming call",
    "connected": "Connected",
    "ended": "Call ended",
}


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


class CallView(QWidget):
    finished = Signal()  # the ended state has been shown; the page can go back to the dialer

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Call")
        self.peer = QLabel("")
        self.peer.setObjectName("peerName")
        self.peer.setAccessibleName("Peer")
        self.peer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state = QLabel("")
        self.state.setAccessibleName("Call state")
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state.setWordWrap(True)
        self.timer_label = QLabel("00:00")
        self.timer_label.setObjectName("callTimer")
        self.timer_label.setAccessibleName("Elapsed time")
        self.timer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dtmf_label = QLabel("")
        self.dtmf_label.setAccessibleName("Digits sent")
        self.dtmf_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.received_label = QLabel("")
        self.received_label.setObjectName("receivedDigits")
        self.received_label.setAccessibleName("Digits received")
        self.received_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.received_label.setVisible(False)
        self.hold_badge = QLabel("")
        self.hold_badge.setObjectName("holdBadge")
        self.hold_badge.setAccessibleName("Hold state")
        self.hold_badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hold_badge.setVisible(False)
        self.parked_label = QLabel("")
        self.parked_label.setAccessibleName("Call on hold")
        self.parked_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.parked_label.setVisible(False)
        self.swap = QPushButton(icon("hold"), "S&wap")
        self.swap.setAccessibleName("Swap calls")
        self.swap.setToolTip("Hold this call and go back to the other one")
        self.swap.setVisible(False)
        self.swap.clicked.connect(bridge.swap_calls)

        self.audio_label = QLabel("")
        self.audio_label.setObjectName("errorText")
        self.audio_label.setAccessibleName("Sound status")
        self.audio_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.audio_label.setWordWrap(True)
        self.audio_label.setVisible(False)
        self.stats_label = QLabel("")
        self.stats_label.setAccessibleName("Call quality")
        self.stats_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stats_label.setVisible(False)

        self.keypad = Keypad()
        self.keypad.key.connect(self.send_digit)

        self.mute = QPushButton(icon("mic"), "&Mute")
        self.mute.setCheckable(True)
        self.mute.setAccessibleName("Mute microphone")
        self.mute.toggled.connect(bridge.set_muted)
        # Hold: shown only while connected (there is nothing to hold before or after).
        self.hold = QPushButton(icon("hold"), "Ho&ld")
        self.hold.setCheckable(True)
        self.hold.setAccessibleName("Hold call")
        self.hold.setToolTip("Hold: the other side hears silence and you hear nothing")
        self.hold.setVisible(False)
        self.hold.toggled.connect(bridge.set_held)
        self.hangup = QPushButton(icon("hangup", "white"), "&Hang up")
        self.hangup.setObjectName("hangupButton")
        self.hangup.setAccessibleName("Hang up")
        self.hangup.setToolTip("Hang up (Ctrl+E)")
        self.hangup.clicked.connect(bridge.hang_up)
        self.answer = QPushButton(icon("call", "white"), "&Answer")
        self.answer.setObjectName("callButton")
        self.answer.setAccessibleName("Answer")
        self.answer.clicked.connect(bridge.accept)
        # Same order as the popup: Decline / Hang up on the left of Answer.
        buttons = QHBoxLayout()
        buttons.addWidget(self.mute)
        buttons.addWidget(self.hold)
        buttons.addWidget(self.swap)
        buttons.addStretch(1)
        buttons.addWidget(self.hangup)
        buttons.addWidget(self.answer)

        layout = QVBoxLayout(self)
        layout.addStretch(1)  # with the one below: vertically centred in a tall window
        layout.addWidget(self.peer)
        layout.addWidget(self.state)
        layout.addWidget(self.hold_badge)
        layout.addWidget(self.timer_label)
        layout.addWidget(self.parked_label)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.dtmf_label)
        layout.addWidget(self.received_label)
        layout.addWidget(self.audio_label)
        layout.addWidget(self.stats_label)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self._talked = False
        self._compact = False
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_timer)
        self._back = QTimer(self)
        self._back.setSingleShot(True)
        self._back.setInterval(2500)
        self._back.timeout.connect(self.finished.emit)
        bridge.call_state.connect(self.on_state)
        bridge.mute_changed.connect(self._on_mute)
        bridge.hold_changed.connect(self._on_hold)
        bridge.remote_hold_changed.connect(lambda _h: self._show_hold())
        bridge.dtmf_received.connect(self._on_dtmf)
        bridge.audio_status.connect(self._on_audio)
        bridge.call_stats.connect(self._on_stats)

    def on_state(self, peer: str, state: str, text: str) -> None:
        self._back.stop()
        self.peer.setText(peer)
        self.state.setText(text if state == "ended" else _STATE_TEXT.get(state, state))
        connected = state == "connected"
        self.keypad.setEnabled(connected and not self.bridge.held)
        self.mute.setEnabled(connected)
        self.hold.setVisible(connected)
        self.answer.setVisible(state == "incoming")
        self.hangup.setEnabled(state != "ended")
        self.hangup.setText("&Decline" if state == "incoming" else "&Hang up")
        if state in ("calling", "incoming"):
            self.stats_label.setText("")
            self.stats_label.setVisible(False)
            self.dtmf_label.setText("")
            self.dtmf_label.setProperty("digits", "")
            self.received_label.setText("")
            self.received_label.setProperty("digits", "")
            self.received_label.setVisible(False)
            self.timer_label.setText("00:00")
        parked = self.bridge.parked_peer
        self.parked_label.setText(f"{parked} is on hold" if parked else "")
        self.parked_label.setVisible(bool(parked))
        self.swap.setVisible(bool(parked) and connected)
        self._show_hold()
        # The clock shows talk time: hidden until connected, kept at the end of a call.
        self.timer_label.setVisible(connected or (state == "ended" and self._talked))
        if connected:
            self._talked = True
        elif state in ("calling", "incoming"):
            self._talked = False
        if connected:
            self._tick.start()
            self._update_timer()
        elif state == "ended":
            self._tick.stop()
            self._back.start()

    def set_compact(self, compact: bool) -> None:
        """A narrow window: Mute, Hold and Swap as icons (their names stay for readers and
        tooltips), so Hang up keeps its full label."""
        self._compact = compact
        self._on_mute(self.mute.isChecked())
        self._on_hold(self.hold.isChecked())
        self.swap.setText("" if compact else "S&wap")
        for button in (self.mute, self.hold, self.swap):
            button.setToolTip(button.accessibleName())

    def send_digit(self, digit: str) -> None:
        self.bridge.send_dtmf(digit)
        sent = (str(self.dtmf_label.property("digits") or "") + digit)[-24:]
        self.dtmf_label.setProperty("digits", sent)
        self.dtmf_label.setText(sent)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if text and text in "0123456789*#" and self.keypad.isEnabled():
            self.send_digit(text)
            return
        super().keyPressEvent(event)

    def _update_timer(self) -> None:
        self.timer_label.setText(format_duration(self.bridge.call_elapsed()))

    def _on_audio(self, text: str) -> None:
        self.audio_label.setText(text)
        self.audio_label.setVisible(bool(text))

    def _on_stats(self, text: str) -> None:
        self.stats_label.setText(text)
        self.stats_label.setVisible(bool(text) and self.bridge.call_status == "connected")

    def _on_mute(self, muted: bool) -> None:
        self.mute.setChecked(muted)
        self.mute.setIcon(icon("mic-off" if muted else "mic"))
        self.mute.setText("" if self._compact else "Un&mute" if muted else "&Mute")
        self.mute.setAccessibleName("Unmute microphone" if muted else "Mute microphone")

    def _on_hold(self, held: bool) -> None:
        self.hold.blockSignals(True)
        self.hold.setChecked(held)
        self.hold.blockSignals(False)
        self.hold.setText("" if self._compact else "Res&ume" if held else "Ho&ld")
        self.hold.setAccessibleName("Resume call" if held else "Hold call")
        self.keypad.setEnabled(self.bridge.call_status == "connected" and not held)
        self._show_hold()

    def _show_hold(self) -> None:
        mine, theirs = self.bridge.held, self.bridge.remote_held
        if not self.bridge.in_call:
            mine = theirs = False
        text = (
            "On hold — both sides"
            if mine and theirs
            else "On hold"
            if mine
            else f"On hold by {self.bridge.call_peer}"
            if theirs
            else ""
        )
        self.hold_badge.setText(text)
        self.hold_badge.setVisible(bool(text))

    def _on_dtmf(self, digits: str) -> None:
        """Digits the other side pressed (an IVR, a door opener, a person)."""
        shown = self.received_label.property("digits") or ""
        shown = (str(shown) + digits)[-24:]
        self.received_label.setProperty("digits", shown)
        self.received_label.setText(f"Received: {shown}")
        self.received_label.setVisible(True)
