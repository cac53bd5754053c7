"""The reconnect banner over a real cut link, and keyboard/screen-reader reachability."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QListWidget, QWidget

from ..support.netfault import FaultyLink
from ..support.waiting import until


async def test_reconnect_banner_counts_attempts_and_hides(make_phone, server) -> None:
    link = FaultyLink(server.port)
    await link.start()
    try:
        phone = await make_phone("alice", login=False)
        phone.login_window.server.setText(link.url)
        phone.login_window.submit()
        await until(lambda: phone.bridge.status == "online")
        banner = phone.main_window.banner
        assert banner.isHidden()

        link.refuse = True
        link.cut()
        await until(lambda: "attempt 2" in banner.text())
        assert banner.isVisible()
        assert "Reconnecting" in phone.main_window.presence.text()
        link.refuse = False
        await until(lambda: phone.bridge.status == "online")
        assert banner.isHidden()
        assert "Online" in phone.main_window.presence.text()
    finally:
        await link.close()


def _controls(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QListWidget)
    # Qt's own helpers (qt_tableview_cornerbutton, ...) are not ours to name.
    return [
        w
        for w in root.findChildren(QWidget)
        if isinstance(w, kinds) and not w.objectName().startswith("qt_")
    ]


async def test_every_control_is_named_and_keyboard_reachable(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    windows = [phone.login_window, phone.main_window, phone.popup]
    unnamed, unreachable = [], []
    checked = 0
    for window in windows:
        for widget in _controls(window):
            checked += 1
            name = widget.accessibleName() or (
                widget.text() if isinstance(widget, QAbstractButton) else ""
            )
            if not name.replace("&", "").strip():
                unnamed.append(f"{type(window).__name__}: {widget!r}")
            if widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
                unreachable.append(f"{type(window).__name__}: {name}")
    assert checked > 60  # the walk saw every page (dialer, call view, channel, settings...)
    assert unnamed == []
    assert unreachable == []
