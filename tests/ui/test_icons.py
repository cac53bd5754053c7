"""Icons are drawn in the palette's colours at paint time and from the vector at each scale."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QImage

from sigphone.ui.icons import icon
from sigphone.ui.theme import apply_theme


def _ink(image: QImage) -> int:
    """Lightness of the most opaque pixel: the colour the icon was drawn in."""
    best, lightness = -1, 0
    for y in range(image.height()):
        for x in range(image.width()):
            color = QColor(image.pixelColor(x, y))
            if color.alpha() > best:
                best, lightness = color.alpha(), color.lightness()
    return lightness


def test_icons_follow_a_theme_switch_and_scale(qapp) -> None:
    phone = icon("call")
    try:
        apply_theme(qapp, "light")
        dark_ink = _ink(phone.pixmap(24, 24).toImage())
        apply_theme(qapp, "dark")
        light_ink = _ink(phone.pixmap(24, 24).toImage())  # the same QIcon object, redrawn
    finally:
        apply_theme(qapp, "system")
    assert dark_ink < 100 < light_ink
    sharp = phone.pixmap(QSize(24, 24), 2.0)  # 200 %: rendered from the vector at 48 px
    assert (sharp.width(), sharp.height(), sharp.devicePixelRatio()) == (48, 48, 2.0)
    assert not icon("nonexistent-icon").pixmap(16, 16).isNull()  # blank, not a crash
    assert _ink(icon("call", "white").pixmap(16, 16, QIcon.Mode.Normal).toImage()) > 200
