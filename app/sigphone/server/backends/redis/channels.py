"""Channels across the nodes of a cluster (C1-C10 on Redis).

The channel service's rules (names, sizes, built-in attributes, rates) are the embedded
service's: this subclass changes only where the state lives. Membership, attributes and
counters are in Redis, and every change is an event in the channel's history (a Redis stream,
channel_scripts.py) with an offset. Each node keeps a *replica* of the channels its own
members are in: it applies the history in offset order and pushes each event to its local
members, so every member on every node sees one order per channel.

C7 across a node's death: events carry their offset (``off``); the SDK rejoins on the new
node with the offset of the last event it finished with, and gets exactly the events after
it from the history, or, if the history was trimmed past it (or Redis lost its data: a new
epoch), a fresh snapshot marked ``gap``. Pub/sub losses (a Redis restart, a cut) are repaired
the same way: the node rejoins its members with its replica's offset.

Cluster-wide in Redis, inside the scripts that make the change (no extra round trip): the
channel's rate budgets (``_sendmsg_limit``, the large-channel rate, ``_setattr_limit``) and the
quotas of channels created from outside. The per-user rate of a large channel stays with the
node of the user's one session (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from sigphone.protocol import channels as c
from sigphone.protocol import frames as f
from sigphone.protocol.base import Event
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_ATTRS_PER_CHANNEL
from sigphone.protocol.names import check_name, check_text
from sigphone.server.backends.redis import admin_scripts as admin
from sigphone.server.backends.redis import channel_scripts as cs
from sigphone.server.backends.redis import scripts as s
from sigphone.server.backends.redis.broker import RedisBroker
from sigphone.server.backends.redis.pipe import Build, unwaited
from sigphone.server.core.hub import Hub, ReplyData, SyncOrFuture, chain
from sigphone.server.core.quotas import Quotas
from sigphone.server.core.session import ServerSession
from sigphone.server.services.channels import (
    Channel,
    Channels,
    ChannelsConfig,
    check_attr,
    check_attr_delete,
    check_msg_id,
    message_limit,
)

__all__ = ["ClusterChannels"]

log = logging.getLogger("sigphone.server")

T = TypeVar("T")
Offset = tuple[int, int]
#: Entries kept in a channel's history: a member away longer than this gets a gap snapshot.
HISTORY = 10_000
#: Seconds the channel membership of a session kicked by a login on another node is kept.
MOVE_GRACE = 10.0
#: Statuses of a join (channel_scripts.JOIN).
RECOVERED = 1
GAP = 2


def parse_offset(text: str | bytes) -> Offset:
    if isinstance(text, bytes):
        text = text.decode()
    ms, _, seq = text.partition("-")
    return (int(ms or 0), int(seq or 0))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: list[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _user_list(reply: list[Any]) -> tuple[int, list[str]]:
    return int(reply[0]), [_text(a) for a in reply[1]]


def _latest_of(user_list: tuple[int, list[str]]) -> list[str]:
    return user_list[1]


def _holders(base: str) -> Build:
    """The command reading which node holds each member of a channel."""
    return lambda p: p.hgetall(base + ":mn")


@dataclass(eq=False, slots=True)
class Replica(Channel):
    """A node's copy of a channel its members are in (``members``: local ones only)."""

    epoch: str = ""  # "" while the first local join is under way (events wait in backlog)
    #: Members on every node: the count at the snapshot, then each join and leave applied.
    num: int = 0
    last: Offset = (0, 0)
    backlog: list[tuple[str, str, str]] = field(default_factory=list)
    #: Events up to this offset are in the member's snapshot (or replay): not pushed again.
    since: dict[ServerSession, Offset] = field(default_factory=dict)
    #: Sessions whose join is under way, with the events pushed to the channel meanwhile.
    pending: dict[ServerSession, list[tuple[Offset, Event]]] = field(default_factory=dict)


class ClusterChannels(Channels):
    def __init__(
        self,
        hub: Hub,
        broker: RedisBroker,
        config: ChannelsConfig | None = None,
        *,
        quotas: Quotas | None = None,
    ) -> None:
        super().__init__(hub, config, quotas=quotas)
        self.broker = broker
        self.pipe = broker.pipe
        self.node = broker.node_id
        broker.channel_events = self._on_event
        broker.member_kicks = self._removed_by_app
        broker.reaped_sessions.append(self._reaped_session)
        broker.reaped_nodes.append(self._reap_node)
        broker.subscribe_all("channels", self._on_feed)
        broker.resubscribed.append(self._recover)

    # --- Queries (futures: the state is in Redis) ---------------------------------------

    def _read(
        self, app: str, name: str, what: str, arg: object, parse: Callable[[Any], T]
    ) -> asyncio.Future[T]:
        name = check_name(name, "channel")
        base = cs.channel_key(app, name)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, cs.READ, 0, base, app, name, HISTORY, what, arg), parse
        )

    def member_count(self, app: str, name: str) -> asyncio.Future[int]:
        return self._read(app, name, "num", "", int)

    def user_list(self, app: str, name: str, limit: int) -> asyncio.Future[tuple[int, list[str]]]:
        return self._read(app, name, "users", limit, _user_list)

    def latest_members(self, app: str, name: str, limit: int) -> asyncio.Future[list[str]]:
        return chain(self.user_list(app, name, limit), _latest_of)

    def is_member(self, app: str, name: str, account: str) -> asyncio.Future[bool]:
        return self._read(app, name, "isin", account, lambda r: bool(int(r)))

    def channel_attrs(self, app: str, name: str) -> asyncio.Future[dict[str, str]]:
        return self._read(app, name, "attrs", "", _pairs)

    # --- Commands ------------------------------------------------------------------------

    def _script(self, script: str, app: str, name: str, *args: object) -> asyncio.Future[Any]:
        """Run a channel script; the JOIN's table comes back as it is, others as text."""
        base = cs.channel_key(app, name)
        parse = (lambda reply: reply) if script is cs.JOIN else _text
        return self.pipe.submit(
            lambda p: self.pipe.script(p, script, 0, base, app, name, HISTORY, *args), parse
        )

    def post_message(self, app: str, name: str, sender: str, msg: str) -> asyncio.Future[int]:
        name = check_name(name, "channel")
        sender = check_name(sender, "sender")
        ch = self.channels.get((app, name))
        large = ch is not None and self._size(ch) > self.config.large_threshold
        check_text(msg, "message", message_limit(large))
        payload = json.dumps(["m", sender, msg], ensure_ascii=False)
        # The app's own server is not a member: outside the channel's rate budget.
        self._script(cs.POST, app, name, "", payload, "", 0, "", "0", 0, 0)
        return self.member_count(app, name)

    def set_attr_by_name(
        self, app: str, channel: str, name: str, value: str, creator: str = ""
    ) -> asyncio.Future[ReplyData]:
        """Any channel's attribute (a missing one is created in Redis and expires after its
        TTL), within the quotas of channels created from outside, counted in Redis
        (channel_scripts.ATTR) for the whole cluster."""
        self.attr_channel(app, channel)  # special channels have none
        return self._attr(app, channel, "set", name, value, creator=creator, outside=True)

    def del_attr_by_name(self, app: str, channel: str, name: str) -> asyncio.Future[ReplyData]:
        self.attr_channel(app, channel)
        check_attr_delete(name)
        return self._attr(app, channel, "del", name, "")

    def clear_attrs_by_name(self, app: str, channel: str) -> asyncio.Future[ReplyData]:
        self.attr_channel(app, channel)
        return self._attr(app, channel, "clear", "", "")

    def _attr(
        self,
        app: str,
        channel: str,
        op: str,
        name: str,
        value: str,
        *,
        creator: str = "",
        outside: bool = False,
    ) -> asyncio.Future[ReplyData]:
        if op == "set":
            check_attr(name, value)
        kind = {"set": "update", "del": "del", "clear": "clear"}[op]
        payload = json.dumps(["a", kind, name, value], ensure_ascii=False)
        quotas = self.quotas
        fut = self._script(
            cs.ATTR, app, channel, op, name, value, payload, MAX_ATTRS_PER_CHANNEL,
            self.config.default_ttl, secrets.token_hex(8), "1" if outside else "0", creator,
            quotas.attr_channels_per_user, quotas.attr_channels_per_app,
        )  # fmt: skip

        def done(result: str) -> ReplyData:
            if result == "!":
                raise SignalError(
                    ErrorCode.GENERAL_E_LARGE_PARAM,
                    f"a channel holds at most {MAX_ATTRS_PER_CHANNEL} attributes",
                )
            if result == "?a":
                raise quotas.app_channels_full()
            if result == "?u":
                raise quotas.user_channels_full()
            if result.startswith("~"):
                raise SignalError(
                    ErrorCode.GENERAL_E_FAILED,
                    f"_setattr_limit: at most {result[1:]} changes per second",
                )
            return {}

        return chain(fut, done)

    # --- Requests of members --------------------------------------------------------------

    def _on_join(self, session: ServerSession, frame: c.ChannelJoin) -> asyncio.Future[ReplyData]:
        name = check_name(frame.channel, "channel")
        if name in c.SPECIAL_CHANNELS:
            raise SignalError(
                ErrorCode.JOINCHANNEL_E_OTHER, "special channels are for server-side sessions"
            )
        since = frame.since
        epoch = ""
        if since:
            epoch, _, since = since.rpartition("/")
            parse_offset(since)  # 1004 below if it is not an offset
        current = self.joined.get(session)
        if current is not None and current.name != name:
            self._leave(session, current, ErrorCode.LEAVECHANNEL_E_BYUSER)
        ch = self.channels.get((session.app, name))
        if not isinstance(ch, Replica):
            ch = Replica(session.app, name)
            self.channels[(session.app, name)] = ch
        self._make_pending(ch, session)
        self.joined[session] = ch
        payload = json.dumps(["j", session.account])
        fut = self._script(
            cs.JOIN, session.app, name, session.account, self.node, secrets.token_hex(8),
            payload, self.config.user_list_max, since, epoch,
        )  # fmt: skip
        fut.add_done_callback(lambda fut: self._join_failed(session, ch, fut))
        return chain(fut, lambda result: self._joined(session, ch, result))

    def _make_pending(self, ch: Replica, session: ServerSession) -> None:
        ch.members.pop(session.account, None)
        ch.since.pop(session, None)
        ch.fanout = None
        ch.pending[session] = []

    def _join_failed(self, session: ServerSession, ch: Replica, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            ch.pending.pop(session, None)
            if self.joined.get(session) is ch and session.account not in ch.members:
                del self.joined[session]
            self._drop_if_unused(ch)

    def _joined(self, session: ServerSession, ch: Replica, result: list[Any]) -> ReplyData:
        offset_text, epoch = _text(result[0]), _text(result[1])
        num, users = int(result[2]), [_text(a) for a in result[3]]
        attrs, replay, status = _pairs(result[4]), result[5], int(result[6])
        offset = parse_offset(offset_text)
        reply = {"channel": ch.name, "num": num}
        if ch.pending.get(session) is None or session.closed:
            return reply  # left (or ended) while joining
        if not ch.epoch:  # the node's first member: the replica starts at this snapshot
            ch.num = num
            self._init_replica(ch, epoch, offset, attrs)
        buffered = ch.pending.pop(session)
        if status == RECOVERED:  # exactly what the member missed, nothing else
            for item in replay:
                event = self._event(ch, _text(item[0]), _text(item[1]), _text(item[2]), False)
                if event is not None:
                    self.hub.push(session, event)
        else:
            large = num > self.config.large_threshold
            snapshot = c.ChannelJoined(
                ch.name, num, attrs, None if large else users,
                off=f"{epoch}/{offset_text}", gap=status == GAP,
            )  # fmt: skip
            self.hub.push(session, snapshot)
        for event_offset, event in buffered:
            if event_offset > offset:
                self.hub.push(session, event)
        ch.members[session.account] = session
        ch.since[session] = max(offset, ch.last)
        ch.fanout = None
        if int(result[7]):  # a new member (not one moving here from another node)
            activity = c.ChannelActivity(ch.name, session.account, "join")
            self._feed(session.app, c.CHANNEL_EVENT_CHANNEL, activity)
        return reply

    def _init_replica(self, ch: Replica, epoch: str, offset: Offset, attrs: dict[str, str]) -> None:
        ch.epoch, ch.last, ch.attrs = epoch, offset, dict(attrs)
        ch.settings = {}
        for name, value in attrs.items():
            if name in c.BUILTIN_ATTRS and value.isdigit():
                ch.settings[name] = int(value)
                self._apply_setting(ch, name)
        backlog, ch.backlog = ch.backlog, []
        for item in backlog:
            self._apply(ch, *item)

    def _on_leave(self, session: ServerSession, frame: c.ChannelLeave) -> ReplyData:
        name = check_name(frame.channel, "channel")
        ch = self.joined.get(session)
        if ch is not None and ch.name == name:
            self._leave(session, ch, ErrorCode.LEAVECHANNEL_E_BYUSER)
        return {}

    def _on_session_end(self, session: ServerSession, code: ErrorCode) -> None:
        ch = self.joined.get(session)
        if ch is not None:
            # Kicked by a login on another node: most often the same SDK moving there, which
            # rejoins with its offset. Its membership stays in Redis for MOVE_GRACE seconds so
            # that it moves (and recovers) instead of leaving and coming back with a gap.
            moving = code == ErrorCode.LOGOUT_E_KICKED and not session.by_app
            defer = MOVE_GRACE if moving else 0.0
            self._leave(session, ch, c.leave_code(code), defer=defer)
        self._feed(session.app, c.USER_ONLINE_CHANNEL, c.UserOnline(session.account, 0, int(code)))

    def _leave(
        self, session: ServerSession, ch: Channel, code: ErrorCode, *, defer: float = 0.0
    ) -> None:
        assert isinstance(ch, Replica)
        ch.members.pop(session.account, None)
        ch.since.pop(session, None)
        ch.pending.pop(session, None)
        ch.fanout = None
        self.joined.pop(session, None)
        ch.user_buckets.pop(session.account, None)
        self.hub.push(session, c.ChannelLeft(ch.name, int(code)))
        payload = json.dumps(["l", session.account, int(code)])
        app, name, account = ch.app, ch.name, session.account

        def leave_in_redis() -> None:  # a no-op if the member moved to another node meanwhile
            fut = self._script(
                cs.LEAVE, app, name, account, self.node, payload, self.config.default_ttl
            )
            unwaited(fut)

        if defer:
            self._later(defer, leave_in_redis)
        else:
            leave_in_redis()
        activity = c.ChannelActivity(ch.name, session.account, "leave", int(code))
        self._feed(ch.app, c.CHANNEL_EVENT_CHANNEL, activity)
        self._drop_if_unused(ch)

    def remove_member(self, app: str, channel: str, account: str) -> asyncio.Future[bool]:
        """The app removes ``account`` from ``channel`` (Server API), on whichever node holds
        it (admin_scripts.REMOVE_MEMBER). True if it was a member. A holder that cannot be
        told (dead, or cut off from Redis) is not waited for: the member leaves in Redis with
        601 from here, as that node's reaper would have it leave with 604 later."""
        channel = check_name(channel, "channel")
        account = check_name(account, "account")
        return asyncio.ensure_future(self._remove(app, channel, account))

    async def _remove(self, app: str, channel: str, account: str) -> bool:
        base = cs.channel_key(app, channel)
        found = await self.pipe.submit(
            lambda p: self.pipe.script(
                p, admin.REMOVE_MEMBER, 0, base, app, channel, account, self.node
            ),
            _text,
        )
        holder, _, reached = found.partition("\n")
        if not holder:
            return False
        if int(reached) < 0:  # held here
            return await self._remove_here(app, channel, account)
        if int(reached) > 0:  # that node removes it (its 'a' message)
            return True
        return await self._leave_in_redis(app, channel, account, holder)

    def _removed_by_app(self, app: str, channel: str, account: str) -> None:
        """Another node's Server API removes a member this node holds."""
        fut = self._remove_here(app, channel, account)
        unwaited(fut)

    def _remove_here(self, app: str, channel: str, account: str) -> asyncio.Future[bool]:
        """Remove a member this node holds: its session leaves (601 to it), or, if the session
        is gone (kicked by a login elsewhere, its membership kept for MOVE_GRACE), the
        membership leaves in Redis."""
        session = self.hub.sessions.get((app, account))
        ch = None if session is None else self.joined.get(session)
        if session is not None and ch is not None and ch.name == channel:
            self._leave(session, ch, ErrorCode.LEAVECHANNEL_E_KICKED)
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return done
        return self._leave_in_redis(app, channel, account, self.node)

    def _leave_in_redis(
        self, app: str, channel: str, account: str, holder: str
    ) -> asyncio.Future[bool]:
        """The member held by ``holder`` leaves (601) in Redis; False if it was not (or no
        longer) a member held there."""
        code = int(ErrorCode.LEAVECHANNEL_E_KICKED)
        payload = json.dumps(["l", account, code])
        fut = self._script(
            cs.LEAVE, app, channel, account, holder, payload, self.config.default_ttl
        )

        def left(offset: str) -> bool:
            if not offset:
                return False
            activity = c.ChannelActivity(channel, account, "leave", code)
            self._feed(app, c.CHANNEL_EVENT_CHANNEL, activity)
            return True

        return chain(fut, left)

    def _drop_if_unused(self, ch: Replica) -> None:
        if ch.members or ch.pending:
            return
        for handle in ch.refreshers.values():
            handle.cancel()
        ch.refreshers.clear()
        if self.channels.get((ch.app, ch.name)) is ch:
            del self.channels[(ch.app, ch.name)]

    def _schedule_expiry(self, ch: Channel) -> None:
        return None  # Redis expires an empty channel's keys (channel_scripts.LEAVE)

    def _size(self, ch: Channel) -> int:
        return ch.num if isinstance(ch, Replica) and ch.epoch else len(ch.members)

    def _take_channel_rate(self, ch: Channel, large: bool, now: float) -> None:
        return None  # one budget for the cluster, spent in Redis (channel_scripts.POST)

    def _apply_setting(self, ch: Channel, name: str) -> None:
        if name not in ("_sendmsg_limit", "_setattr_limit"):  # Redis's (channel_scripts.py)
            super()._apply_setting(ch, name)

    def _on_send(self, session: ServerSession, frame: c.ChannelSend) -> SyncOrFuture[ReplyData]:
        check_msg_id(frame.msg_id)
        reply = {"msg_id": frame.msg_id}
        hub = self.hub
        if hub.already_sent(session, frame.cseq):
            return reply
        current = self.joined.get(session)
        try:
            if current is not None and current.name == frame.channel:
                self._check_send(session, frame)
            else:
                # Not joined on this node (yet): a member whose node died re-sends before its
                # SDK has rejoined here. Redis's member table decides (channel_scripts.POST).
                check_name(frame.channel, "channel")
                check_text(frame.msg, "message", message_limit(False))
        except SignalError as exc:
            hub.remember_refusal(session, frame.cseq, exc)
            raise
        if frame.cseq:
            session.cseq = frame.cseq
        name = frame.channel
        payload = json.dumps(["m", session.account, frame.msg], ensure_ascii=False)
        mark = s.key("mark", session.app, session.account)
        cseq = frame.cseq if session.client_id else 0
        config = self.config
        fut = self._script(
            cs.POST, session.app, name, session.account, payload, session.client_id, cseq, mark,
            "1", config.large_threshold, config.channel_rate_large,
        )  # fmt: skip

        def done(result: str) -> ReplyData:
            if result in ("", "~"):
                exc = SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER,
                    f"not in channel {name}"
                    if result == ""
                    else "the channel's message rate limit is reached",
                )
                hub.remember_refusal(session, frame.cseq, exc)
                raise exc
            return reply

        return chain(fut, done)

    def _on_set_attr(
        self, session: ServerSession, frame: c.ChannelSetAttr
    ) -> asyncio.Future[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        return self._attr(ch.app, ch.name, "set", frame.name, frame.value)

    def _on_del_attr(
        self, session: ServerSession, frame: c.ChannelDelAttr
    ) -> asyncio.Future[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        check_attr_delete(frame.name)
        return self._attr(ch.app, ch.name, "del", frame.name, "")

    def _on_clear_attr(
        self, session: ServerSession, frame: c.ChannelClearAttr
    ) -> asyncio.Future[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        return self._attr(ch.app, ch.name, "clear", "", "")

    # --- Auto-updated counters: every node with members runs them; Redis keeps one value --

    def _stop_counter(self, ch: Channel, attr: str) -> None:
        if attr in ch.attrs:
            self._refresh_script(ch, attr, "off")

    def _refresh(self, ch: Channel, attr: str, period: int) -> None:
        self._refresh_script(ch, attr, "num" if attr == "_member_num" else "total")
        ch.refreshers[attr] = self._later(period, lambda: self._refresh(ch, attr, period))

    def _refresh_script(self, ch: Channel, attr: str, what: str) -> None:
        kind = "del" if what == "off" else "update"
        prefix = json.dumps(["a", kind, attr])[:-1] + ","
        fut = self._script(cs.REFRESH, ch.app, ch.name, attr, what, prefix)
        unwaited(fut)

    # --- The history, applied in offset order ---------------------------------------------

    def _on_event(self, app: str, name: str, offset: str, quiet: str, payload: str) -> None:
        ch = self.channels.get((app, name))
        if not isinstance(ch, Replica):
            return
        if not ch.epoch:
            ch.backlog.append((offset, quiet, payload))
            return
        self._apply(ch, offset, quiet, payload)

    def _apply(self, ch: Replica, offset_text: str, quiet: str, payload: str) -> None:
        offset = parse_offset(offset_text)
        if offset <= ch.last:
            return  # already applied (a replay after a gap in pub/sub)
        ch.last = offset
        event = self._event(ch, offset_text, quiet, payload, True)
        if event is None:
            return
        push = self.hub.push
        since = ch.since
        for session in tuple(ch.members.values()):
            if since.get(session, (0, 0)) < offset:
                push(session, event)
        for buffered in ch.pending.values():
            buffered.append((offset, event))

    def _event(
        self, ch: Replica, offset: str, quiet: str, payload: str, live: bool
    ) -> Event | None:
        """The protocol event of a history entry; ``live`` also updates the replica."""
        data = json.loads(payload)
        off = f"{ch.epoch}/{offset}"
        kind = data[0]
        if kind == "m":
            return c.ChannelMessage(ch.name, data[1], data[2], off=off)
        if kind == "j":
            ch.num += int(live)
            return None if quiet == "1" else c.ChannelUserJoined(ch.name, data[1], off=off)
        if kind == "l":
            ch.num -= int(live)
            return None if quiet == "1" else c.ChannelUserLeft(ch.name, data[1], off=off)
        _, op, name, value = data
        if live:
            self._apply_attr(ch, op, name, value)
        return c.ChannelAttrUpdated(ch.name, name, value, op, off=off)

    def _apply_attr(self, ch: Replica, op: str, name: str, value: str) -> None:
        changed: list[str] = []
        if op == "update":
            ch.attrs[name] = value
            if name in c.BUILTIN_ATTRS and value.isdigit():
                ch.settings[name] = int(value)
                changed.append(name)
        elif op == "del":
            ch.attrs.pop(name, None)
            if ch.settings.pop(name, None) is not None:
                changed.append(name)
        else:
            ch.attrs.clear()
            changed, ch.settings = list(ch.settings), {}
        for setting in changed:  # the rate limits are Redis's (channel_scripts.py)
            if setting in ("_auto_update_num", "_auto_update_total_num"):
                self._restart_refreshers(ch)

    # --- Gaps in this node's channel: rejoin the local members from the replica's offset -----

    def _recover(self) -> None:
        for ch in list(self.channels.values()):
            if not isinstance(ch, Replica) or not ch.epoch:
                continue
            since, epoch = f"{ch.last[0]}-{ch.last[1]}", ch.epoch
            sessions = list(ch.members.values())
            ch.epoch, ch.backlog = "", []
            for session in sessions:
                self._make_pending(ch, session)
                payload = json.dumps(["j", session.account])
                fut = self._script(
                    cs.JOIN, ch.app, ch.name, session.account, self.node,
                    secrets.token_hex(8), payload, self.config.user_list_max, since, epoch,
                )  # fmt: skip
                fut.add_done_callback(functools.partial(self._rejoined, session, ch))

    def _rejoined(self, session: ServerSession, ch: Replica, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            log.warning("channel %s: could not recover %s", ch.name, session.account)
            self._join_failed(session, ch, fut)
            return
        self._joined(session, ch, fut.result())

    # --- After a dead node (the broker's reaper) -----------------------------------------

    def _reaped_session(self, app: str, account: str) -> None:
        code = int(ErrorCode.LOGOUT_E_NET)
        self._feed(app, c.USER_ONLINE_CHANNEL, c.UserOnline(account, 0, code))
        offline = {"type": "offline", "account": account, "reason": code}
        self.broker.publish_all("api", json.dumps([app, offline]))

    async def _reap_node(self, node: str) -> None:
        """The members a dead node held leave its channels (604), each with its event."""
        key = f"sig:nodech:{node}"
        channels = await self.pipe.submit(lambda p: p.smembers(key))
        code = int(ErrorCode.LEAVECHANNEL_E_DISCONN)
        for raw in channels:
            app, name = raw.decode().split("\n", 1)
            base = cs.channel_key(app, name)
            held = await self.pipe.submit(_holders(base))
            for account_raw, holder in held.items():
                if holder.decode() != node:
                    continue
                account = account_raw.decode()
                payload = json.dumps(["l", account, code])
                await self._script(
                    cs.LEAVE, app, name, account, node, payload, self.config.default_ttl
                )
                activity = c.ChannelActivity(name, account, "leave", code)
                self._feed(app, c.CHANNEL_EVENT_CHANNEL, activity)
        self.pipe.submit(lambda p: p.delete(key))

    # --- Special feeds from every node ---------------------------------------------------

    def _feed(self, app: str, channel: str, event: Event) -> None:
        data = "\n".join((app, channel)) + "\n" + f.encode_event_body(event).decode()
        self.broker.publish_all("channels", data)

    def _on_feed(self, data: str) -> None:
        app, channel, body = data.split("\n", 2)
        try:
            event = f.decode_event(body.encode())
        except msgspec.MsgspecError:
            return
        Channels._feed(self, app, channel, event)
