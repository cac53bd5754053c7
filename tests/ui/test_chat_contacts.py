"""Point-to-point chat and contacts through the GUI, including a message kept offline."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ..support.waiting import until


async def test_chat_both_ways_with_delivery_state(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    bob = await make_phone("bob")
    alice.main_window.open_chat("bob")
    chats = alice.main_window.chats
    assert chats.peer == "bob"
    qtbot.keyClicks(chats.input, "hello <bob> & co")
    qtbot.keyClick(chats.input, Qt.Key.Key_Return)
    assert chats.input.text() == ""
    await until(lambda: "hello <bob> & co" in bob.main_window.chats.transcript.toPlainText())
    assert bob.main_window.chats.peer == "alice"  # the first conversation opens by itself
    await until(lambda: "✓ delivered" in chats.transcript.toPlainText())

    bob.main_window.chats.input.setText("hi alice")
    bob.main_window.chats.send_button.click()
    await until(lambda: "hi alice" in chats.transcript.toPlainText())


async def test_offline_message_arrives_at_next_login(make_phone) -> None:
    alice = await make_phone("alice")
    alice.main_window.open_chat("carol")
    alice.main_window.chats.input.setText("see you tomorrow")
    alice.main_window.chats.send()
    await until(lambda: alice.bridge.chats["carol"][0].state == "stored")
    text = alice.main_window.chats.transcript.toPlainText()
    assert "kept by the server until carol logs in" in text
    carol = await make_phone("carol")
    await until(lambda: "see you tomorrow" in carol.main_window.chats.transcript.toPlainText())


async def test_failed_message_is_marked(make_phone) -> None:
    from sigphone.protocol.limits import MAX_P2P_MSG_CHARS

    alice = await make_phone("alice")
    alice.main_window.open_chat("bad name")  # spaces are not allowed in account names
    alice.main_window.chats.input.setText("x")
    alice.main_window.chats.send()
    status = alice.main_window.statusBar().currentMessage()
    assert status == "“bad name” is not an account name: names have no spaces."
    assert "bad name" not in alice.bridge.chats
    # A message the server refuses (too long) is marked, with what to do.
    alice.main_window.open_chat("bob")
    alice.main_window.chats.input.setText("x" * (MAX_P2P_MSG_CHARS + 1))
    alice.main_window.chats.send()
    await until(lambda: "✗ not sent" in alice.main_window.chats.transcript.toPlainText())
    assert alice.main_window.statusBar().currentMessage() == (
        "Your message to bob was not sent. The message is too long: split it into shorter ones."
    )


async def test_contacts_show_live_presence(make_phone, qtbot) -> None:
    alice = await make_phone("alice")
    contacts = alice.main_window.contacts
    qtbot.keyClicks(contacts.new, "bob")
    qtbot.keyClick(contacts.new, Qt.Key.Key_Return)

    def row() -> str:
        return contacts.list.item(0).text() if contacts.list.count() else ""

    await until(lambda: row() == "bob  —  offline")
    bob = await make_phone("bob")
    await until(lambda: row() == "bob  —  online")
    await bob.bridge.shutdown()
    await until(lambda: row() == "bob  —  offline")
    # Chat from the contact list opens the conversation.
    contacts.list.setCurrentRow(0)
    contacts.chat_button.click()
    assert alice.main_window.chats.peer == "bob"
