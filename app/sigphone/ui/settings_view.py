"""Settings (G7): sound (devices, ringtone with a preview, ring and speaker volume, a
microphone meter, a test sound), calls (how long to ring), look, start-up, logs.

The device lists come from ``phone.sound.list_devices``; without a sound card the page says
so once and the rest of the app carries on (M3). Changes are saved immediately. The
microphone meter keeps the capture stream open only while the page is on screen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..phone.sound import AudioDevices, list_devices
from .icons import icon
from .settings import AppSettings
from .theme import apply_theme

__all__ = ["SettingsView", "open_folder"]

log = logging.getLogger("sigphone.ui")

THEMES = {"System": "system", "Light": "light", "Dark": "dark"}
RINGTONES = ("Classic", "Soft", "Digital")
#: First entry of the microphone and speaker lists, saved as "".
DEFAULT_DEVICE = "System default"
#: First entry of the ringer list, saved as "": the ringtone plays on the speaker.
SAME_AS_SPEAKER = "Same as speaker"


def open_folder(folder: Path) -> str | None:
    """Open ``folder`` in the file manager; None on success, else the sentence to show
    (the folder is created first: a log folder may not exist before the first log line)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"Could not create {folder}: {exc.strerror or exc}."
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return f"No file manager could open {folder}. Open it yourself: the path is selectable."
    return None


class SettingsView(QWidget):
    timeout_changed = Signal(int)

    def __init__(
        self,
        settings: AppSettings,
        log_file: Path,
        devices: AudioDevices | None = None,
        tones: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.tones = tones
        self.log_file = log_file
        self.input = QComboBox()
        self.input.setAccessibleName("Microphone")
        self.output = QComboBox()
        self.output.setAccessibleName("Speaker")
        self.ringer = QComboBox()
        self.ringer.setAccessibleName("Ringer device")
        self.audio_problem = QLabel("")
        self.audio_problem.setObjectName("errorText")
        self.audio_problem.setWordWrap(True)
        self.audio_problem.setAccessibleName("Audio status")
        rescan = QPushButton(icon("redial"), "Re&scan devices")
        rescan.setAccessibleName("Rescan audio devices")
        rescan.setToolTip("Look for headsets plugged in since start-up (between calls)")
        rescan.clicked.connect(lambda: self.show_devices(list_devices(rescan=True)))
        self.ringtone = QComboBox()
        self.ringtone.setAccessibleName("Ringtone")
        self.ringtone.addItems(RINGTONES)
        self.ringtone.setCurrentText(settings.text("audio/ringtone"))
        self.preview = QPushButton(icon("play"), "Pre&view")
        self.preview.setAccessibleName("Play the ringtone")
        self.preview.clicked.connect(self._preview)
        self.ring_volume = self._slider("audio/ring_volume", "Ring volume")
        self.speaker_volume = self._slider("audio/speaker_volume", "Speaker volume")
        self.test_button = QPushButton(icon("speaker"), "&Test sound")
        self.test_button.setAccessibleName("Play a test sound")
        self.test_button.clicked.connect(self._test_sound)
        self.meter = QProgressBar()
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setFixedHeight(10)
        self.meter.setAccessibleName("Microphone level")
        self.meter.setToolTip("Speak: the bar moves when the microphone hears you")
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(80)
        self._meter_timer.timeout.connect(self._update_meter)

        ring_row = QHBoxLayout()
        ring_row.addWidget(self.ringtone, 1)
        ring_row.addWidget(self.preview)
        speaker_row = QHBoxLayout()
        speaker_row.addWidget(self.speaker_volume, 1)
        speaker_row.addWidget(self.test_button)
        audio = QFormLayout()
        for text, field, row in (
            ("&Microphone:", self.input, None),
            ("Mic level:", self.meter, None),
            ("S&peaker:", self.output, None),
            ("Speaker vol&ume:", self.speaker_volume, speaker_row),
            ("Ri&nger:", self.ringer, None),
            ("Ringt&one:", self.ringtone, ring_row),
            ("Ring volum&e:", self.ring_volume, None),
        ):
            label = QLabel(text)
            label.setBuddy(field)  # the mnemonic reaches the control, not a layout
            audio.addRow(label, row if row is not None else field)
        audio.addRow(self.audio_problem)
        rescan_row = QHBoxLayout()
        rescan_row.addWidget(rescan)
        rescan_row.addStretch(1)
        audio.addRow("", rescan_row)
        audio_box = QGroupBox("Sound")
        audio_box.setLayout(audio)

        self.no_answer = QSpinBox()
        self.no_answer.setRange(10, 300)
        self.no_answer.setSuffix(" s")
        self.no_answer.setAccessibleName("Ring for at most")
        self.no_answer.setToolTip("An unanswered call ends with “No answer” after this long")
        self.no_answer.setValue(settings.number("calls/no_answer_timeout"))
        self.no_answer.valueChanged.connect(self._on_timeout)
        calls = QFormLayout()
        calls.addRow("&Ring for at most:", self.no_answer)
        calls_box = QGroupBox("Calls")
        calls_box.setLayout(calls)

        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        self.theme.addItems(list(THEMES))
        current = settings.text("ui/theme")
        self.theme.setCurrentText(next((k for k, v in THEMES.items() if v == current), "System"))
        self.minimised = QCheckBox("Start &minimised to the tray")
        self.minimised.setChecked(settings.flag("ui/start_minimised"))
        look = QFormLayout()
        look.addRow("&Theme:", self.theme)
        look.addRow("", self.minimised)
        look_box = QGroupBox("Appearance and start-up")
        look_box.setLayout(look)

        self.log_path = QLabel(str(log_file))
        self.log_path.setAccessibleName("Log file location")
        self.log_path.setWordWrap(True)
        self.log_path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_problem = QLabel("")
        self.log_problem.setObjectName("errorText")
        self.log_problem.setWordWrap(True)
        self.log_problem.hide()
        open_logs = QPushButton("Open log &folder")
        open_logs.setAccessibleName("Open log folder")
        open_logs.clicked.connect(self._open_logs)
        logs_row = QHBoxLayout()
        logs_row.addWidget(self.log_path, 1)
        logs_row.addWidget(open_logs)
        logs_layout = QVBoxLayout()
        logs_layout.addLayout(logs_row)
        logs_layout.addWidget(self.log_problem)
        logs_box = QGroupBox("Logs")
        logs_box.setLayout(logs_layout)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(audio_box)
        layout.addWidget(calls_box)
        layout.addWidget(look_box)
        layout.addWidget(logs_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.show_devices(devices if devices is not None else list_devices())
        for combo, key in (
            (self.input, "audio/input"),
            (self.output, "audio/output"),
            (self.ringer, "audio/ringer"),
            (self.ringtone, "audio/ringtone"),
        ):
            combo.currentTextChanged.connect(lambda text, k=key: self._save(k, text))
        self.theme.currentTextChanged.connect(self._on_theme)
        self.minimised.toggled.connect(lambda on: self._save("ui/start_minimised", on))

    def _slider(self, key: str, name: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        slider.setSingleStep(5)
        slider.setPageStep(10)
        slider.setValue(self.settings.number(key))
        slider.setAccessibleName(name)
        slider.setToolTip(f"{name}: {slider.value()} %")

        def changed(value: int) -> None:
            self._save(key, value)
            slider.setToolTip(f"{name}: {value} %")

        slider.valueChanged.connect(changed)
        return slider

    def show_devices(self, devices: AudioDevices) -> None:
        for combo, names, key, first in (
            (self.input, devices.inputs, "audio/input", DEFAULT_DEVICE),
            (self.output, devices.outputs, "audio/output", DEFAULT_DEVICE),
            (self.ringer, devices.outputs, "audio/ringer", SAME_AS_SPEAKER),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([first, *names])
            saved = self.settings.text(key)
            if saved and saved in names:
                combo.setCurrentText(saved)
            combo.setEnabled(bool(names))
            combo.blockSignals(False)
        available = not devices.problem
        for widget in (self.preview, self.test_button, self.meter):
            widget.setEnabled(available)
        self.audio_problem.setText(devices.problem or "")
        self.audio_problem.setVisible(bool(devices.problem))

    # --- Sound checks ----------------------------------------------------------------------

    def _preview(self) -> None:
        if self.tones is not None:
            self.tones.preview(self.ringtone.currentText())

    def _test_sound(self) -> None:
        if self.tones is not None:
            self.tones.test_sound()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        if self.tones is not None and self.meter.isEnabled():
            self.tones.meter(True)
            self._meter_timer.start()

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().hideEvent(event)
        self.stop_meter()

    def stop_meter(self) -> None:
        self._meter_timer.stop()
        if self.tones is not None:
            self.tones.meter(False)
        self.meter.setValue(0)

    def _update_meter(self) -> None:
        level = self.tones.input_level() if self.tones is not None else 0.0
        # A level meter reads in decibels: -60 dBFS is empty, 0 dBFS full.
        import math

        db = 20 * math.log10(level) if level > 1e-6 else -60.0
        self.meter.setValue(max(0, min(100, int((db + 60) / 60 * 100))))

    # --- Saving ---------------------------------------------------------------------------------

    def _save(self, key: str, value: object) -> None:
        self.settings.set(key, "" if value in (DEFAULT_DEVICE, SAME_AS_SPEAKER) else value)
        self.settings.sync()

    def _on_timeout(self, seconds: int) -> None:
        self._save("calls/no_answer_timeout", seconds)
        self.timeout_changed.emit(seconds)

    def _open_logs(self) -> None:
        problem = open_folder(self.log_file.parent)
        if problem:
            log.warning("%s", problem)
        self.log_problem.setText(problem or "")
        self.log_problem.setVisible(bool(problem))

    def _on_theme(self, text: str) -> None:
        theme = THEMES.get(text, "system")
        self._save("ui/theme", theme)
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
