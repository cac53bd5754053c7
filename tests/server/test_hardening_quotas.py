"""Issue 12, item 4: quotas (core/quotas.py), configurable in ``[limits]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server import ServerConfig, SignalServer

from ..support.config import APP, fast_config, fast_signal
from ..support.waiting import until

SET_ATTR = "io.agora.signal.channel_set_attr"


async def _login(server: SignalServer, account: str):
    return await fast_signal(server.url).login(account, "_no_need_token")


async def test_channels_created_from_outside_are_bounded_per_user_and_per_app(tmp_path):
    """Before: any user could create channels with attribute calls without ever joining
    them (4,500 in 6 s, each kept up to 30 days)."""
    cfg = fast_config(tmp_path / "data")
    cfg.quotas.attr_channels_per_user = 5
    cfg.quotas.attr_channels_per_app = 8
    async with SignalServer(cfg) as srv:
        mallory = await _login(srv, "mallory")
        other = await _login(srv, "other")
        for i in range(5):
            await mallory.invoke(SET_ATTR, {"channel": f"m{i}", "name": "a", "value": "1"})
        with pytest.raises(SignalError) as err:
            await mallory.invoke(SET_ATTR, {"channel": "m5", "name": "a", "value": "1"})
        assert err.value.code == ErrorCode.GENERAL_E_FAILED and "quota" in err.value.reason
        # Changing a channel that exists costs nothing.
        await mallory.invoke(SET_ATTR, {"channel": "m0", "name": "b", "value": "2"})
        for i in range(3):
            await other.invoke(SET_ATTR, {"channel": f"o{i}", "name": "a", "value": "1"})
        with pytest.raises(SignalError):  # the app's quota (8) is used up
            await other.invoke(SET_ATTR, {"channel": "o3", "name": "a", "value": "1"})
        # A channel that gets a member is an ordinary channel: off its creator's quota.
        await other.channel_join("m0")
        await mallory.invoke(SET_ATTR, {"channel": "m5", "name": "a", "value": "1"})
        assert len(srv.channels.channels) == 9
        await mallory.logout()
        await other.logout()


async def test_a_sender_gets_a_share_of_an_inbox_and_a_quota_of_undelivered(tmp_path):
    """Before: one sender could fill another user's inbox to its 10,000 cap, blocking every
    other sender, and keep any number of messages waiting for well-formed names."""
    cfg = fast_config(tmp_path / "data")
    cfg.quotas.inbox_share_per_sender = 20
    cfg.quotas.undelivered_per_sender = 50
    async with SignalServer(cfg) as srv:
        mallory = await _login(srv, "mallory")
        for _ in range(20):
            await mallory.message_instant_send("victim", "spam")
        with pytest.raises(SignalError) as err:
            await mallory.message_instant_send("victim", "spam")
        assert err.value.code == ErrorCode.SENDMESSAGE_E_OTHER and "quota" in err.value.reason
        friend = await _login(srv, "friend")
        await friend.message_instant_send("victim", "still reaches you")  # not locked out
        for name in ("v2", "v3"):
            for _ in range(15):
                await mallory.message_instant_send(name, "spam")
        with pytest.raises(SignalError) as err:  # 50 undelivered in all
            await mallory.message_instant_send("v4", "spam")
        assert "undelivered" in err.value.reason
        # Delivered and acknowledged messages leave the quota.
        victim = await _login(srv, "victim")
        got: list[str] = []
        victim.on_message_instant_receive = lambda a, u, m: got.append(m)
        await until(lambda: len(got) == 21)
        await victim.logout()  # acked before the logout completes
        await mallory.message_instant_send("victim", "room again")
        for s in (mallory, friend):
            await s.logout()


async def test_the_store_has_a_total_budget(tmp_path):
    cfg = fast_config(tmp_path / "data")
    cfg.quotas.store_bytes = 10_000
    async with SignalServer(cfg) as srv:
        users = [await _login(srv, f"u{i}") for i in range(4)]
        sent = 0
        with pytest.raises(SignalError) as err:
            for i in range(100):
                await users[i % 4].message_instant_send(f"off{i}", "x" * 1000)
                sent += 1
        assert err.value.code == ErrorCode.SENDMESSAGE_E_OTHER
        assert "store is full" in err.value.reason
        assert sent == 10
        for u in users:
            await u.logout()


async def test_disk_per_sender_is_bounded_by_the_default_quota(tmp_path):
    """One sender with the default quotas, 8K-character messages to offline users: refused
    after ``undelivered_per_sender``; prints what that costs on disk."""
    data = tmp_path / "data"
    cfg = fast_config(data)
    cfg.limits.rate = cfg.limits.burst = 1e6  # the request rate is not what is measured
    quota = cfg.quotas.undelivered_per_sender
    async with SignalServer(cfg) as srv:
        before = _disk(data)
        sender = await _login(srv, "mallory")
        body = "m" * 8192
        sent = 0
        try:
            while sent < quota + 10:
                await sender.message_instant_send(f"offline{sent % 3}", body)
                sent += 1
        except SignalError as exc:
            assert "undelivered" in exc.reason
        grown = (_disk(data) - before) / 1024**2
        print(f"\none sender: {sent} messages of 8K accepted, {grown:.1f} MB on disk")
        assert sent == quota
        await sender.logout()


def _disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())


def test_quotas_are_read_from_the_limits_section(tmp_path):
    conf = tmp_path / "s.toml"
    conf.write_text(
        f'[[apps]]\nid = "{APP}"\n[limits]\nrate = 10.0\nundelivered_per_sender = 7\n'
        "attr_channels_per_user = 3\n",
        encoding="utf-8",
    )
    cfg = ServerConfig.from_toml(conf)
    assert (cfg.limits.rate, cfg.quotas.undelivered_per_sender) == (10.0, 7)
    assert cfg.quotas.attr_channels_per_user == 3
    conf.write_text("[limits]\nno_such_quota = 1\n", encoding="utf-8")
    with pytest.raises(ValueError):
        ServerConfig.from_toml(conf)
