"""The in-call view (G5): peer, state, elapsed time, mute, hold, hang up, DTMF keypad.

States come from ``Bridge.call_state``; the timer ticks once a second from the bridge's
connect time (no counting of ticks, so a busy loop never makes the clock drift). Digits
typed while this view is shown are sent as DTMF. Two small lines under the keypad show
what the voice layer says: a sound problem (no audio device, device lost; the call stays
up) and the call's quality (RTT, loss, jitter), both from bridge signals.
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
        buttons = QHBoxLayout()
        buttons.addWidget(self.mute)
        buttons.addWidget(self.hold)
        buttons.addStretch(1)
        buttons.addWidget(self.answer)
        buttons.addWidget(self.hangup)

        layout = QVBoxLayout(self)
        layout.addWidget(self.peer)
        layout.addWidget(self.state)
        layout.addWidget(self.timer_label)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.dtmf_label)
        layout.addWidget(self.audio_label)
        layout.addWidget(self.stats_label)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self._talked = False
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
        bridge.audio_status.connect(self._on_audio)
        bridge.call_stats.connect(self._on_stats)

    def on_state(self, peer: str, state: str, text: str) -> None:
        self._back.stop()
        self.peer.setText(peer)
        self.state.setText(text if state == "ended" else _STATE_TEXT.get(state, state))
        connected = state == "connected"
        self.keypad.setEnabled(connected)
        self.mute.setEnabled(connected)
        self.hold.setVisible(connected)
        self.answer.setVisible(state == "incoming")
        self.hangup.setEnabled(state != "ended")
        self.hangup.setText("&Decline" if state == "incoming" else "&Hang up")
        if state in ("calling", "incoming"):
            self.stats_label.setText("")
            self.stats_label.setVisible(False)
            self.dtmf_label.setText("")
            self.timer_label.setText("00:00")
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

    def send_digit(self, digit: str) -> None:
        self.bridge.send_dtmf(digit)
        self.dtmf_label.setText((self.dtmf_label.text() + digit)[-24:])

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
        self.mute.setText("Un&mute" if muted else "&Mute")

    def _on_hold(self, held: bool) -> None:
        self.hold.setChecked(held)
        self.hold.setText("Res&ume" if held else "Ho&ld")
        self.hold.setAccessibleName("Resume call" if held else "Hold call")
