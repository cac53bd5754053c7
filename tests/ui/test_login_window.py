"""The login window against a real server: success, and a sentence for each failure."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from sigphone.protocol import make_token

from ..support.config import CERT, CERT_APP
from ..support.waiting import until


async def test_login_success_shows_the_main_window(make_phone, qtbot) -> None:
    phone = await make_phone("alice", login=False)
    window = phone.login_window
    assert window.isVisible()
    qtbot.mouseClick(window.button, Qt.MouseButton.LeftButton)
    await until(lambda: phone.main_window.isVisible())
    assert not window.isVisible()
    assert phone.main_window.account.text() == "alice"
    assert "Online" in phone.main_window.presence.text()


async def _fail_with(phone, app_id: str, token: str, server: str | None = None) -> str:
    window = phone.login_window
    window.app_id.setText(app_id)
    window.token.setText(token)
    if server is not None:
        window.server.setText(server)
    window.status.clear()
    window.submit()
    await until(
        lambda: (
            phone.bridge.status == "offline"
            and window.status.text()
            and not window.status.text().startswith("Connecting")
        )
    )
    assert window.isVisible() and not phone.main_window.isVisible()
    assert window.button.isEnabled()
    return window.status.text()


async def test_wrong_token_sentence(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    text = await _fail_with(phone, CERT_APP, "1:" + CERT_APP + ":0:" + "0" * 32)
    assert text == (
        "The token does not match this account and app ID. Check both, or get a new token."
    )


async def test_expired_token_sentence(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    expired = make_token("alice", CERT_APP, CERT, int(time.time()) - 60)
    text = await _fail_with(phone, CERT_APP, expired)
    assert text == "Your token has expired. Get a new token and log in again."


async def test_unknown_app_and_unreachable_server(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    assert await _fail_with(phone, "nosuchapp", "_no_need_token") == (
        "The server does not know this app ID. Check the app ID with your administrator."
    )
    text = await _fail_with(phone, "testapp", "_no_need_token", server="ws://127.0.0.1:9")
    assert text.startswith("Cannot reach the server.")


async def test_token_url_that_fails_says_so(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    text = await _fail_with(phone, "testapp", "http://127.0.0.1:9/api/token")
    assert text.startswith("Could not get a token from 127.0.0.1:9")


async def test_empty_fields_are_named(make_phone) -> None:
    phone = await make_phone("alice", login=False)
    phone.login_window.account.clear()
    phone.login_window.submit()
    assert phone.login_window.status.text() == "Please fill in the account."
    assert phone.bridge.status == "offline"


async def test_remembered_values_and_kick_sentence(make_phone, tmp_path) -> None:
    first = await make_phone("alice", profile="p1")
    settings_file = first.paths.settings_file()
    assert "alice" in settings_file.read_text()
    assert "certificate" not in settings_file.read_text().lower()
    # A second login of alice elsewhere kicks the first (103): the login window says why.
    await make_phone("alice", profile="p2")
    await until(lambda: first.login_window.isVisible())
    assert first.login_window.status.text() == (
        "You were logged out because this account logged in on another device."
    )
    assert first.login_window.account.text() == "alice"
    # The token is remembered in the keyring, never in the settings file.
    assert "token" not in settings_file.read_text().lower()
    assert first.vault.get("testapp", "alice") == "_no_need_token"
