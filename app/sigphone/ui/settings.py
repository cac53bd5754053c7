"""The softphone's remembered settings: an INI file in the user's config directory.

QSettings with an explicit file (not the registry) so tests and portable installs choose
the place, and so a user can read what is kept. No secret is ever stored here: the token
goes to the operating system's keyring (``phone.credentials``), and a certificate is never
asked for. A token left in the file by an older version is moved to the keyring (or
dropped) the first time the settings are opened.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from ..phone.paths import Paths

__all__ = ["AppSettings"]

_DEFAULTS: dict[str, object] = {
    "login/server": "ws://127.0.0.1:9000",
    "login/app_id": "demo",
    "login/account": "",
    "login/remember": True,
    "ui/theme": "system",
    "ui/start_minimised": False,
    "audio/input": "",
    "audio/output": "",
    "audio/ringer": "",
    "audio/ringtone": "Classic",
    "audio/ring_volume": 80,
    "audio/speaker_volume": 100,
    "calls/no_answer_timeout": 60,
    "calls/dnd": False,
}


class AppSettings:
    def __init__(self, paths: Paths) -> None:
        paths.config.mkdir(parents=True, exist_ok=True)
        self._q = QSettings(str(paths.settings_file()), QSettings.Format.IniFormat)

    def get(self, key: str) -> object:
        default = _DEFAULTS.get(key)
        value = self._q.value(key, default)
        if isinstance(default, bool) and isinstance(value, str):
            return value.lower() == "true"  # INI stores booleans as text
        if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return default
        return value

    def text(self, key: str) -> str:
        return str(self.get(key) or "")

    def number(self, key: str) -> int:
        value = self.get(key)
        try:
            return int(str(value))
        except ValueError:
            default = _DEFAULTS.get(key)
            return default if isinstance(default, int) else 0

    def flag(self, key: str) -> bool:
        return bool(self.get(key))

    def set(self, key: str, value: object) -> None:
        self._q.setValue(key, value)

    def remove(self, key: str) -> None:
        self._q.remove(key)

    def contains(self, key: str) -> bool:
        return self._q.contains(key)

    def sync(self) -> None:
        self._q.sync()
