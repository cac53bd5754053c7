"""Light, dark or the system's palette; one accent colour for calls.

"System" leaves Qt's platform palette alone (Windows 11 and macOS report dark mode to Qt
6.5+), so the app follows the user's setting. "Light" and "Dark" set Fusion palettes for
users who want to override it. Styles are a few rules in one sheet so views stay plain.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

__all__ = ["ACCENT", "DANGER", "apply_theme", "is_dark"]

ACCENT = "#1f7a5a"
DANGER = "#c62828"

# Qt's own tray balloon (used where no notification service runs) paints a fixed pale yellow
# background; the app style sheet would give its labels the dark theme's light text, so they
# are pinned dark (unreadable light-on-yellow before).
STYLE = f"""
QPushButton#callButton {{ background: {ACCENT}; color: white; border-radius: 6px;
    padding: 8px 18px; font-weight: 600; border: 1px solid {ACCENT}; }}
QPushButton#callButton:disabled, QPushButton#hangupButton:disabled {{
    background: palette(mid); border-color: palette(mid); }}
QPushButton#callButton:focus, QPushButton#hangupButton:focus {{
    border: 2px solid palette(highlight); }}
QPushButton#hangupButton {{ background: {DANGER}; color: white; border-radius: 6px;
    padding: 8px 18px; font-weight: 600; border: 1px solid {DANGER}; }}
QPushButton#keypadKey {{ min-width: 72px; min-height: 52px; }}
QPushButton#keypadKey[compact="true"] {{ min-width: 52px; min-height: 38px; }}
QPushButton#callBar {{ background: {ACCENT}; color: white; border: none; border-radius: 4px;
    padding: 6px 10px; text-align: left; font-weight: 600; }}
QLabel#holdBadge {{ background: #e0a800; color: #222; border-radius: 4px; padding: 3px 8px;
    font-weight: 600; }}
QLabel#receivedDigits {{ font-size: 16px; font-family: monospace; color: palette(link); }}
QLabel#noteText {{ color: palette(placeholder-text); }}
QBalloonTip QLabel, QWidget#qtsystray_balloontip QLabel {{ color: #1d1f23; }}
QLabel#keyDigit {{ font-size: 20px; }}
QLabel#keyLetters {{ font-size: 9px; color: #7a7f87; letter-spacing: 1px; }}
QLabel#callSubtitle {{ color: #7a7f87; }}
QLabel#banner {{ background: #f6c343; color: #222; padding: 6px 10px; border-radius: 4px; }}
QLabel#errorText {{ color: #d9403a; }}
QLabel#peerName {{ font-size: 22px; font-weight: 600; }}
QLabel#callTimer {{ font-size: 18px; font-family: monospace; }}
QLineEdit#dialField {{ font-size: 22px; padding: 6px; }}
QListWidget#sidebar {{ border: none; background: palette(alternate-base); }}
QListWidget#sidebar::item {{ padding-left: 10px; }}
"""


def is_dark(app: QApplication) -> bool:
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


_system: tuple[str, QPalette] | None = None


def apply_theme(app: QApplication, theme: str = "system") -> None:
    """``theme`` is "system", "light" or "dark"; going back to "system" restores the
    platform's style and palette as they were at start-up."""
    global _system
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()))
    if theme in ("light", "dark"):
        app.setStyle("Fusion")
        app.setPalette(_dark() if theme == "dark" else _light())
    else:
        app.setStyle(_system[0])
        app.setPalette(_system[1])
    app.setStyleSheet(STYLE)


def _light() -> QPalette:
    p = QPalette(QColor("#f4f5f7"))
    p.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.ToolTipText, QColor("#1d1f23"))
    return p


def _dark() -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#202225"),
        (roles.WindowText, "#e8e8e8"),
        (roles.Base, "#16171a"),
        (roles.AlternateBase, "#2a2c30"),
        (roles.Text, "#e8e8e8"),
        (roles.Button, "#2f3136"),
        (roles.ButtonText, "#e8e8e8"),
        (roles.Highlight, ACCENT),
        (roles.HighlightedText, "#ffffff"),
        (roles.ToolTipBase, "#2f3136"),
        (roles.ToolTipText, "#e8e8e8"),
        (roles.PlaceholderText, "#8a8d93"),
        (roles.Mid, "#4a4d52"),
        (roles.Link, "#6fd3a8"),
        (roles.Light, "#3a3d42"),
        (roles.Midlight, "#33363b"),
        (roles.Dark, "#141517"),
        (roles.Shadow, "#0b0c0d"),
    ):
        p.setColor(role, QColor(color))
    # Disabled controls must look disabled: dim text on a flatter button, not the enabled
    # colours Qt's Fusion keeps when only the active group is set.
    disabled = QPalette.ColorGroup.Disabled
    for role, color in (
        (roles.WindowText, "#6b6e74"),
        (roles.Text, "#6b6e74"),
        (roles.ButtonText, "#6b6e74"),
        (roles.Button, "#26282c"),
        (roles.Base, "#1c1d20"),
        (roles.Highlight, "#3a3d42"),
        (roles.HighlightedText, "#8a8d93"),
        (roles.PlaceholderText, "#55585d"),
    ):
        p.setColor(disabled, role, QColor(color))
    return p
