"""What the user sees (issue: "everything a MicroSIP or Linphone user trips over"), through
the real windows of two or three phones on a real server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from sigphone.ui.app import SoftphoneApp, parse_args
from sigphone.ui.settings_view import open_folder
from sigphone.ui.theme import apply_theme
from sigphone.ui.tray import Tray

from ..support.waiting import until


async def _ring(alice, bob) -> None:
    alice.bridge.dial(bob.bridge.account)
    await until(lambda: bob.popup.isVisible() and alice.bridge.call_status == "ringing")


async def _connect(alice, bob) -> None:
    await _ring(alice, bob)
    bob.popup.accept_button.click()
    for phone in (alice, bob):
        await until(lambda p=phone: p.bridge.call_status == "connected")


async def test_incoming_and_answer_bring_the_call_view_forward(make_phone) -> None:
    """Item 1: bob's main window is hidden in the tray; the incoming call shows it on the
    call view, and answering from the popup leaves him with Hang up and Mute in front."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    bob.main_window.show_page("Contacts")
    bob.main_window.hide()
    await _ring(alice, bob)
    window = bob.main_window
    assert window.isVisible() and window.page_name() == "Phone"
    assert window.phone.currentWidget() is window.call_view
    window.hide()  # hidden again before answering: answering still brings it back
    bob.popup.accept_button.click()
    await until(lambda: bob.bridge.call_status == "connected")
    assert window.isVisible() and window.phone.currentWidget() is window.call_view
    assert window.call_view.hangup.isVisible() and window.call_view.mute.isEnabled()
    alice.bridge.hang_up()
    await until(lambda: not bob.bridge.in_call)


async def test_popup_keeps_clear_of_the_tray_and_its_notification_closes(make_phone, qapp) -> None:
    """Item 2: the popup goes to the corner away from the tray (where notifications
    appear), and the incoming-call notification is closed when the call stops ringing."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    area = QGuiApplication.primaryScreen().availableGeometry()
    corner = QRect(area.right() - 24, area.bottom() - 24, 22, 22)
    bob.popup.tray_geometry = lambda: corner  # a tray at the bottom right, like Windows'
    app = SoftphoneApp(qapp, parse_args([]), bob.paths, None)
    app.tray = Tray()
    app.phones = [bob]
    app._wire(bob, True)
    await _ring(alice, bob)
    assert app.tray.showing == "call"
    assert not bob.popup.geometry().intersects(QRect(corner.x() - 400, corner.y() - 150, 424, 174))
    assert bob.popup.y() < area.center().y()
    alice.bridge.hang_up()  # the caller gives up: the notification goes with the call
    await until(lambda: not bob.popup.isVisible())
    assert app.tray.showing == ""
    app.tray.hide()


async def test_received_dtmf_and_hold_show_on_both_sides(make_phone, qtbot) -> None:
    """Items 4 and 13: digits alice presses show at bob; hold shows on both phones."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    await _connect(alice, bob)
    view_a, view_b = alice.main_window.call_view, bob.main_window.call_view
    qtbot.mouseClick(view_a.keypad.buttons["4"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view_a.keypad.buttons["#"], Qt.MouseButton.LeftButton)
    await until(lambda: view_b.received_label.text() == "Received: 4#")
    assert not view_b.received_label.isHidden()
    qtbot.mouseClick(view_a.hold, Qt.MouseButton.LeftButton)
    await until(lambda: view_b.hold_badge.text() == "On hold by alice")
    assert view_a.hold_badge.text() == "On hold" and not view_a.keypad.isEnabled()
    qtbot.mouseClick(view_b.hold, Qt.MouseButton.LeftButton)
    await until(lambda: view_a.hold_badge.text() == "On hold — both sides")
    assert view_b.hold_badge.text() == "On hold — both sides"
    qtbot.mouseClick(view_a.hold, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view_b.hold, Qt.MouseButton.LeftButton)
    await until(lambda: view_a.hold_badge.isHidden() and view_b.hold_badge.isHidden())
    alice.bridge.hang_up()
    await until(lambda: not bob.bridge.in_call)


async def test_unread_badge_and_history_says_offline(make_phone) -> None:
    """Item 5: a message outside the Chats page: a count on the sidebar; opening the
    conversation clears it. Item 14: the history's context menu."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    bob.main_window.show_page("Phone")
    alice.bridge.send_message("bob", "ping")
    sidebar = bob.main_window.sidebar
    chats_row = bob.main_window._page_names.index("Chats")
    await until(lambda: sidebar.item(chats_row).text() == "Chats (1)")
    assert bob.bridge.tones.played == ["message"]
    # The count is drawn on the icon too (the compact sidebar has no text), and a view that
    # drew "1" shows "2" next (a shared pixmap kept the first count on screen before).
    rect = sidebar.visualItemRect(sidebar.item(chats_row))
    rect.setWidth(rect.height())  # the icon end of the row

    def icon_shot():  # type: ignore[no-untyped-def]
        return bob.main_window.grab().toImage().copy(rect.translated(sidebar.pos()))

    first = icon_shot()
    alice.bridge.send_message("bob", "pong")
    await until(lambda: sidebar.item(chats_row).text() == "Chats (2)")
    assert icon_shot() != first
    bob.main_window.open_chat("alice")
    assert sidebar.item(chats_row).text() == "Chats"
    assert bob.bridge.unread_total() == 0

    alice.bridge.dial("bob")
    await until(lambda: bob.bridge.in_call)
    bob.bridge.refuse()
    await until(lambda: not alice.bridge.in_call)
    history = alice.main_window.history
    menu = history.build_menu(history.tree.topLevelItem(0))
    labels = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    assert labels == ["Call bob", "Send a message to bob", "Delete this entry", "Clear history…"]
    delete = next(a for a in menu.actions() if a.text().startswith("&Delete"))
    delete.trigger()
    assert history.tree.topLevelItemCount() == 0


async def test_compact_layout_at_320_by_480(make_phone) -> None:
    """Item 7: a minimum size; at 320 x 480 the sidebar is icons only and the keypad fits."""
    alice = await make_phone("alice")
    window = alice.main_window
    assert window.minimumSize().width() == 320 and window.minimumSize().height() == 480
    window.resize(320, 480)
    await until(lambda: window.compact)
    await asyncio.sleep(0.05)
    assert window.sidebar.width() < 60
    keypad = window.dialer.keypad
    for key in keypad.buttons.values():
        right = key.mapTo(window, QPoint(key.width(), key.height()))
        assert right.x() <= window.width() and right.y() <= window.height(), key.digit
    window.resize(1280, 900)  # large: the dialer stays a phone-sized column in the middle
    await until(lambda: not window.compact)
    await asyncio.sleep(0.05)
    assert window.sidebar.item(0).text() == "Phone"
    field = window.dialer.field
    left = field.mapTo(window, QPoint(0, 0)).x()
    assert field.width() < 600 and left > window.sidebar.width() + 150


async def test_login_window_cancel_hidden_token_and_remember_only_success(
    make_phone, server
) -> None:
    """Item 8: the token is hidden as typed; Cancel stops a login that hangs; a server that
    failed is not remembered; ``host:port`` without ws:// works."""
    phone = await make_phone("carol", login=False)
    window = phone.login_window
    assert window.token.echoMode() == QLineEdit.EchoMode.Password
    window.show_token.click()
    assert window.token.echoMode() == QLineEdit.EchoMode.Normal
    window.show_token.click()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        window.server.setText(f"127.0.0.1:{silent.getsockname()[1]}")
        window.submit()
        await until(lambda: window.cancel_button.isVisible())
        window.cancel_button.click()
        await until(lambda: window.status.text() == "Login cancelled.")
        assert phone.bridge.status == "offline" and window.button.isEnabled()
    finally:
        silent.close()
    assert phone.settings.text("login/server") != window.server.text()  # not remembered
    window.server.setText(server.url.removeprefix("ws://"))
    window.submit()
    await until(lambda: phone.bridge.status == "online")
    assert phone.settings.text("login/server") == server.url.removeprefix("ws://")


async def test_contact_name_is_checked_as_typed(make_phone, qtbot) -> None:
    """Item 9."""
    alice = await make_phone("alice")
    view = alice.main_window.contacts
    qtbot.keyClicks(view.new, "bad name")
    assert view.problem.text().startswith("“bad name” is not an account name")
    assert not view.add_button.isEnabled()
    view.new.setText("alice")
    assert view.problem.text() == "That is your own account: add other people's accounts."
    view.new.setText("bob")
    assert view.problem.isHidden() and view.add_button.isEnabled()
    view.add()
    view.new.setText("BOB")
    assert view.problem.text() == "bob is already in your contacts."


async def test_settings_log_folder_and_sound_checks(make_phone, tmp_path: Path) -> None:
    """Item 11: the log path shown is the app's log file, and a folder that cannot be
    opened says so. Item 15: ringtone preview, test sound, volumes, microphone meter."""
    alice = await make_phone("alice")
    view = alice.settings_view
    assert view.log_path.text() == str(alice.paths.log_file())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert open_folder(blocker / "logs").startswith("Could not create")
    view.ringtone.setCurrentText("Soft")
    view.preview.setEnabled(True)
    view.test_button.setEnabled(True)
    view.preview.click()
    view.test_button.click()
    assert alice.bridge.tones.played[-2:] == ["preview:Soft", "test"]
    view.ring_volume.setValue(40)
    view.speaker_volume.setValue(70)
    assert alice.settings.get("audio/ring_volume") == 40
    assert alice.settings.get("audio/speaker_volume") == 70
    assert alice._volumes() == (0.4, 0.7)
    view.no_answer.setValue(30)
    assert alice.core.calls.no_answer_timeout == 30.0


async def test_channel_room_has_no_stale_state(make_phone) -> None:
    """Item 12: Join is off while in the channel; an edited field is not silently
    overwritten by a newer value, an untouched one follows it; a new login starts clean."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    view = alice.main_window.channel
    view.name.setText("ops")
    view.join()
    await until(lambda: alice.bridge.room.name == "ops")
    assert not view.join_button.isEnabled()
    bob.bridge.room.join("ops")
    await until(lambda: bob.bridge.room.name == "ops")
    alice.bridge.room.set_attr("topic", "one")
    await until(lambda: view.table.rowCount() == 1)
    view.table.selectRow(0)
    assert view.attr_value.text() == "one"
    bob.bridge.room.set_attr("topic", "two")
    await until(lambda: view.attr_value.text() == "two")  # untouched: follows
    view.attr_value.setText("mine")
    bob.bridge.room.set_attr("topic", "three")
    await until(lambda: not view.attr_note.isHidden())
    assert view.attr_value.text() == "mine" and "three" in view.attr_note.text()
    alice.bridge.room.join("_agora_user_online")
    await until(lambda: "reserved" in view.status.text())
    alice.bridge.logout()
    await until(lambda: alice.bridge.status == "offline")
    alice.login_window.submit()
    await until(lambda: alice.bridge.status == "online")
    assert view.status.text() == "Not in a channel." and view.table.rowCount() == 0


async def test_call_bar_answer_labels_and_logout_confirmation(make_phone) -> None:
    """Item 14: "Answer" in the popup and the call view; an in-call bar on other pages
    that returns to the call; logging out during a call asks first."""
    alice, bob = await make_phone("alice"), await make_phone("bob")
    await _ring(alice, bob)
    assert bob.popup.accept_button.text() == "&Answer"
    assert bob.main_window.call_view.answer.text() == "&Answer"
    bob.popup.accept_button.click()
    await until(lambda: alice.bridge.call_status == "connected")
    window = alice.main_window
    window.show_page("Contacts")
    assert window.call_bar.isVisible() and "In call with bob" in window.call_bar.text()
    window.call_bar.click()
    assert window.page_name() == "Phone" and window.call_bar.isHidden()
    window.logout_button.click()
    box = window._confirm
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert alice.bridge.status == "online"  # nothing happened yet
    end = next(b for b in box.buttons() if b.text() == "End call and log out")
    end.click()
    await until(lambda: alice.bridge.status == "offline")
    await until(lambda: not bob.bridge.in_call)


async def test_call_waiting_in_the_popup(make_phone) -> None:
    alice, bob, carol = [await make_phone(n) for n in ("alice", "bob", "carol")]
    await _connect(alice, bob)
    carol.bridge.dial("bob")
    await until(lambda: bob.popup.isVisible())
    assert bob.popup.subtitle.text() == "Call waiting"
    assert bob.popup.note.text() == "Answer puts alice on hold."
    bob.popup.accept_button.click()
    await until(lambda: carol.bridge.call_status == "connected")
    assert bob.main_window.call_view.parked_label.text() == "alice is on hold"
    await until(lambda: alice.main_window.call_view.hold_badge.text() == "On hold by bob")
    carol.bridge.hang_up()
    await until(lambda: bob.bridge.call_peer == "alice")
    bob.bridge.hang_up()
    await until(lambda: not alice.bridge.in_call)


async def test_dark_theme_disabled_controls_and_popup_icon(make_phone, qapp) -> None:
    """Item 6: disabled text is dimmer than enabled text; the popup's picture is light on
    dark after a theme switch."""
    assert isinstance(qapp, QApplication)
    alice = await make_phone("alice")
    try:
        apply_theme(qapp, "dark")
        palette = qapp.palette()
        enabled = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
        disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
        assert disabled.lightness() < enabled.lightness() - 80
        image = alice.popup.picture.pixmap().toImage()
        lit = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
        drawn = [c for c in lit if c.alpha() > 200]
        assert drawn and sum(c.lightness() for c in drawn) / len(drawn) > 160
    finally:
        apply_theme(qapp, "system")


async def test_do_not_disturb_from_the_header(make_phone) -> None:
    alice, bob = await make_phone("alice"), await make_phone("bob")
    bob.main_window.dnd.setChecked(True)
    assert "Do not disturb" in bob.main_window.presence.text()
    alice.bridge.dial("bob")
    await until(lambda: alice.main_window.call_view.state.text().startswith("bob is busy."))
    assert not bob.popup.isVisible() and bob.bridge.missed == 1
