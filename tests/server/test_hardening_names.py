"""Issue 12, items 9 and 10: call ids are per app; names are compared in NFC."""

from __future__ import annotations

from websockets.asyncio.client import connect

from sigphone.protocol.token import make_token

from ..support.config import APP, CERT, CERT_APP
from ..support.raw import Raw
from ..support.waiting import until

NFC = "caf\u00e9"  # é as one code point
NFD = "cafe\u0301"  # e + combining acute accent


async def _login(server, account: str, app: str = APP) -> Raw:
    ws = await connect(server.url, compression=None)
    raw = Raw(ws)
    token = "_no_need_token" if app == APP else make_token(account, app, CERT, 0)
    reply = await raw.call(
        {"op": "login", "id": 1, "app_id": app, "account": account, "token": token}
    )
    assert reply["code"] == 0, reply
    return raw


async def _reply(raw: Raw, rid: int) -> dict:
    while True:
        frame = await raw.recv()
        if frame.get("op") == "reply" and frame["id"] == rid:
            return frame


async def test_call_ids_are_namespaced_per_app(server):
    """Before: one namespace for every app, so an app's user could tell another app's call
    ids apart ("call id in use") and block them by taking them first."""
    call = "a" * 32
    first = await _login(server, "alice", APP)
    other = await _login(server, "mallory", CERT_APP)
    try:
        await other.send(
            {"op": "call_invite", "id": 2, "call": call, "channel": "c", "peer": "bob"}
        )
        assert (await _reply(other, 2))["code"] == 0
        await first.send(
            {"op": "call_invite", "id": 3, "call": call, "channel": "c", "peer": "bob"}
        )
        assert (await _reply(first, 3))["code"] == 0  # the same id, another app: no clash
        assert (APP, call) in server.calls.calls and (CERT_APP, call) in server.calls.calls
        # Ending "my" call never touches the other app's call of the same id.
        await other.send({"op": "call_end", "id": 4, "call": call})
        assert (await _reply(other, 4))["code"] == 0
        assert (APP, call) in server.calls.calls
    finally:
        await first.ws.close()
        await other.ws.close()


async def test_account_and_channel_names_are_compared_in_nfc(server, login):
    nfd_user = await login(NFD)
    got: list[str] = []
    nfd_user.on_message_instant_receive = lambda a, u, m: got.append(m)
    bob = await login("bob")
    await bob.message_instant_send(NFC, "one account, whatever its form")
    await until(lambda: got == ["one account, whatever its form"])
    assert await bob.query_user_status(NFC) == 1
    assert (APP, NFC) in server.hub.sessions and (APP, NFD) not in server.hub.sessions
    # Channels: joining either form is one channel.
    await nfd_user.channel_join(NFD)
    await bob.channel_join(NFC)
    assert sorted(server.channels.get(APP, NFC).members) == sorted(["bob", NFC])
    assert server.channels.get(APP, NFD) is None
    # One session per account: logging in with the other form kicks the first.
    raw = await _login(server, NFC)
    try:
        await until(lambda: nfd_user.get_status() == 0)  # kicked (103)
        assert server.hub.sessions[(APP, NFC)].link is not None
    finally:
        await raw.ws.close()


async def test_the_app_removes_a_member_named_in_either_form(server, login):
    """The Server API's kick names the channel and the account as the app has them: either
    Unicode form reaches the one member (the channel service compares names in NFC)."""
    member = await login(NFC)
    codes: list[int] = []
    channel = await member.channel_join(NFC)
    channel.on_channel_leaved = codes.append
    assert server.channels.remove_member(APP, NFD, NFD) is True
    await until(lambda: codes == [601])
