"""``python -m sigphone.ui.screenshots [DIR]``: render every view with realistic data.

Runs the demo (embedded server, alice and bob) offscreen, drives a real call, chat and
history through the bridges, and saves each view with ``QWidget.grab()`` to
docs/screenshots/ (default). Nothing is faked: the data shown is what the server delivered.
``--dark`` renders with the dark palette, ``--scale 2`` at 200 %.
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

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from .audio import SilentTones
from .demo import Demo
from .loop import QasyncLoop
from .paths import Paths
from .phone import Phone
from .theme import apply_theme
from .voice import media_available

__all__ = ["main"]


async def _until(predicate: Callable[[], object], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - set by network events
            await asyncio.sleep(0.01)


async def _save(widget: QWidget, out: Path, name: str, suffix: str) -> Path:
    # Let Qt run posted layout and paint events through the loop (processEvents() inside a
    # coroutine would re-enter qasync's loop).
    await asyncio.sleep(0.1)
    path = out / f"{name}{suffix}.png"
    widget.grab().save(str(path))
    print(path)
    return path


async def render(out: Path, suffix: str = "") -> list[Path]:
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        # The login window as a first-time user sees it, with a failure sentence.
        demo = Demo(SilentTones(), Path(tmp))
        await demo.server.start()
        lone = Phone(Paths.under(Path(tmp) / "carol"), SilentTones())
        lone.login_window.server.setText(demo.server.url)
        lone.login_window.app_id.setText("demo")
        lone.login_window.account.setText("carol")
        lone.login_window.token.setText("1:demo:0:0123456789abcdef0123456789abcdef")
        lone.login_window.resize(460, 320)
        lone.login_window.show()
        lone.login_window.submit()
        await _until(lambda: "token" in lone.login_window.status.text())
        saved.append(await _save(lone.login_window, out, "login", suffix))
        lone.login_window.hide()
        await demo.server.close()

        # Real voice when the media extra is installed (each phone its own Voice), so the
        # call view shows what a user sees: run it with a sound device (or a PulseAudio
        # null sink) to avoid the "no audio device" line.
        demo = Demo(None if media_available() else SilentTones(), Path(tmp) / "demo")
        alice, bob = await demo.start()
        await _until(lambda: alice.bridge.status == bob.bridge.status == "online")
        for phone in (alice, bob):
            phone.main_window.resize(760, 560)
        a, b = alice.bridge, bob.bridge

        # Contacts with presence, a conversation, a missed call and an answered call.
        a.add_contact("bob")
        a.add_contact("carol")
        a.add_contact("dave")
        await _until(lambda: len(a.presence) == 3)
        a.send_message("bob", "Hi Bob, have you got a minute for the release check?")
        await _until(lambda: b.chats.get("alice"))
        b.send_message("alice", "Sure, call me now.")
        a.send_message("carol", "Carol is offline: this one waits for her at the server.")
        await _until(lambda: all(x.state != "sending" for x in a.chats["carol"] + a.chats["bob"]))
        await _until(lambda: a.chats.get("bob") and len(a.chats["bob"]) == 2)
        b.dial("alice")
        await _until(lambda: a.call is not None and b.call_status == "ringing")
        saved.append(await _save(alice.popup, out, "incoming", suffix))
        b.hang_up()
        await _until(lambda: a.call is None)
        alice.main_window.dialer.field.setText("bob")
        alice.main_window.show_page("Phone")
        alice.main_window.call_view.finished.emit()
        saved.append(await _save(alice.main_window, out, "dialer", suffix))

        a.dial("bob")
        await _until(lambda: b.call is not None and a.call_status == "ringing")
        saved.append(await _save(alice.main_window, out, "call-ringing", suffix))
        b.accept()
        await _until(lambda: a.call_status == "connected" == b.call_status)
        for digit in "42#":
            alice.main_window.call_view.send_digit(digit)
        view = alice.main_window.call_view
        if a.media is not None:  # the call's quality line, once RTT has been measured
            measured = view.stats_label.text
            await _until(lambda: measured().startswith("RTT ") and "RTT –" not in measured(), 20)
        view._update_timer()
        saved.append(await _save(alice.main_window, out, "call-connected", suffix))
        a.hang_up()
        await _until(lambda: a.call is None and b.call is None)

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
        alice.main_window.show_page("Channel")
        saved.append(await _save(alice.main_window, out, "channel", suffix))
        await carol.bridge.shutdown()
        carol.close()

        alice.main_window.show_page("Contacts")
        saved.append(await _save(alice.main_window, out, "contacts", suffix))
        alice.main_window.open_chat("bob")
        saved.append(await _save(alice.main_window, out, "chat", suffix))
        alice.main_window.show_page("History")
        bob.main_window.show_page("Phone")
        saved.append(await _save(alice.main_window, out, "history", suffix))
        theme = alice.settings_view.theme
        theme.blockSignals(True)  # show the theme the shot was rendered with; do not re-apply
        theme.setCurrentText("Dark" if "-dark" in suffix else "Light")
        theme.blockSignals(False)
        alice.main_window.show_page("Settings")
        saved.append(await _save(alice.main_window, out, "settings", suffix))
        a._on_reconnecting(3)
        alice.main_window.call_view.finished.emit()
        alice.main_window.show_page("Phone")
        saved.append(await _save(alice.main_window, out, "reconnecting", suffix))
        a._on_reconnected(0)
        lone.close()
        await demo.close()
    return saved


async def render_desktop(out: Path, suffix: str = "") -> list[Path]:
    """The whole screen during a demo call (run under a real display, e.g. Xvfb): the two
    windows side by side and bob's incoming-call popup, as a new user sees them."""
    with tempfile.TemporaryDirectory() as tmp:
        demo = Demo(SilentTones(), Path(tmp))
        alice, bob = await demo.start()
        await _until(lambda: alice.bridge.status == bob.bridge.status == "online")
        alice.bridge.send_message("bob", "Calling you now!")
        await _until(lambda: bob.bridge.chats.get("alice"))
        alice.main_window.dialer.field.setText("bob")
        alice.bridge.dial("bob")
        await _until(lambda: bob.popup.isVisible() and alice.bridge.call_status == "ringing")
        await asyncio.sleep(0.5)  # let the window system map and paint the windows
        screen = QGuiApplication.primaryScreen()
        path = out / f"demo-desktop{suffix}.png"
        screen.grabWindow(0).save(str(path))
        print(path)
        await demo.close()
    return [path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sigphone.ui.screenshots")
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
