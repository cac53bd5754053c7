"""SVG icons tinted with the palette and rendered from the vector at each size.

The SVGs draw with ``currentColor``; Qt's SVG renderer has no notion of it, so we substitute
the colour asked for (the palette's text colour by default, so icons follow light and dark
themes) and render pixmaps at 1x, 1.5x and 2x of each size: crisp at 100-200 % scaling.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["icon", "svg_text"]

log = logging.getLogger("sigphone.ui")

_SIZES = (16, 20, 24, 32, 48, 64)
_RATIOS = (1.0, 1.5, 2.0)


@cache
def svg_text(name: str) -> str:
    return (resources.files(__package__) / "resources" / "icons" / f"{name}.svg").read_text()


def _pixmap(renderer: QSvgRenderer, size: int, ratio: float) -> QPixmap:
    side = round(size * ratio)
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """The icon ``name`` (a file in resources/icons) drawn in ``color``."""
    palette = QGuiApplication.palette()
    if color is None:
        color = palette.windowText().color()
    # Selected rows (sidebar, lists) draw on the highlight colour: use its text colour there.
    return _icon(name, QColor(color).name(), palette.highlightedText().color().name())


@cache
def _icon(name: str, hex_color: str, selected_color: str) -> QIcon:
    try:
        text = svg_text(name)
    except OSError:  # a bundle that left the icons out: a blank icon, not a crash
        log.warning("icon %s is missing", name)
        return QIcon()
    result = QIcon()
    for color, mode in ((hex_color, QIcon.Mode.Normal), (selected_color, QIcon.Mode.Selected)):
        renderer = QSvgRenderer(QByteArray(text.replace("currentColor", color).encode()))
        for size in _SIZES:
            for ratio in _RATIOS:
                result.addPixmap(_pixmap(renderer, size, ratio), mode)
    return result
