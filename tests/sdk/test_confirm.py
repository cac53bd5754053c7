"""An invite is confirmed to its caller (on_invite_received_by_peer) by the callee's SDK at
once, as the seeds do, or, with ``Signal.auto_confirm_invites = False`` (a gateway), only
when the callee calls ``Call.confirm()``."""

from __future__ import annotations

import asyncio

from sigphone.sdk import Call

from ..support.config import NO_TOKEN, fast_signal
from ..support.waiting import until


async def _ringing_pair(server, auto: bool):
    alice = await fast_signal(server.url).login("alice", NO_TOKEN)
    callee_signal = fast_signal(server.url)
    callee_signal.auto_confirm_invites = auto
    bob = await callee_signal.login("bob", NO_TOKEN)
    incoming: list[Call] = []
    bob.on_invite_received = incoming.append
    call = await alice.channel_invite_user2("room", "bob")
    confirmed: list[str] = []
    call.on_invite_received_by_peer = confirmed.append
    await until(lambda: incoming)
    return alice, bob, incoming[0], confirmed


async def test_invites_are_confirmed_at_once_by_default(server):
    alice, bob, _call, confirmed = await _ringing_pair(server, auto=True)
    await until(lambda: confirmed)
    await alice.logout()
    await bob.logout()


async def test_a_gateway_confirms_when_it_chooses(server):
    alice, bob, call, confirmed = await _ringing_pair(server, auto=False)
    # The invite is here and handed over, but nobody has told the caller: a round trip
    # through the server later, still nothing.
    await bob.query_user_status("alice")
    await asyncio.sleep(0.05)
    assert confirmed == []
    await call.confirm()
    await call.confirm()  # only the first sends anything
    await until(lambda: confirmed)
    await asyncio.sleep(0.05)
    assert len(confirmed) == 1
    await alice.logout()
    await bob.logout()
