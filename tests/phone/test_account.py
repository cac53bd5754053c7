"""The account controller: addresses as typed, several servers, Cancel, sentences."""

from __future__ import annotations

import asyncio
import socket

from sigphone.phone.credentials import NO_KEYRING, TokenVault
from sigphone.phone.events import LoggedIn, LoginFailed, StatusChanged
from sigphone.phone.texts import _CALL, _GENERAL, _LOGIN, _LOGOUT, _MESSAGE
from sigphone.phone.uri import normalize_target, parse_servers, server_url

from ..support.config import APP, NO_TOKEN
from ..support.keyrings import MemoryKeyring, use_keyring
from ..support.waiting import until


def test_addresses_as_people_type_them() -> None:
    assert server_url("127.0.0.1:9000") == "ws://127.0.0.1:9000"
    assert server_url("wss://example.org/") == "wss://example.org"
    assert server_url("https://example.org") == "wss://example.org"
    assert parse_servers("a:1, ws://b:2 ,a:1") == ["ws://a:1", "ws://b:2"]
    assert normalize_target("+49 (30) 123-456") == "+4930123456"
    assert normalize_target("*21#") == "*21#"
    assert normalize_target("tel:+1-555-0100") == "+15550100"
    assert normalize_target("bob") == "bob"
    assert normalize_target("bob smith") is None


async def test_login_without_ws_scheme(make_core, server) -> None:
    """Item 8: ``127.0.0.1:9000`` (no ws://) logs in."""
    core = await make_core("alice", login=False)
    core.account.login(server.url.removeprefix("ws://"), APP, "alice", NO_TOKEN)
    await until(lambda: core.account.status == "online")
    assert core.events.of(LoggedIn) == [LoggedIn("alice")]


async def test_cancel_while_connecting(make_core) -> None:
    """Item 8: a server that accepts the connection and never answers; Cancel ends the
    attempt at once with "Login cancelled." and the phone is offline."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        core = await make_core("alice", login=False)
        port = silent.getsockname()[1]
        task = core.account.login(f"127.0.0.1:{port}", APP, "alice", NO_TOKEN)
        await until(lambda: core.account.status == "connecting")
        await asyncio.sleep(0.05)
        assert core.account.cancel_login()
        await task
        assert core.account.status == "offline"
        assert core.events.of(LoginFailed) == [LoginFailed(203, "Login cancelled.")]
        assert StatusChanged("offline") in core.events
    finally:
        silent.close()


async def test_several_servers_fall_back_to_the_next(make_core, server) -> None:
    """Several addresses, comma-separated: a list goes to the SDK, which logs in on the
    first that answers."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    core = await make_core("alice", login=False)
    core.account.login(f"127.0.0.1:{dead}, {server.url}", APP, "alice", NO_TOKEN)
    await until(lambda: core.account.status == "online", within=20)


def test_token_vault_uses_the_keyring_and_says_when_there_is_none() -> None:
    """Item 8: the token goes to the system keyring; without one it is not remembered and
    the login window can say so."""
    backend = MemoryKeyring()
    with use_keyring(backend):
        vault = TokenVault()
        assert vault.available and vault.problem is None
        assert vault.put("demo", "alice", "secret-token")
        assert vault.get("demo", "alice") == "secret-token"
        assert backend.passwords == {("Sigphone", "demo/alice"): "secret-token"}
        vault.forget("demo", "alice")
        assert vault.get("demo", "alice") == ""
    from keyring.backends import fail

    with use_keyring(fail.Keyring()):
        vault = TokenVault()
        assert not vault.available and vault.problem == NO_KEYRING
        assert not vault.put("demo", "alice", "x") and vault.get("demo", "alice") == ""


def test_every_sentence_says_what_to_do_without_jargon() -> None:
    """Item 10: no "parameter", no bare codes; every sentence is a sentence."""
    for table in (_LOGIN, _LOGOUT, _CALL, _MESSAGE, _GENERAL):
        for code, text in table.items():
            assert "parameter" not in text.lower(), code
            assert "code" not in text.lower(), code
            assert text.endswith("."), code
