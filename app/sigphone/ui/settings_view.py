"""Settings (G7): audio devices (with a rescan), ringtone, theme, start minimised, logs.

The device lists come from sounddevice when it is installed; without a sound card the page
says so once and the rest of the app carries on (M3). Changes are saved immediately.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .audio import AudioDevices, list_devices
from .icons import icon
from .settings import AppSettings
from .theme import apply_theme

__all__ = ["SettingsView"]

THEMES = {"System": "system", "Light": "light", "Dark": "dark"}
RINGTONES = ("Classic", "Soft", "Digital")
#: First entry of the microphone and speaker lists, saved as "".
DEFAULT_DEVICE = "System default"
#: First entry of the ringer list, saved as "": the ringtone plays on the speaker.
SAME_AS_SPEAKER = "Same as speaker"


class SettingsView(QWidget):
    def __init__(
        self,
        settings: AppSettings,
        log_file: Path,
        devices: AudioDevices | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
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
        audio = QFormLayout()
        audio.addRow("&Microphone:", self.input)
        audio.addRow("S&peaker:", self.output)
        audio.addRow("Ri&nger:", self.ringer)
        audio.addRow("Ringt&one:", self.ringtone)
        audio.addRow(self.audio_problem)
        rescan_row = QHBoxLayout()
        rescan_row.addWidget(rescan)
        rescan_row.addStretch(1)
        audio.addRow("", rescan_row)
        audio_box = QGroupBox("Audio")
        audio_box.setLayout(audio)

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
        open_logs = QPushButton("Open log &folder")
        open_logs.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file.parent)))
        )
        logs_row = QHBoxLayout()
        logs_row.addWidget(self.log_path, 1)
        logs_row.addWidget(open_logs)
        logs_box = QGroupBox("Logs")
        logs_box.setLayout(logs_row)

        layout = QVBoxLayout(self)
        layout.addWidget(audio_box)
        layout.addWidget(look_box)
        layout.addWidget(logs_box)
        layout.addStretch(1)

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
        self.audio_problem.setText(devices.problem or "")
        self.audio_problem.setVisible(bool(devices.problem))

    def _save(self, key: str, value: object) -> None:
        self.settings.set(key, "" if value in (DEFAULT_DEVICE, SAME_AS_SPEAKER) else value)
        self.settings.sync()

    def _on_theme(self, text: str) -> None:
        theme = THEMES.get(text, "system")
        self._save("ui/theme", theme)
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
