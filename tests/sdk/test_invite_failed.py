"""K2: an invite the server refuses for a reason that is not 701-704 fails the call with
on_invite_failed({"ecode":700}) instead of raising; bad parameters still raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigphone.sdk import ErrorCode, SignalError
from sigphone.server import SignalServer
from sigphone.server.edges.native import EdgeLimits

from ..support.config import NO_TOKEN, fast_config, fast_signal
from ..support.waiting import until


@pytest.fixture
async def strict_server(tmp_path: Path):
    config = fast_config(tmp_path / "data")
    # Two requests per connection, then "rate limited" (1001): a refusal that is not 70x.
    config.limits = EdgeLimits(rate=0.001, burst=2, max_strikes=100)
    async with SignalServer(config) as srv:
        yield srv


async def test_an_invite_refused_for_another_reason_fails_with_700(strict_server):
    alice = await fast_signal(strict_server.url).login("alice", NO_TOKEN)
    bob = await fast_signal(strict_server.url).login("bob", NO_TOKEN)
    first = await alice.channel_invite_user2("room", "bob")  # the second request: served
    failed: list[str] = []
    second = await alice.channel_invite_user2("other", "bob")  # the third: refused with 1001
    second.on_invite_failed = failed.append
    await until(lambda: failed)
    assert [json.loads(extra) for extra in failed] == [{"ecode": ErrorCode.INVITE_E_OTHER}]
    assert second.state == "ended"
    assert first.state == "ringing"
    assert second not in alice.calls
    await alice.logout()
    await bob.logout()


async def test_bad_invite_parameters_still_raise(login):
    alice = await login("alice")
    with pytest.raises(SignalError) as err:
        await alice.channel_invite_user2("room", "alice")  # a user cannot call itself
    assert err.value.code == ErrorCode.GENERAL_E_WRONG_PARAM
    assert alice.calls == []
