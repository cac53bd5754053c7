"""Calls through the GUI: two phones (alice, bob) in one process on a real server."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sigphone.ui.tray import badge_icon

from ..support.waiting import until


def _history_rows(phone) -> list[tuple[str, str]]:
    tree = phone.main_window.history.tree
    return [
        (tree.topLevelItem(i).text(1), tree.topLevelItem(i).text(4))
        for i in range(tree.topLevelItemCount())
    ]


async def test_dial_from_dialer_accept_in_popup_dtmf_hang_up(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    received: list[str] = []
    bob.bridge.dtmf_received.connect(received.append)

    dialer = alice.main_window.dialer
    qtbot.keyClicks(dialer.field, "bob")
    qtbot.keyClick(dialer.field, Qt.Key.Key_Return)

    await until(lambda: bob.popup.isVisible())
    assert bob.popup.caller.text() == "alice is calling"
    assert bob.bridge.tones.ringing
    await until(lambda: alice.main_window.call_view.state.text() == "Ringing…")
    assert alice.main_window.phone.currentWidget() is alice.main_window.call_view

    qtbot.mouseClick(bob.popup.accept_button, Qt.MouseButton.LeftButton)
    for phone in (alice, bob):
        await until(lambda p=phone: p.main_window.call_view.state.text() == "Connected")
    assert not bob.popup.isVisible()
    assert not bob.bridge.tones.ringing

    # A keypad press sends channel_invite_dtmf; bob's session receives it (on_invite_msg).
    keypad = alice.main_window.call_view.keypad
    qtbot.mouseClick(keypad.buttons["5"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keypad.buttons["#"], Qt.MouseButton.LeftButton)
    # Typed digits in the call view are DTMF too.
    qtbot.keyClick(alice.main_window.call_view, "9")
    await until(lambda: received == ["5", "#", "9"])
    assert alice.main_window.call_view.dtmf_label.text() == "5#9"
    assert alice.bridge.tones.played[-3:] == ["5", "#", "9"]

    qtbot.mouseClick(alice.main_window.call_view.hangup, Qt.MouseButton.LeftButton)
    await until(lambda: alice.main_window.call_view.state.text() == "Call ended.")
    await until(lambda: bob.main_window.call_view.state.text() == "alice hung up.")
    await until(lambda: _history_rows(bob) == [("alice", "Incoming, answered")])
    assert _history_rows(alice) == [("bob", "Outgoing, answered")]


async def test_refuse_in_popup(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    alice.bridge.dial("bob")
    await until(lambda: bob.popup.isVisible())
    qtbot.mouseClick(bob.popup.refuse_button, Qt.MouseButton.LeftButton)
    await until(lambda: alice.main_window.call_view.state.text() == "bob declined the call.")
    assert not bob.popup.isVisible()
    assert _history_rows(alice) == [("bob", "Outgoing, declined")]
    assert _history_rows(bob) == [("alice", "Incoming, declined")]


async def test_missed_call_badge_and_history(make_phone) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    alice.bridge.dial("bob")
    await until(lambda: bob.popup.isVisible() and alice.bridge.call_status == "ringing")
    alice.main_window.call_view.hangup.click()
    await until(lambda: not bob.popup.isVisible())
    assert bob.main_window.call_view.state.text() == "Missed call from alice."
    sidebar = bob.main_window.sidebar
    history_row = bob.main_window._page_names.index("History")
    assert sidebar.item(history_row).text() == "History (1)"
    assert _history_rows(bob) == [("alice", "Missed")]
    assert not badge_icon(1).isNull()
    # Looking at the history clears the badge.
    bob.main_window.show_page("History")
    assert sidebar.item(history_row).text() == "History"
    assert bob.bridge.missed == 0


async def test_keyboard_digits_in_dialer_and_redial(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    dialer = alice.main_window.dialer
    qtbot.keyClicks(dialer.field, "12*#")
    assert dialer.field.text() == "12*#"
    assert alice.bridge.tones.played == ["1", "2", "*", "#"]
    qtbot.keyClick(dialer.field, Qt.Key.Key_Backspace)
    assert dialer.field.text() == "12*"
    qtbot.mouseClick(dialer.keypad.buttons["0"], Qt.MouseButton.LeftButton)
    assert dialer.field.text() == "12*0"

    dialer.field.setText("bob")
    dialer.call_button.click()
    await until(lambda: bob.bridge.call is not None)
    alice.bridge.hang_up()
    await until(lambda: alice.bridge.call is None and bob.bridge.call is None)
    dialer.field.clear()
    dialer.redial_button.click()
    assert dialer.field.text() == "bob"
    await until(lambda: bob.bridge.call is not None)
    bob.bridge.refuse()
    await until(lambda: alice.bridge.call is None)


async def test_history_survives_a_restart(make_phone) -> None:
    alice = await make_phone("alice", profile="alice-profile")
    bob = await make_phone("bob")
    alice.bridge.dial("bob")
    await until(lambda: bob.bridge.call is not None)
    bob.bridge.refuse()
    await until(lambda: alice.bridge.call is None)
    await alice.bridge.shutdown()
    alice.close()
    again = await make_phone("alice", profile="alice-profile")
    assert _history_rows(again) == [("bob", "Outgoing, declined")]
    assert again.bridge.redial_target() == "bob"
