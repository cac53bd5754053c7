"""Chat, contacts, presence and the channel room in the Qt-free phone, on a real server."""

from __future__ import annotations

from sigphone.phone.events import (
    ContactsChanged,
    ErrorText,
    MessageReceived,
    PresenceChanged,
    RoomAttrsChanged,
    RoomLeft,
    UnreadChanged,
)

from ..support.waiting import until


async def test_chat_outcomes_unread_and_persistence(make_core) -> None:
    """Item 5: the real outcome (delivered / kept for an offline account / refused), unread
    counts with a sound, and conversations kept across a logout."""
    alice, bob = await make_core("alice"), await make_core("bob")
    alice.chat.send("bob", "hi bob")
    alice.chat.send("nobody-yet", "are you there?")
    await until(lambda: all(x.state != "sending" for lines in alice.chat.chats.values()
                            for x in lines))  # fmt: skip
    assert alice.chat.chats["bob"][0].state == "delivered"
    assert alice.chat.chats["nobody-yet"][0].state == "stored"  # the server keeps it
    assert alice.chat.send("two words", "x") is None
    assert alice.events.of(ErrorText)[-1].text.startswith("“two words” is not an account name")

    await until(lambda: bob.chat.unread("alice") == 1)
    assert bob.events.of(MessageReceived) == [MessageReceived("alice", "hi bob")]
    assert bob.events.of(UnreadChanged)[-1] == UnreadChanged(1)
    assert bob.tones.played == ["message"]
    bob.chat.view("alice")  # the conversation is on screen: read
    assert bob.chat.unread_total() == 0 and bob.events.of(UnreadChanged)[-1] == UnreadChanged(0)
    alice.chat.send("bob", "while you look")
    await until(lambda: len(bob.chat.chats["alice"]) == 2)
    assert bob.chat.unread("alice") == 0  # read as it arrives
    assert bob.tones.played == ["message"]  # no sound for the conversation on screen

    # Logout and login again: the conversations are still there (SQLite).
    alice.account.logout()
    await until(lambda: alice.account.status == "offline")
    alice.account.login(alice.account.servers[0], "testapp", "alice", "_no_need_token")
    await until(lambda: alice.account.status == "online")
    assert [x.text for x in alice.chat.chats["bob"]] == ["hi bob", "while you look"]
    assert alice.chat.chats["nobody-yet"][0].state == "stored"


async def test_contacts_are_checked_when_added(make_core) -> None:
    """Item 9: an invalid name, yourself and a case-variant duplicate are refused with a
    sentence; a valid contact never stays "checking…" (its presence arrives)."""
    alice = await make_core("alice")
    assert alice.contacts.live  # the SDK pushes presence: no polling
    assert alice.contacts._poll is None
    assert alice.contacts.add("bad name") == (
        "“bad name” is not an account name: names have no spaces (1-128 characters)."
    )
    assert alice.contacts.add("ALICE") == "That is your own account: add other people's accounts."
    assert alice.contacts.add("bob") is None
    assert alice.contacts.add("Bob") == "bob is already in your contacts."
    assert alice.contacts.contacts() == ["bob"]
    assert len(alice.events.of(ContactsChanged)) == 1
    await until(lambda: alice.contacts.presence.get("bob") is False)
    bob = await make_core("bob")
    await until(lambda: alice.contacts.presence.get("bob") is True)
    assert PresenceChanged("bob", True) in alice.events
    await bob.shutdown()
    await until(lambda: alice.contacts.presence.get("bob") is False)


async def test_room_state_is_current_after_leaving(make_core) -> None:
    """Item 12: after leaving, the room shows no attributes of the old channel; joining the
    channel you are in does nothing."""
    alice = await make_core("alice")
    alice.room.join("ops")
    await until(lambda: alice.room.name == "ops")
    assert alice.room.join("ops") is None  # already in it
    alice.room.set_attr("topic", "release")
    await until(lambda: alice.room.attrs == {"topic": "release"})
    alice.room.leave()
    await until(lambda: alice.events.of(RoomLeft))
    assert alice.room.attrs == {} and alice.room.members == [] and alice.room.count == 0
    assert alice.events.of(RoomAttrsChanged)
