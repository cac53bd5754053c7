"""Demo mode (G9) in-process: an embedded server, alice and bob logged in through the dev
token endpoint, a call and a chat between them, and a clean close with no task left."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sigphone.demo import Demo
from sigphone.phone.sound import SilentTones

from ..support.ports import free_port
from ..support.sipp import Sipp
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


async def test_demo_with_a_sip_trunk_calls_a_sip_phone(tmp_path: Path) -> None:
    """``sigphone --demo --sip-trunk``: alice dials a number, the demo's gateway places the
    SIP call at the trunk (sipp answering as a phone), the call connects and ends both ways
    cleanly (sipp's scenario passes only if it got the INVITE, the ACK and the BYE)."""
    phone = Sipp(tmp_path / "sipp", "-sn", "uas")
    await phone.start()
    demo = Demo(
        SilentTones(),
        tmp_path / "demo",
        sip_trunk=f"sip:127.0.0.1:{phone.port}",
        sip_port=free_port("both"),
    )
    try:
        alice, _bob = await demo.start()
        await until(lambda: alice.bridge.status == "online")
        assert demo.gateway is not None
        await until(lambda: demo.server.hub.is_online("demo", "sipgw"))
        alice.bridge.dial("+4930123")
        await until(lambda: alice.bridge.call_status == "connected", 30)
        alice.bridge.hang_up()
        assert await phone.wait(30) == 0, phone.errors()
        await until(lambda: demo.gateway is not None and demo.gateway.live == 0, 20)
    finally:
        await phone.stop()
        await demo.close()
    assert demo.gateway is None
