"""The tray icon: show the windows, a missed-call and unread badge, notifications, Quit.

A notification belongs to what it announces: the incoming-call one is closed when that call
stops ringing (an empty message removes a Windows balloon and Qt's own), and it is shown for
as long as the phone rings at most.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from .icons import icon
from .theme import ACCENT, DANGER

__all__ = ["Tray", "badge_icon"]


def badge_icon(count: int, base: QIcon | None = None) -> QIcon:
    """``base`` (the app icon) with a red count in the corner (nothing when ``count`` is 0):
    the tray's missed calls and unread messages, and the sidebar's Chats and History."""
    base = base if base is not None else icon("app")
    if not count:
        return base
    result = QIcon()
    for side in (16, 24, 32, 48, 64):
        # A fresh image each time: a pixmap shared with the base icon would keep its cache
        # key, and views would go on showing the first count drawn.
        image = (
            base.pixmap(side, side)
            .toImage()
            .convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        )
        image.setDevicePixelRatio(1.0)
        if image.width() != side:
            image = image.scaled(side, side)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = max(5, side * 0.28)
        rect = QRect(int(side - 2 * radius), 0, int(2 * radius), int(2 * radius))
        painter.setBrush(QColor(DANGER))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(rect)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(7, int(radius * 1.3)))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignCenter, str(min(count, 9)) if count < 10 else "9+"
        )
        painter.end()
        result.addPixmap(QPixmap.fromImage(image))
    return result


class Tray(QSystemTrayIcon):
    show_requested = Signal()
    logout_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(icon("app"), parent)
        self.setToolTip("Sigphone")
        self.missed = 0
        self.unread = 0
        #: What the notification on screen is about: "call", "message" or "".
        self.showing = ""
        self.messageClicked.connect(lambda: setattr(self, "showing", ""))
        menu = QMenu(parent)
        self._show = QAction("&Show Sigphone", menu)
        self._show.triggered.connect(self.show_requested.emit)
        self._logout = QAction("&Log out", menu)
        self._logout.triggered.connect(self.logout_requested.emit)
        self._quit = QAction("&Quit", menu)
        self._quit.triggered.connect(self.quit_requested.emit)
        menu.addAction(self._show)
        menu.addAction(self._logout)
        menu.addSeparator()
        menu.addAction(self._quit)
        self.menu = menu
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)

    def set_missed(self, count: int) -> None:
        self.missed = count
        self._badge()

    def set_unread(self, count: int) -> None:
        self.unread = count
        self._badge()

    def _badge(self) -> None:
        count = self.missed + self.unread
        self.setIcon(badge_icon(count))
        parts = []
        if self.missed:
            parts.append(f"{self.missed} missed call(s)")
        if self.unread:
            parts.append(f"{self.unread} unread message(s)")
        self.setToolTip("Sigphone — " + ", ".join(parts) if parts else "Sigphone")

    def notify_incoming(self, peer: str, number: str, seconds: float = 30.0) -> None:
        detail = f" ({number})" if number and number != peer else ""
        self.showMessage(
            "Incoming call",
            f"{peer}{detail} is calling",
            icon("incoming", ACCENT),  # a fixed colour: notification backgrounds are not ours
            int(seconds * 1000),
        )
        self.showing = "call"

    def notify_message(self, peer: str, text: str) -> None:
        if self.showing == "call":
            return  # a ringing call's notification stays until the call stops ringing
        short = text if len(text) <= 80 else text[:79] + "…"
        self.showMessage(f"Message from {peer}", short, icon("chat", ACCENT), 6000)
        self.showing = "message"

    def close_notification(self, kind: str | None = None) -> None:
        """Remove the notification on screen (of ``kind``, or any)."""
        if self.showing and (kind is None or kind == self.showing):
            self.showMessage("", "", QIcon(), 1)
            self.showing = ""

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_requested.emit()
