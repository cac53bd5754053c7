"""The vendor's unmodified Python client (agorasigsdk 1.0.2) against our server, with our SDK.

Each test runs the old client in its own process (tests/support/legacy_py_driver.py) and a native
SDK user in the test; they see each other's messages, channel events and calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

# The vendor's client is a test dependency (pyproject's `test` extra): a missing one fails
# the run instead of skipping it.
import agorasigsdk  # noqa: F401
import pytest

from sigphone.protocol.token import make_token
from sigphone.sdk import Call
from sigphone.server import SignalServer

from ..support.config import APP, CERT, CERT_APP, NO_TOKEN
from ..support.legacy_client import LegacyClient
from ..support.waiting import until

Start = Callable[[], Awaitable[LegacyClient]]


@pytest.fixture
async def legacy(server: SignalServer, tmp_path: Path) -> AsyncIterator[Start]:
    """``await legacy()``: a fresh old-client process pointed at the test server."""
    clients: list[LegacyClient] = []

    async def start() -> LegacyClient:
        client = await LegacyClient.python(server.port, tmp_path / f"legacy{len(clients)}.log")
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_login_and_messages_both_ways(login, legacy) -> None:
    bob = await login("bob")
    got: list[tuple[str, str]] = []
    bob.on_message_instant_receive = lambda account, _uid, msg: got.append((account, msg))
    old = await legacy()
    old.do("login", app=APP, account="oldpy", token=NO_TOKEN)
    assert (await old.wait("login_ok"))["uid"] == 0

    old.do("send", peer="bob", msg="hello from 2018")
    await old.wait("send_ok")
    await until(lambda: got == [("oldpy", "hello from 2018")])

    for i in range(3):
        await bob.message_instant_send("oldpy", f"reply {i} with spaces")
    await old.wait("msg", 3)
    assert [(e["account"], e["msg"]) for e in old.of("msg")] == [
        ("bob", f"reply {i} with spaces") for i in range(3)
    ]

    old.do("query", account="bob")
    assert (await old.wait("status"))["s"] == 1
    assert await bob.query_user_status("oldpy") == 1


async def test_messages_queued_while_offline_arrive_once(login, legacy) -> None:
    """More than one user_getmsg page (30) waits; after a logout only new ones come."""
    bob = await login("bob")
    for i in range(35):
        await bob.message_instant_send("oldoff", f"m{i}")
    old = await legacy()
    old.do("login", app=APP, account="oldoff", token=NO_TOKEN)
    await old.wait("msg", 35)
    assert [e["msg"] for e in old.of("msg")] == [f"m{i}" for i in range(35)]
    old.do("logout")
    await old.wait("logout")
    await bob.message_instant_send("oldoff", "after")

    again = await legacy()
    again.do("login", app=APP, account="oldoff", token=NO_TOKEN)
    await again.wait("msg")
    await again.wait("login_ok")
    assert [e["msg"] for e in again.of("msg")] == ["after"]


async def test_login_with_a_v1_token_on_a_certified_app(server, legacy) -> None:
    old = await legacy()
    token = make_token("certpy", CERT_APP, CERT, int(time.time()) + 3600)
    old.do("login", app=CERT_APP, account="certpy", token=token)
    await old.wait("login_ok")
    assert server.hub.is_online(CERT_APP, "certpy")


async def test_channel_with_a_native_member(login, legacy) -> None:
    bob = await login("bob")
    seen: list[tuple] = []
    channel = await bob.channel_join(
        "hall",
        on_channel_user_joined=lambda account, _uid: seen.append(("joined", account)),
        on_message_channel_receive=lambda account, _uid, msg: seen.append(("msg", account, msg)),
        on_channel_attr_updated=lambda name, value, kind: seen.append(("attr", name, value, kind)),
    )
    await channel.channel_set_attr("topic", "old friends")
    old = await legacy()
    old.do("login", app=APP, account="oldch", token=NO_TOKEN)
    await old.wait("login_ok")
    old.do("join", channel="hall")
    await old.wait("joined")
    assert sorted((await old.wait("user_list"))["users"]) == ["bob", "oldch"]
    assert (await old.wait("attr")) == {
        "ev": "attr",
        "name": "topic",
        "value": "old friends",
        "type": "update",
    }
    await until(lambda: ("joined", "oldch") in seen)

    old.do("channel_send", msg="hi all")
    await until(lambda: ("msg", "oldch", "hi all") in seen)
    await channel.message_channel_send("welcome back")
    assert (await old.wait("channel_msg", 2))["msg"] == "welcome back"  # its own came first

    old.do("set_attr", name="mood", value="nostalgic")
    await until(lambda: ("attr", "mood", "nostalgic", "update") in seen)
    await channel.channel_del_attr("topic")
    assert (await old.wait("attr", 3))["type"] == "del"

    await channel.channel_leave()
    assert (await old.wait("user_left"))["account"] == "bob"


async def test_call_from_the_old_client_accepted_dtmf_and_ended(login, legacy) -> None:
    bob = await login("bob")
    incoming: list[Call] = []
    log: list[tuple[str, str]] = []

    def ring(call: Call) -> None:
        incoming.append(call)
        call.on_invite_msg = lambda extra: log.append(("msg", extra))
        call.on_invite_end_by_peer = lambda extra: log.append(("end", extra))

    bob.on_invite_received = ring
    old = await legacy()
    old.do("login", app=APP, account="oldcall", token=NO_TOKEN)
    await old.wait("login_ok")

    old.do("invite", channel="room7", peer="bob", extra=json.dumps({"srcNum": "+100"}))
    await until(lambda: incoming)
    call = incoming[0]
    assert (call.peer, call.channel) == ("oldcall", "room7")
    await old.wait("call_received_by_peer")
    await call.channel_invite_accept("ok")
    assert (await old.wait("call_accepted"))["extra"] == "ok"

    await call.channel_invite_dtmf("12#")
    extra = (await old.wait("call_msg"))["extra"]
    assert json.loads(extra) == {"msgtype": "dtmf", "msgdata": "12#"}
    old.do("dtmf", digits="*9")
    await until(lambda: log)
    assert json.loads(log[0][1]) == {"type": "dtmf", "dtmf": "*9"}

    old.do("end")
    await old.wait("call_end_by_myself")
    await until(lambda: any(kind == "end" for kind, _ in log))


async def test_call_to_the_old_client(login, legacy) -> None:
    bob = await login("bob")
    old = await legacy()
    old.do("login", app=APP, account="oldcallee", token=NO_TOKEN)
    await old.wait("login_ok")
    log: list[str] = []
    call = await bob.channel_invite_user2("room9", "oldcallee", "")
    call.on_invite_received_by_peer = lambda _extra: log.append("ringing")
    call.on_invite_accepted_by_peer = lambda _extra: log.append("accepted")
    invite = await old.wait("invite_received")
    assert (invite["channel"], invite["peer"]) == ("room9", "bob")
    await until(lambda: "ringing" in log)
    old.do("accept")
    await until(lambda: "accepted" in log)
    await call.channel_invite_end("bye")
    assert (await old.wait("call_end_by_peer"))["extra"] == "bye"
