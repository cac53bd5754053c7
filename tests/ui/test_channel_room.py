"""The channel room through the GUI: two phones in one channel on a real server."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ..support.waiting import until


def _members(phone) -> list[str]:
    view = phone.main_window.channel
    return [view.members.item(i).text() for i in range(view.members.count())]


def _attrs(phone) -> dict[str, str]:
    table = phone.main_window.channel.table
    return {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}


async def _join(phone, qtbot, name: str = "room") -> None:
    view = phone.main_window.channel
    phone.main_window.show_page("Channel")
    qtbot.keyClicks(view.name, name)
    qtbot.keyClick(view.name, Qt.Key.Key_Return)
    await until(lambda: phone.bridge.room.name == name)


async def test_members_attributes_and_chat_between_two_phones(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    await _join(alice, qtbot)
    view_a = alice.main_window.channel
    assert _members(alice) == ["alice (you)"]
    assert view_a.members_box.title() == "Members (1)"

    await _join(bob, qtbot)
    await until(lambda: _members(alice) == ["alice (you)", "bob"])
    assert view_a.members_box.title() == "Members (2)"
    assert view_a.status.text() == "In room — 2 members"

    # An attribute set by alice appears in bob's table; bob edits it, alice sees the edit.
    view_a.attr_name.setText("topic")
    view_a.attr_value.setText("weekly sync")
    qtbot.mouseClick(view_a.set_button, Qt.MouseButton.LeftButton)
    await until(lambda: _attrs(bob).get("topic") == "weekly sync")
    view_b = bob.main_window.channel
    view_b.table.selectRow(next(r for r in range(view_b.table.rowCount())
                                if view_b.table.item(r, 0).text() == "topic"))  # fmt: skip
    assert view_b.attr_name.text() == "topic"
    view_b.attr_value.setText("release check")
    qtbot.keyClick(view_b.attr_value, Qt.Key.Key_Return)
    await until(lambda: _attrs(alice).get("topic") == "release check")
    qtbot.mouseClick(view_b.del_button, Qt.MouseButton.LeftButton)
    await until(lambda: "topic" not in _attrs(alice))

    # Channel chat: bob's line reaches alice with the sender's name.
    qtbot.keyClicks(view_b.input, "hello room")
    qtbot.keyClick(view_b.input, Qt.Key.Key_Return)
    await until(lambda: "bob: hello room" in view_a.transcript.toPlainText())
    await until(lambda: "bob: hello room" in view_b.transcript.toPlainText())

    # Bob leaves: alice's list and count follow; bob's room is closed with a sentence.
    qtbot.mouseClick(view_b.leave_button, Qt.MouseButton.LeftButton)
    await until(lambda: _members(alice) == ["alice (you)"])
    await until(lambda: view_b.status.text() == "You left the channel.")
    assert not view_b.input.isEnabled()


async def test_reserved_channel_says_so(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    await _join_fails(alice, qtbot, "_agora_user_online")
    assert alice.main_window.channel.status.text() == (
        "“_agora_user_online” is reserved for the server: choose another channel name."
    )


async def _join_fails(phone, qtbot, name: str) -> None:
    view = phone.main_window.channel
    view.name.setText(name)
    view.join_button.click()
    await until(lambda: "reserved" in view.status.text() or "Could not" in view.status.text())


async def test_large_channel_shows_the_count_not_a_partial_list(make_phone, server, login) -> None:
    server.channels.config.large_threshold = 2  # "large" above 2 members (200 by default)
    for account in ("carol", "dave"):
        session = await login(account)
        await session.channel_join("hall")
    alice = await make_phone("alice")
    alice.bridge.room.join("hall")  # the third member: the server sends no list
    view = alice.main_window.channel
    await until(lambda: alice.bridge.room.name == "hall")
    assert alice.bridge.room.large
    assert view.members_box.title() == "Members (3)"
    assert not view.large_note.isHidden() and not view.count_button.isHidden()
    assert "large channels send no member list" in view.large_note.text()
    erin = await login("erin")
    await erin.channel_join("hall")
    await until(lambda: view.members_box.title() == "Members (4)")
    await alice.bridge.room.query_count()
    assert view.members_box.title() == "Members (4)"
