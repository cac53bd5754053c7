"""The hub under random traffic (issue 12): a hypothesis state machine over the real hub, store
and channel service, with clients modelled as the SDK behaves (skip repeated sequence
numbers, skip inbox ids already handed over, acknowledge what was handed over).

After every step: one session per account; channel member counts equal member lists and
every member's session is live and knows its channel; no acknowledged send is lost (each is
handed to its recipient or waits in the durable store); nothing is handed over twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sigphone.protocol import channels as c
from sigphone.protocol import frames as f
from sigphone.protocol.errors import SignalError
from sigphone.server.backends.embedded.sqlite_store import SqliteStore
from sigphone.server.core.hub import Hub, HubConfig, resolve
from sigphone.server.core.session import OutboxEntry, ServerSession
from sigphone.server.services.channels import Channels

APP = "app"
ACCOUNTS = st.sampled_from(["ann", "ben", "cat"])
CHANNELS = st.sampled_from(["x", "y"])


class Client:
    """One account's SDK, as far as delivery goes."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.session: ServerSession | None = None
        self.link: Link | None = None
        self.received = 0  # highest seq seen in the current session
        self.last_iid = 0  # highest inbox id handed to the application (survives sessions)
        self.delivered: list[str] = []

    def take(self, seq: int, event: msgspec.Struct) -> None:
        if seq <= self.received:
            return  # replayed and already here
        self.received = seq
        if isinstance(event, f.MsgEvent):
            if event.iid <= self.last_iid:
                return  # delivered in an earlier session
            self.last_iid = event.iid
            assert event.msg not in self.delivered, f"{event.msg} handed over twice"
            self.delivered.append(event.msg)


class Link:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.open = True

    def send_event(self, seq: int, event: msgspec.Struct) -> None:
        if self.open:
            self.client.take(seq, event)

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        for entry in list(outbox):
            if entry.seq > after_seq:
                self.send_event(entry.seq, entry.event)

    def send_logout(self, code: int, reason: str) -> None:
        self.open = False

    def close(self, code: int, reason: str) -> None:
        self.open = False


class HubMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.store = SqliteStore(":memory:")
        self.hub = Hub({APP: None}, self.store, HubConfig(resume_grace=3600))
        self.run(self._start())
        self.clients = {a: Client(a) for a in ("ann", "ben", "cat")}
        self.accepted: dict[str, list[str]] = {a: [] for a in self.clients}
        self.counter = 0

    async def _start(self) -> None:
        await self.store.open()
        await self.hub.start()
        self.channels = Channels(self.hub)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on the loop (the hub's timers need a running loop)."""

        async def go() -> Any:
            result = fn(*args)
            await asyncio.sleep(0)
            return result

        return self.run(go())

    def teardown(self) -> None:
        async def stop() -> None:
            await self.hub.close()
            await self.store.close()

        self.run(stop())
        self.loop.close()

    def _live(self, account: str) -> ServerSession | None:
        session = self.clients[account].session
        return session if session is not None and not session.closed else None

    # --- Rules -------------------------------------------------------------------------

    @rule(account=ACCOUNTS)
    def login(self, account: str) -> None:
        """A fresh login (on another device if one is live: that one is kicked)."""
        client = self.clients[account]
        frame = f.Login(
            app_id=APP,
            account=account,
            token="_no_need_token",
            client_id=f"c{self.counter}",
            inbox_ack=client.last_iid,
        )
        self.counter += 1

        async def go() -> None:
            session, _, after = await self.hub.login(frame)
            if client.link is not None:
                client.link.open = False
            client.session, client.received = session, 0
            client.link = Link(client)
            self.hub.attach(session, client.link, after)

        self.run(go())

    @rule(account=ACCOUNTS)
    def disconnect(self, account: str) -> None:
        client = self.clients[account]
        session = self._live(account)
        if session is not None and client.link is not None and client.link.open:
            client.link.open = False
            self.call(self.hub.detach, session, client.link)

    @rule(account=ACCOUNTS)
    def resume(self, account: str) -> None:
        client = self.clients[account]
        session = self._live(account)
        if session is None or (client.link is not None and client.link.open):
            return
        resume = f.Resume(session=session.sid, seq=client.received, ack=client.received)
        frame = f.Login(app_id=APP, account=account, token="_no_need_token", resume=resume)

        async def go() -> None:
            resumed, reply, after = await self.hub.login(frame)
            assert reply["resumed"] and resumed is session
            client.link = Link(client)
            self.hub.attach(resumed, client.link, after)

        self.run(go())

    @rule(account=ACCOUNTS)
    def ack(self, account: str) -> None:
        session = self._live(account)
        if session is not None:
            self.call(self.hub.ack, session, self.clients[account].received)

    @rule(account=ACCOUNTS)
    def logout(self, account: str) -> None:
        session = self._live(account)
        if session is not None:
            self.call(self.hub.handle, session, f.Logout())

    @rule(sender=ACCOUNTS, peer=ACCOUNTS)
    def send(self, sender: str, peer: str) -> None:
        session = self._live(sender)
        if session is None:
            return
        self.counter += 1
        body = f"m{self.counter}"
        try:
            frame = f.SendMsg(peer=peer, msg=body)
            self.run(resolve(self.call(self.hub.handle, session, frame)))
        except SignalError:
            return
        self.accepted[peer].append(body)

    @rule(account=ACCOUNTS, channel=CHANNELS)
    def join(self, account: str, channel: str) -> None:
        session = self._live(account)
        if session is not None:
            self.call(self.hub.handle, session, c.ChannelJoin(channel=channel))

    @rule(account=ACCOUNTS, channel=CHANNELS)
    def leave(self, account: str, channel: str) -> None:
        session = self._live(account)
        if session is not None:
            self.call(self.hub.handle, session, c.ChannelLeave(channel=channel))

    @rule(account=ACCOUNTS, name=st.sampled_from(["a", "b"]), value=st.text(max_size=3))
    def set_attr(self, account: str, name: str, value: str) -> None:
        session = self._live(account)
        ch = self.channels.joined.get(session) if session is not None else None
        if session is None or ch is None:
            return
        frame = c.ChannelSetAttr(channel=ch.name, name=name, value=value)
        with contextlib.suppress(SignalError):
            self.call(self.hub.handle, session, frame)

    @precondition(lambda self: any(self._live(a) for a in self.clients))
    @rule(account=ACCOUNTS)
    def channel_send(self, account: str) -> None:
        session = self._live(account)
        ch = self.channels.joined.get(session) if session is not None else None
        if session is not None and ch is not None:
            self.call(self.hub.handle, session, c.ChannelSend(channel=ch.name, msg="hi"))

    # --- Invariants ----------------------------------------------------------------------

    @invariant()
    def one_session_per_account(self) -> None:
        live = [s for s in self.hub.sessions.values() if not s.closed]
        assert len({s.key for s in live}) == len(live) == len(self.hub.sessions)
        for key, session in self.hub.sessions.items():
            assert session.key == key and self.hub.by_sid[session.sid] is session

    @invariant()
    def member_counts_equal_member_lists(self) -> None:
        for ch in self.channels.channels.values():
            assert self.channels.member_count(ch.app, ch.name) == len(ch.members)
            for account, session in ch.members.items():
                assert session.account == account and not session.closed
                assert self.channels.joined[session] is ch
        for session, ch in self.channels.joined.items():
            assert ch.members.get(session.account) is session

    @invariant()
    def no_acknowledged_send_is_lost(self) -> None:
        async def waiting(account: str) -> set[str]:
            records = await self.store.load_inbox(APP, account, now=0.0)
            return {r.msg for r in records}

        for account, sent in self.accepted.items():
            stored = self.run(waiting(account))
            handed = set(self.clients[account].delivered)
            missing = [m for m in sent if m not in handed and m not in stored]
            assert not missing, f"lost for {account}: {missing}"


HubMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_hub_under_random_traffic = HubMachine.TestCase
