"""The hub driven directly, without sockets: the state machine behind every edge adapter.

The recording link below stands in for an edge connection (the part of the system the hub
talks to), so these tests see exactly what the hub decides to send.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import msgspec
import pytest

from sigphone.protocol import frames as f
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_INBOX_PER_USER
from sigphone.server.backends.embedded.sqlite_store import SqliteStore
from sigphone.server.core.hub import Hub, HubConfig, resolve
from sigphone.server.core.session import OutboxEntry
from sigphone.server.services.users import Users

APP = "app"


class RecordingLink:
    def __init__(self) -> None:
        self.events: list[tuple[int, msgspec.Struct]] = []
        self.logouts: list[int] = []
        self.closed: tuple[int, str] | None = None

    def send_event(self, seq: int, event: msgspec.Struct) -> None:
        self.events.append((seq, event))

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        self.events.extend((e.seq, e.event) for e in outbox if e.seq > after_seq)

    def send_logout(self, code: int, reason: str) -> None:
        self.logouts.append(code)
        self.closed = (1000, reason)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


@pytest.fixture
async def hub(tmp_path: Path):
    store = SqliteStore(tmp_path / "hub.sqlite3")
    await store.open()
    hub = Hub({APP: None}, store, HubConfig(max_outbox=50))
    hub.users = Users(hub)  # type: ignore[attr-defined]  # the user requests' handlers
    await hub.start()
    yield hub
    await hub.close()
    await store.close()


async def login(hub: Hub, account: str, resume: f.Resume | None = None):
    frame = f.Login(
        app_id=APP, account=account, token="_no_need_token", client_id="c-" + account, resume=resume
    )
    session, reply, after = await hub.login(frame)
    link = RecordingLink()
    hub.attach(session, link, after)
    return session, link, reply


def msgs(link: RecordingLink) -> list[str]:
    return [e.msg for _, e in link.events if isinstance(e, f.MsgEvent)]


async def test_push_ack_and_resume_replay(hub):
    alice, _, _ = await login(hub, "alice")
    bob, link, reply = await login(hub, "bob")
    for i in range(5):
        await resolve(hub.handle(alice, f.SendMsg(peer="bob", msg=f"m{i}", cseq=i + 1)))
    assert msgs(link) == ["m0", "m1", "m2", "m3", "m4"]
    hub.ack(bob, 2)
    assert [e.seq for e in bob.outbox] == [3, 4, 5]
    hub.detach(bob, link)
    await resolve(hub.handle(alice, f.SendMsg(peer="bob", msg="m5", cseq=6)))
    # Resume having received up to 4 (acked 2): the hub replays 5 and 6 only.
    bob2, link2, reply2 = await login(hub, "bob", f.Resume(reply["session"], seq=4, ack=2))
    assert bob2 is bob and reply2["resumed"] is True
    assert msgs(link2) == ["m4", "m5"]


async def test_resent_send_is_applied_once(hub):
    alice, _, _ = await login(hub, "alice")
    _, link, _ = await login(hub, "bob")
    frame = f.SendMsg(peer="bob", msg="once", cseq=1)
    await resolve(hub.handle(alice, frame))
    await resolve(hub.handle(alice, frame))  # the same frame again after a lost reply
    assert msgs(link) == ["once"]


async def test_too_many_unacknowledged_events_end_the_session(hub):
    alice, _, _ = await login(hub, "alice")
    bob, link, _ = await login(hub, "bob")
    for i in range(51):
        await resolve(hub.handle(alice, f.SendMsg(peer="bob", msg=str(i), cseq=i + 1)))
    assert link.logouts == [ErrorCode.LOGOUT_E_NET]
    assert not hub.is_online(APP, "bob")
    assert hub.tombstones[bob.sid][0] == ErrorCode.LOGOUT_E_NET


async def test_full_inbox_refuses_and_a_resend_gets_the_same_refusal(hub):
    alice, _, _ = await login(hub, "alice")
    send = hub.users.send_message
    fill = [send(APP, "app", "offline", "x", quota=False) for _ in range(MAX_INBOX_PER_USER)]
    futures = fill  # the app's own server has no per-sender share
    for fut in futures:
        await fut
    frame = f.SendMsg(peer="offline", msg="one too many", cseq=1)
    with pytest.raises(SignalError) as err:
        await resolve(hub.handle(alice, frame))
    assert err.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    with pytest.raises(SignalError) as err:
        await resolve(hub.handle(alice, frame))
    assert err.value.code == ErrorCode.SENDMESSAGE_E_OTHER


async def test_kicked_session_cannot_resume(hub):
    _, link, reply = await login(hub, "alice")
    await login(hub, "alice")  # a second device
    assert link.logouts == [ErrorCode.LOGOUT_E_KICKED]
    with pytest.raises(SignalError) as err:
        await login(hub, "alice", f.Resume(reply["session"], seq=0))
    assert err.value.code == ErrorCode.LOGOUT_E_KICKED


async def test_unknown_session_resume_becomes_a_fresh_login(hub):
    session, _, reply = await login(hub, "alice", f.Resume("from-before-a-restart", seq=9))
    assert reply["resumed"] is False and session.seq == 0
