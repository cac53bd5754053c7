"""The 12-key telephone keypad (A-D hidden, as on phones; the SDK accepts them)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["KEYS", "Keypad"]

KEYS = (
    ("1", ""), ("2", "ABC"), ("3", "DEF"),
    ("4", "GHI"), ("5", "JKL"), ("6", "MNO"),
    ("7", "PQRS"), ("8", "TUV"), ("9", "WXYZ"),
    ("*", ""), ("0", "+"), ("#", ""),
)  # fmt: skip


class KeyButton(QPushButton):
    """A big digit over small letters, as printed on phone keys (two labels in the button,
    transparent to the mouse, so the whole key stays one button for keyboard and readers)."""

    def __init__(self, digit: str, letters: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.digit = digit
        self.setObjectName("keypadKey")
        self.setAccessibleName(f"Key {digit}")
        self.setToolTip(f"Press {digit}")
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(0)
        for text, name in ((digit, "keyDigit"), (letters or " ", "keyLetters")):
            label = QLabel(text, self)
            label.setObjectName(name)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)


class Keypad(QWidget):
    """Emits ``key(digit)`` on click. Keys do not take focus on click, so the number field
    keeps it and typing continues; Tab still reaches them (accessible names "Key 5")."""

    key = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(8)
        self.setMaximumWidth(360)
        self.buttons: dict[str, KeyButton] = {}
        for index, (digit, letters) in enumerate(KEYS):
            button = KeyButton(digit, letters, self)
            button.clicked.connect(lambda _=False, d=digit: self.key.emit(d))
            grid.addWidget(button, index // 3, index % 3)
            self.buttons[digit] = button
        self._grid = grid

    def set_compact(self, compact: bool) -> None:
        """Smaller keys for a narrow window (the style sheet reads the property)."""
        self._grid.setSpacing(4 if compact else 8)
        for button in self.buttons.values():
            button.setProperty("compact", compact)
            button.style().unpolish(button)
            button.style().polish(button)
