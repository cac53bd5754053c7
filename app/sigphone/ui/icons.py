"""SVG icons drawn in the palette's colours at paint time, from the vector at every size.

The SVGs draw with ``currentColor``; Qt's SVG renderer has no notion of it, so an icon
engine substitutes the colour when a pixmap is asked for: the palette's text colour (or a
fixed colour given by the caller), the highlighted-text colour for selected rows, the
disabled text colour for disabled buttons. Because the colour is looked up at paint time,
icons follow a theme switch without rebuilding any view, and because each pixmap is
rendered from the vector at the device pixel ratio, they stay crisp at 100-200 %.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer

__all__ = ["icon", "svg_text"]

log = logging.getLogger("sigphone.ui")


@cache
def svg_text(name: str) -> str:
    return (resources.files(__package__) / "resources" / "icons" / f"{name}.svg").read_text()


@cache
def _render(name: str, color: str, side: int) -> QImage:
    """One square image of ``side`` device pixels (cached: a few icons x sizes x colours)."""
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    try:
        text = svg_text(name)
    except OSError:  # a bundle that left the icons out: blank, not a crash
        log.warning("icon %s is missing", name)
        return image
    renderer = QSvgRenderer(QByteArray(text.replace("currentColor", color).encode()))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    return image


class SvgIconEngine(QIconEngine):
    def __init__(self, name: str, color: str | None) -> None:
        super().__init__()
        self.name = name
        self.color = color

    def _color(self, mode: QIcon.Mode) -> str:
        palette = QGuiApplication.palette()
        if mode == QIcon.Mode.Disabled:
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name()
        if mode == QIcon.Mode.Selected and self.color is None:
            return palette.highlightedText().color().name()
        return self.color or palette.windowText().color().name()

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        side = max(1, round(min(size.width(), size.height()) * scale))
        pixmap = QPixmap.fromImage(_render(self.name, self._color(mode), side))
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatioF() if painter.device() else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, scale))

    def clone(self) -> QIconEngine:
        return SvgIconEngine(self.name, self.color)

    def availableSizes(self, mode: QIcon.Mode, state: QIcon.State) -> list[QSize]:
        return [QSize(s, s) for s in (16, 20, 24, 32, 48, 64)]


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """The icon ``name`` (a file in resources/icons); ``color`` fixes its colour (e.g. white
    on the green Call button), else it follows the palette."""
    engine = SvgIconEngine(name, None if color is None else QColor(color).name())
    return QIcon(engine)
