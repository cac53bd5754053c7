"""``Signal(app, server=[url1, url2, ...])``: login on the first that answers, and after a
connection loss reconnect attempts rotate through the list (A4 rules unchanged).

Until the cluster shares sessions, a resume only works on the server that holds the session:
on another server the resume becomes a fresh login (``resumed`` False), exactly as after a
server restart. Two real, independent servers stand in for two nodes here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sigphone.sdk import ErrorCode, Signal, SignalError, Status
from sigphone.server import SignalServer

from ..support.config import APP, NO_TOKEN, fast_config, fast_signal
from ..support.netfault import FaultyLink
from ..support.waiting import until


@pytest.fixture
async def second(tmp_path: Path) -> AsyncIterator[SignalServer]:
    async with SignalServer(fast_config(tmp_path / "data2")) as srv:
        yield srv


@pytest.fixture
async def link1(server: SignalServer) -> AsyncIterator[FaultyLink]:
    link = FaultyLink(server.port)
    await link.start()
    yield link
    await link.close()


async def test_a_single_string_is_a_list_of_one(server):
    sig = fast_signal(server.url)
    assert sig.servers == [server.url]
    assert sig.server == server.url
    session = await sig.login("alice", NO_TOKEN)
    assert sig.server == server.url
    await session.logout()


def test_an_empty_list_is_a_wrong_parameter():
    with pytest.raises(SignalError) as err:
        Signal(APP, server=[])
    assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM


async def test_login_skips_an_unreachable_address(server, link1):
    link1.refuse = True
    sig = fast_signal(link1.url)
    sig.server = [link1.url, server.url]
    alice = await sig.login("alice", NO_TOKEN)
    assert sig.server == server.url
    await alice.logout()


async def test_login_fails_201_when_no_address_answers(link1):
    link1.refuse = True
    sig = fast_signal(link1.url)
    sig.server = [link1.url, link1.url]
    with pytest.raises(SignalError) as err:
        await sig.login("alice", NO_TOKEN)
    assert err.value.code == ErrorCode.LOGIN_E_NET


async def test_a_blip_resumes_on_the_same_server(server, second, link1):
    sig = fast_signal(link1.url)
    sig.server = [link1.url, second.url]
    alice = await sig.login("alice", NO_TOKEN)
    reconnected: list[int] = []
    alice.on_reconnected = reconnected.append
    link1.cut()  # the first attempt goes back to the same address, which answers
    await until(lambda: reconnected)
    assert sig.server == link1.url
    assert alice.resumed
    await alice.logout()


async def test_connection_loss_rotates_to_the_next_server(server, second, link1):
    sig = fast_signal(link1.url)
    sig.server = [link1.url, second.url]
    alice = await sig.login("alice", NO_TOKEN)
    tries: list[int] = []
    reconnected: list[int] = []
    got: list[str] = []
    alice.on_reconnecting = tries.append
    alice.on_reconnected = reconnected.append
    alice.on_message_instant_receive = lambda account, uid, msg: got.append(msg)

    link1.refuse = True  # the first server is gone for this client
    link1.cut()
    await until(lambda: reconnected)
    assert tries[:2] == [1, 2]  # attempt 1 at the lost address, attempt 2 at the next
    assert sig.server == second.url
    assert alice.get_status() == Status.LOGGED_IN
    assert not alice.resumed  # the second server never knew the session: a fresh login

    # The session works on the second server: both directions, and it counts as online there.
    bob = await fast_signal(second.url).login("bob", NO_TOKEN)
    bob_got: list[str] = []
    bob.on_message_instant_receive = lambda account, uid, msg: bob_got.append(msg)
    assert await bob.query_user_status("alice") == 1
    await alice.message_instant_send("bob", "from the new server")
    await bob.message_instant_send("alice", "hello again")
    await until(lambda: bob_got and got)
    assert bob_got == ["from the new server"]
    assert got == ["hello again"]
    await bob.logout()
    await alice.logout()
