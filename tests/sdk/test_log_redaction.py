"""The SDK's connection logs frames by kind and size at DEBUG, never their text: a user's
private messages do not reach the app's log file (the server side: tests/server/
test_hardening_wire.py)."""

from __future__ import annotations

import logging

from ..support.waiting import until


async def test_sdk_debug_logs_never_hold_a_message_body(login, caplog):
    secret = "whisper42"  # short: the library's frame lines show 75 characters
    # The SDK's own logger level (set_do_log may have set one) as well as the root's.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="sigphone.sdk"):
        logging.getLogger().setLevel(logging.DEBUG)
        alice = await login("alice")
        bob = await login("bob")
        got: list[str] = []
        bob.on_message_instant_receive = lambda account, uid, msg: got.append(msg)
        await alice.message_instant_send("bob", secret)
        await until(lambda: got == [secret])
    sdk = [r for r in caplog.records if r.name.startswith("sigphone.sdk.websocket")]
    assert any("TEXT" in r.getMessage() for r in sdk), "the SDK's frame logging not exercised"
    leaked = [r.getMessage() for r in caplog.records if secret in r.getMessage()]
    assert not leaked, leaked[:3]
