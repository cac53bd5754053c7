"""``python scripts/screenshots.py [DIR] [--dark] [--scale 2] [--desktop]``: render the
softphone's views with real data to docs/screenshots/ (a development tool; not shipped).

Runs the demo (embedded server, alice and bob) offscreen, drives real calls, chat, a channel
and history through the phones, and saves each view with ``QWidget.grab()``. Nothing is
faked: what is shown is what the server delivered. ``--dark`` renders with the dark palette,
``--scale 2`` at 200 %. ``--desktop`` grabs the whole screen of a real display (Xvfb with a
window manager and a tray, see docs/ui.md): the two phones, bob's popup and the tray's
notification.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

if "--desktop" not in sys.argv:  # the desktop shot needs a real display (e.g. Xvfb)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from sigphone.demo import Demo
from sigphone.phone.paths import Paths
from sigphone.phone.sound import SilentTones
from sigphone.phone.voice import media_available
from sigphone.ui.app import SoftphoneApp, parse_args
from sigphone.ui.loop import QasyncLoop
from sigphone.ui.phone import Phone
from sigphone.ui.theme import apply_theme
from sigphone.ui.tray import Tray

__all__ = ["main"]


async def _until(predicate: Callable[[], object], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - set by network events
            await asyncio.sleep(0.01)


async def _settle() -> None:
    # Let Qt run posted layout and paint events through the loop (processEvents() inside a
    # coroutine would re-enter qasync's loop).
    await asyncio.sleep(0.15)


async def _save(widget: QWidget, out: Path, name: str, suffix: str) -> Path:
    await _settle()
    path = out / f"{name}{suffix}.png"
    widget.grab().save(str(path))
    print(path)
    return path


async def _save_pair(left: QWidget, right: QWidget, out: Path, name: str, suffix: str) -> Path:
    """Two windows side by side in one picture (both ends of a call)."""
    await _settle()
    a, b = left.grab(), right.grab()
    ratio = a.devicePixelRatio()
    gap = int(12 * ratio)
    pixmap = QPixmap(a.width() + gap + b.width(), max(a.height(), b.height()))
    pixmap.fill(QColor("#808080"))
    painter = QPainter(pixmap)
    painter.drawPixmap(0, 0, a)
    painter.drawPixmap(a.width() + gap, 0, b)
    painter.end()
    path = out / f"{name}{suffix}.png"
    pixmap.save(str(path))
    print(path)
    return path


async def render(out: Path, suffix: str = "") -> list[Path]:
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        # The login window as a first-time user sees it, with a failure sentence.
        demo = Demo(SilentTones(), Path(tmp))
        await demo.server.start()
        lone = Phone(Paths.under(Path(tmp) / "carol"), SilentTones())
        window = lone.login_window
        window.server.setText(demo.server.url.removeprefix("ws://"))
        window.app_id.setText("demo")
        window.account.setText("carol")
        window.token.setText("1:demo:0:0123456789abcdef0123456789abcdef")
        window.resize(460, 340)
        window.show()
        window.submit()
        await _until(lambda: "token" in window.status.text())
        saved.append(await _save(window, out, "login", suffix))
        window.hide()
        await demo.server.close()

        # Real voice when the media extra is installed (each phone its own Voice): run it
        # with a sound device (or PulseAudio null sinks) to avoid the "no audio device" line.
        demo = Demo(None if media_available() else SilentTones(), Path(tmp) / "demo")
        alice, bob = await demo.start()
        await _until(lambda: alice.bridge.status == bob.bridge.status == "online")
        for phone in (alice, bob):
            phone.main_window.resize(760, 580)
        a, b = alice.bridge, bob.bridge

        # Contacts with presence, a conversation, a missed call and an answered call.
        for name in ("bob", "carol", "dave"):
            a.add_contact(name)
        await _until(lambda: len(a.presence) == 3)
        a.send_message("bob", "Hi Bob, have you got a minute for the release check?")
        await _until(lambda: b.chats.get("alice"))
        b.send_message("alice", "Sure, call me now.")
        a.send_message("carol", "Carol is offline: this one waits for her at the server.")
        await _until(lambda: all(x.state != "sending" for x in a.chats["carol"] + a.chats["bob"]))
        await _until(lambda: a.chats.get("bob") and len(a.chats["bob"]) == 2)

        # Unread badge: bob is on the dialer while alice writes twice more.
        bob.main_window.show_page("Phone")
        a.send_message("bob", "Also: the installer build is green.")
        a.send_message("bob", "Ping me when you're free.")
        await _until(lambda: b.unread_total() >= 3)
        saved.append(await _save(bob.main_window, out, "unread-badge", suffix))

        b.dial("alice")
        await _until(lambda: a.in_call and b.call_status == "ringing")
        saved.append(await _save(alice.popup, out, "incoming", suffix))
        b.hang_up()
        await _until(lambda: not a.in_call)
        alice.main_window.call_view.finished.emit()
        alice.main_window.dialer.field.setText("bob")
        alice.main_window.show_page("Phone")
        saved.append(await _save(alice.main_window, out, "dialer", suffix))

        a.dial("bob")
        await _until(lambda: b.in_call and a.call_status == "ringing")
        saved.append(await _save(alice.main_window, out, "call-ringing", suffix))
        bob.popup.accept_button.click()
        await _until(lambda: a.call_status == "connected" == b.call_status)
        for digit in "42#":
            alice.main_window.call_view.send_digit(digit)
        view = alice.main_window.call_view
        await _until(lambda: bob.main_window.call_view.received_label.text() == "Received: 42#")
        if a.media is not None:  # the call's quality line, once RTT has been measured
            measured = view.stats_label.text
            await _until(lambda: measured().startswith("RTT ") and "RTT –" not in measured(), 20)
        view._update_timer()
        saved.append(await _save(alice.main_window, out, "call-connected", suffix))
        bob.main_window.call_view._update_timer()
        saved.append(await _save(bob.main_window, out, "dtmf-received", suffix))

        # On hold, both sides: alice holds, then bob does too.
        view.hold.click()
        await _until(lambda: bob.main_window.call_view.hold_badge.text() == "On hold by alice")
        saved.append(await _save_pair(alice.main_window, bob.main_window, out, "hold", suffix))
        bob.main_window.call_view.hold.click()
        await _until(lambda: view.hold_badge.text() == "On hold — both sides")
        saved.append(await _save_pair(alice.main_window, bob.main_window, out, "hold-both", suffix))
        view.hold.click()
        bob.main_window.call_view.hold.click()
        await _until(lambda: not a.held and not b.held)

        # The compact layout (MicroSIP's shape) during the call, and the in-call bar.
        alice.main_window.resize(320, 480)
        await _until(lambda: alice.main_window.compact)
        saved.append(await _save(alice.main_window, out, "compact", suffix))
        alice.main_window.show_page("Contacts")
        saved.append(await _save(alice.main_window, out, "compact-call-bar", suffix))
        alice.main_window.resize(760, 580)
        await _until(lambda: not alice.main_window.compact)
        alice.main_window.show_page("Phone")
        a.hang_up()
        await _until(lambda: not a.in_call and not b.in_call)

        # Disabled controls: the channel page before joining.
        alice.main_window.show_page("Channel")
        saved.append(await _save(alice.main_window, out, "disabled", suffix))

        # The channel room: three members, a few attributes, a short conversation.
        carol = Phone(Paths.under(Path(tmp) / "carol2"), SilentTones())
        carol.bridge.login(demo.server.url, "demo", "carol", "_no_need_token")
        await _until(lambda: carol.bridge.status == "online")
        for phone in (alice, bob, carol):
            phone.bridge.room.join("support")
            await _until(lambda p=phone: p.bridge.room.name == "support")
        await _until(lambda: alice.bridge.room.count == 3)
        a.room.set_attr("topic", "Release 0.2 check-in")
        a.room.set_attr("agenda", "1. blockers  2. installer  3. voice")
        b.room.set_attr("moderator", "bob")
        await _until(lambda: len(a.room.attrs) >= 3)
        a.room.send("Morning! Installer build is green.")
        await _until(lambda: len(a.room.lines) == 1)
        b.room.send("Great. Voice lands this week.")
        await _until(lambda: len(a.room.lines) == 2)
        carol.bridge.room.send("I'll test the tel: links on Windows.")
        await _until(lambda: len(a.room.lines) == 3)
        saved.append(await _save(alice.main_window, out, "channel", suffix))
        await carol.bridge.shutdown()
        carol.close()

        alice.main_window.show_page("Contacts")
        saved.append(await _save(alice.main_window, out, "contacts", suffix))
        alice.main_window.open_chat("bob")
        saved.append(await _save(alice.main_window, out, "chat", suffix))
        alice.main_window.show_page("History")
        saved.append(await _save(alice.main_window, out, "history", suffix))
        theme = alice.settings_view.theme
        theme.blockSignals(True)  # show the theme the shot was rendered with; do not re-apply
        theme.setCurrentText("Dark" if "-dark" in suffix else "Light")
        theme.blockSignals(False)
        alice.main_window.resize(760, 760)
        alice.main_window.show_page("Settings")
        saved.append(await _save(alice.main_window, out, "settings", suffix))
        alice.main_window.resize(760, 580)
        a.core.account._on_reconnecting(3)
        alice.main_window.call_view.finished.emit()
        alice.main_window.show_page("Phone")
        saved.append(await _save(alice.main_window, out, "reconnecting", suffix))
        a.core.account._on_reconnected(0)
        lone.close()
        await demo.close()
    return saved


async def render_desktop(out: Path, suffix: str = "") -> list[Path]:
    """The whole screen during a demo call (a real display with a window manager and a
    tray): the two windows side by side, bob's incoming-call popup and the tray's
    notification of it, neither covering the other."""
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        shell = SoftphoneApp(app, parse_args([]), Paths.under(Path(tmp) / "shell"), None)
        if QSystemTrayIcon.isSystemTrayAvailable():
            shell.tray = Tray()
            shell.tray.show()
        demo = Demo(SilentTones(problem=None), Path(tmp))  # silent, and not saying so
        alice, bob = await demo.start()
        shell.phones = [alice, bob]
        for phone in (alice, bob):
            shell._wire(phone, shell.tray is not None)
        await _until(lambda: alice.bridge.status == bob.bridge.status == "online")
        alice.bridge.send_message("bob", "Calling you now!")
        await _until(lambda: bob.bridge.chats.get("alice"))
        alice.main_window.dialer.field.setText("bob")
        alice.bridge.dial("bob")
        await _until(lambda: bob.popup.isVisible() and alice.bridge.call_status == "ringing")
        await asyncio.sleep(1.0)  # let the window system map and paint the windows
        screen = QGuiApplication.primaryScreen()
        path = out / f"demo-desktop{suffix}.png"
        screen.grabWindow(0).save(str(path))
        print(path)
        saved.append(path)
        # The corner with the popup and the notification, at full size.
        area = screen.geometry()
        corner = screen.grabWindow(0, area.width() - 760, 0, 760, area.height())
        path = out / f"incoming-notification{suffix}.png"
        corner.save(str(path))
        print(path)
        saved.append(path)
        alice.bridge.hang_up()
        await _until(lambda: not bob.popup.isVisible())
        await demo.close()
        if shell.tray is not None:
            shell.tray.hide()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/screenshots.py")
    parser.add_argument("out", nargs="?", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--desktop", action="store_true", help="grab the whole screen in demo mode (needs X)"
    )
    args = parser.parse_args(argv)
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, "dark" if args.dark else "light")
    suffix = ("-dark" if args.dark else "") + (f"@{args.scale:g}x" if args.scale != 1.0 else "")
    args.out.mkdir(parents=True, exist_ok=True)
    loop = QasyncLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        job = render_desktop if args.desktop else render
        loop.run_until_complete(job(args.out, suffix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
