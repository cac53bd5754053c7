"""Demo mode (G9) in-process: an embedded server, alice and bob logged in through the dev
token endpoint, a call and a chat between them, and a clean close with no task left."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sigphone.demo import Demo
from sigphone.phone.sound import SilentTones

from ..support.waiting import until


async def test_demo_two_phones_call_and_chat(tmp_path: Path) -> None:
    demo = Demo(SilentTones(), tmp_path)
    alice, bob = await demo.start()
    try:
        await until(lambda: alice.bridge.status == bob.bridge.status == "online")
        assert alice.main_window.isVisible() and bob.main_window.isVisible()
        assert alice.main_window.x() != bob.main_window.x() or alice.main_window.x() == 0
        assert alice.login_window.token.text().endswith("/api/token")
        alice.bridge.send_message("bob", "hi")
        await until(lambda: bob.bridge.chats.get("alice"))
        alice.bridge.dial("bob")
        await until(lambda: bob.popup.isVisible())
        bob.popup.accept_button.click()
        await until(lambda: alice.bridge.call_status == "connected")
        bridges = [alice.bridge, bob.bridge]
    finally:
        await demo.close()
    assert all(len(b.tasks) == 0 for b in bridges)
    assert all(b.status == "offline" for b in bridges)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []
