"""The channel system on the hub: membership, attributes, messages, special feeds (C1-C9).

Every event goes out through ``hub.push``, so it rides the session's sequenced outbox and is
replayed after a resume: channels get the foundation's delivery guarantees (C7) for free.
An event is built once per change and the same (frozen) object is pushed to every member.
See docs/channels.md for the rules and the codes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from sigphone.protocol import channels as c
from sigphone.protocol.base import Event
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import (
    CHANNEL_RATE_LARGE,
    LARGE_CHANNEL_MEMBERS,
    MAX_ATTRS_PER_CHANNEL,
    MAX_CHANNEL_ATTR_NAME_CHARS,
    MAX_CHANNEL_ATTR_VALUE_CHARS,
    MAX_CHANNEL_MSG_CHARS,
    MAX_CHANNEL_MSG_CHARS_LARGE,
    MAX_MSG_ID_CHARS,
    USER_LIST_MAX,
    USER_RATE_LARGE,
)
from sigphone.protocol.names import check_name, check_text
from sigphone.protocol.rate import TokenBucket
from sigphone.server.core.hub import Hub, ReplyData, SyncOrFuture
from sigphone.server.core.quotas import Quotas
from sigphone.server.core.session import ServerSession
from sigphone.server.services.invoke import Invoker

__all__ = [
    "Channel",
    "Channels",
    "ChannelsConfig",
    "FeedSink",
    "check_attr",
    "check_attr_delete",
    "check_msg_id",
    "message_limit",
]

log = logging.getLogger("sigphone.server")

#: Receives the events of a special channel (UserOnline / ChannelActivity); must not block.
FeedSink = Callable[[msgspec.Struct], None]
Timer = Callable[[float, Callable[[], None]], asyncio.TimerHandle]


def message_limit(large: bool) -> int:
    """The longest channel message a channel of this size takes (C4: large ones less)."""
    return MAX_CHANNEL_MSG_CHARS_LARGE if large else MAX_CHANNEL_MSG_CHARS


def check_attr(name: str, value: str) -> int | None:
    """The rules of an attribute to set, for both backends: its name and value, and the
    integer setting of a writable built-in (None for an ordinary attribute)."""
    check_name(name, "attribute name", MAX_CHANNEL_ATTR_NAME_CHARS)
    check_text(value, "attribute value", MAX_CHANNEL_ATTR_VALUE_CHARS)
    return c.check_builtin_value(name, value)


def check_msg_id(msg_id: str) -> None:
    """A channel message's optional id (``""`` when the client sent none)."""
    if msg_id:
        check_name(msg_id, "message ID", MAX_MSG_ID_CHARS)


@dataclass(slots=True)
class ChannelsConfig:
    #: More members than this makes a channel large (no user list, 1K messages, rates).
    large_threshold: int = LARGE_CHANNEL_MEMBERS
    #: How many of the latest members the joiner's user list holds.
    user_list_max: int = USER_LIST_MAX
    #: Seconds a channel and its attributes outlive its last member (_channel_ttl default).
    default_ttl: float = 7200.0
    #: Messages per second in large channels: per user, and for the whole channel.
    user_rate_large: float = USER_RATE_LARGE
    channel_rate_large: float = CHANNEL_RATE_LARGE


@dataclass(eq=False, slots=True)
class Channel:
    app: str
    name: str
    #: account -> session, in join order (the end holds the latest members).
    members: dict[str, ServerSession] = field(default_factory=dict)
    #: The members as a tuple for fan-out; None after a join or leave (rebuilt on use).
    fanout: tuple[ServerSession, ...] | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    #: Parsed writable built-in attributes (the table keeps the text).
    settings: dict[str, int] = field(default_factory=dict)
    #: Joins since the channel was created (_total_member_num).
    total: int = 0
    expiry: asyncio.TimerHandle | None = None
    refreshers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    user_buckets: dict[str, TokenBucket] = field(default_factory=dict)
    #: _sendmsg_limit when set; otherwise the large-channel default (made when first large).
    send_bucket: TokenBucket | None = None
    large_bucket: TokenBucket | None = None
    attr_bucket: TokenBucket | None = None
    #: (app, account or "" for the app's server) that created it by an attribute call from
    #: outside, counted against its quota until the channel gets a member or expires.
    creator: tuple[str, str] | None = None

    @property
    def notify(self) -> bool:
        return self.settings.get("_userNotification", 1) != 0


class Channels:
    """Construct once with the hub: it registers its request handlers and session hooks."""

    def __init__(
        self,
        hub: Hub,
        config: ChannelsConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timer: Timer | None = None,
        quotas: Quotas | None = None,
    ) -> None:
        """``clock`` drives the rate limits and ``timer(delay, fn)`` (default: the running
        loop's ``call_later``) the TTL and auto-update timers; tests inject both."""
        self.hub = hub
        self.config = config or ChannelsConfig()
        self.clock = clock
        self.timer = timer
        self.channels: dict[tuple[str, str], Channel] = {}
        self.joined: dict[ServerSession, Channel] = {}
        self.feeds: dict[tuple[str, str], list[FeedSink]] = {}
        self.quotas = quotas or Quotas()
        #: Members whose full outbox made us drop events of their channel: how many.
        self.lagging: dict[ServerSession, int] = {}
        #: Channels created from outside, per (app, account) and per (app, "*").
        self.created: Counter[tuple[str, str]] = Counter()
        hub.register(c.ChannelJoin, self._on_join)
        hub.register(c.ChannelLeave, self._on_leave)
        hub.register(c.ChannelSend, self._on_send)
        hub.register(c.ChannelSetAttr, self._on_set_attr)
        hub.register(c.ChannelDelAttr, self._on_del_attr)
        hub.register(c.ChannelClearAttr, self._on_clear_attr)
        hub.on_session_start(self._on_session_start)
        hub.on_session_end(self._on_session_end)
        hub.on_overflow(self._overflow, self._resync)
        self.invoker = Invoker(hub, self)

    # --- Public methods: queries (invoke, Server API) ---------------------------------

    def get(self, app: str, name: str) -> Channel | None:
        return self.channels.get((app, name))

    def member_count(self, app: str, name: str) -> SyncOrFuture[int]:
        ch = self.channels.get((app, name))
        return 0 if ch is None else len(ch.members)

    def latest_members(self, app: str, name: str, limit: int) -> SyncOrFuture[list[str]]:
        """The ``limit`` most recent members, oldest first."""
        ch = self.channels.get((app, name))
        return [] if ch is None else _latest(ch, limit)

    def is_member(self, app: str, name: str, account: str) -> SyncOrFuture[bool]:
        ch = self.channels.get((app, name))
        return ch is not None and account in ch.members

    def user_list(self, app: str, name: str, limit: int) -> SyncOrFuture[tuple[int, list[str]]]:
        """(members, the ``limit`` latest of them, oldest first)."""
        ch = self.channels.get((app, name))
        return (0, []) if ch is None else (len(ch.members), _latest(ch, limit))

    def channel_attrs(self, app: str, name: str) -> SyncOrFuture[dict[str, str]]:
        ch = self.channels.get((app, name))
        return {} if ch is None else dict(ch.attrs)

    # The queries above and the by-name commands below may answer with a future instead
    # (the cluster's channels, backends/redis/channels.py): callers go through hub.then or
    # hub.resolve. The by-name commands answer None (done) or a future of the change.

    def post_message(self, app: str, name: str, sender: str, msg: str) -> SyncOrFuture[int]:
        """A message to every member from the app's own server (Server API); returns how
        many members it went to. The size rule is the members' one; the per-user rate limits
        are not, since the sender is not a member."""
        name = check_name(name, "channel")
        sender = check_name(sender, "sender")
        ch = self.channels.get((app, name))
        members = 0 if ch is None else len(ch.members)
        large = members > self.config.large_threshold
        check_text(msg, "message", message_limit(large))
        if ch is None or not members:
            return 0
        self._broadcast(ch, c.ChannelMessage(ch.name, sender, msg))
        return members

    # --- Public methods: special channels (C8) ----------------------------------------

    def subscribe(self, app: str, channel: str, sink: FeedSink) -> Callable[[], None]:
        """Feed ``sink`` every event of special ``channel`` of ``app``; returns unsubscribe.

        For server-side consumers (the Server API): ``_agora_user_online`` gets a
        ``UserOnline`` per login and session end, ``_agora_channel_event`` a
        ``ChannelActivity`` per join and leave. Sinks run synchronously on the hub's loop.
        """
        if channel not in c.SPECIAL_CHANNELS:
            raise ValueError(f"{channel!r} is not a special channel")
        sinks = self.feeds.setdefault((app, channel), [])
        sinks.append(sink)

        def unsubscribe() -> None:
            if sink in sinks:
                sinks.remove(sink)

        return unsubscribe

    def _feed(self, app: str, channel: str, event: Event) -> None:
        sinks = self.feeds.get((app, channel))
        if not sinks:
            return
        for sink in tuple(sinks):
            try:
                sink(event)
            except Exception:
                log.exception("special channel subscriber failed")

    # --- Public methods: attributes (one rule for members and invoke) -----------------

    def attr_channel(self, app: str, name: str) -> Channel | None:
        """The channel ``name`` for an attribute call by a non-member (invoke)."""
        name = check_name(name, "channel")
        if name in c.SPECIAL_CHANNELS:
            raise SignalError(
                ErrorCode.GENERAL_E_WRONG_PARAM, "special channels have no attributes"
            )
        return self.channels.get((app, name))

    def set_attr_by_name(
        self, app: str, channel: str, name: str, value: str, creator: str = ""
    ) -> SyncOrFuture[ReplyData]:
        """Set an attribute of any channel; a missing one is created and lives for its TTL,
        within the quotas of channels created from outside (``creator``: the account, or ""
        for the app's own server)."""
        ch = self.attr_channel(app, channel)
        if ch is not None:
            self.set_attr(ch, name, value)
            return None
        self._check_creation_quota(app, creator)
        ch = Channel(app, check_name(channel, "channel"))
        self.set_attr(ch, name, value)  # validates before the channel exists
        self.channels[(app, ch.name)] = ch
        ch.creator = (app, creator)
        self.created[(app, creator)] += 1
        self.created[(app, "*")] += 1
        if ch.expiry is None:
            self._schedule_expiry(ch)
        return None

    def _check_creation_quota(self, app: str, creator: str) -> None:
        quotas = self.quotas
        if self.created[(app, "*")] >= quotas.attr_channels_per_app:
            raise quotas.app_channels_full()
        if creator and self.created[(app, creator)] >= quotas.attr_channels_per_user:
            raise quotas.user_channels_full()

    def _uncount(self, ch: Channel) -> None:
        """The channel got a member or expired: no longer on its creator's quota."""
        if ch.creator is None:
            return
        for key in (ch.creator, (ch.app, "*")):
            self.created[key] -= 1
            if self.created[key] <= 0:
                del self.created[key]
        ch.creator = None

    def set_attr(self, ch: Channel, name: str, value: str) -> None:
        setting = check_attr(name, value)
        if name not in ch.attrs and len(ch.attrs) >= MAX_ATTRS_PER_CHANNEL:
            raise SignalError(
                ErrorCode.GENERAL_E_LARGE_PARAM,
                f"a channel holds at most {MAX_ATTRS_PER_CHANNEL} attributes",
            )
        self._take_attr_rate(ch)
        ch.attrs[name] = value
        self._broadcast(ch, c.ChannelAttrUpdated(ch.name, name, value, "update"))
        if setting is not None:
            ch.settings[name] = setting
            self._apply_setting(ch, name)

    def del_attr_by_name(self, app: str, channel: str, name: str) -> SyncOrFuture[ReplyData]:
        """Delete an attribute of any channel (a missing channel has nothing to delete)."""
        ch = self.attr_channel(app, channel)
        check_attr_delete(name)
        if ch is not None:
            self.del_attr(ch, name)
        return None

    def clear_attrs_by_name(self, app: str, channel: str) -> SyncOrFuture[ReplyData]:
        ch = self.attr_channel(app, channel)
        if ch is not None:
            self.clear_attrs(ch)
        return None

    def del_attr(self, ch: Channel, name: str) -> None:
        check_attr_delete(name)
        self._take_attr_rate(ch)
        if ch.attrs.pop(name, None) is None:
            return
        self._broadcast(ch, c.ChannelAttrUpdated(ch.name, name, "", "del"))
        if ch.settings.pop(name, None) is not None:
            self._apply_setting(ch, name)

    def clear_attrs(self, ch: Channel) -> None:
        """Remove every attribute, built-in settings included (back to their defaults)."""
        self._take_attr_rate(ch)
        ch.attrs.clear()
        self._broadcast(ch, c.ChannelAttrUpdated(ch.name, "", "", "clear"))
        changed = list(ch.settings)
        ch.settings.clear()
        for name in changed:
            self._apply_setting(ch, name)

    def _take_attr_rate(self, ch: Channel) -> None:
        if ch.attr_bucket is not None and not ch.attr_bucket.take(self.clock()):
            raise SignalError(
                ErrorCode.GENERAL_E_FAILED,
                f"_setattr_limit: at most {ch.settings['_setattr_limit']} changes per second",
            )

    def _apply_setting(self, ch: Channel, name: str) -> None:
        """Make a (changed or removed) built-in setting take effect."""
        value = ch.settings.get(name, 0)
        if name == "_channel_ttl":
            if not ch.members:
                self._schedule_expiry(ch)
        elif name in ("_auto_update_num", "_auto_update_total_num"):
            self._restart_refreshers(ch)
        elif name == "_sendmsg_limit":
            ch.send_bucket = TokenBucket(value, value, self.clock()) if value else None
        elif name == "_setattr_limit":
            ch.attr_bucket = TokenBucket(value, value, self.clock()) if value else None

    def _restart_refreshers(self, ch: Channel) -> None:
        for handle in ch.refreshers.values():
            handle.cancel()
        ch.refreshers.clear()
        num_period = ch.settings.get("_auto_update_num", 0)
        total_period = ch.settings.get("_auto_update_total_num", 0)
        # The seed: _total_member_num needs both _auto_update_num and _auto_update_total_num.
        periods = {
            "_member_num": num_period,
            "_total_member_num": total_period if num_period else 0,
        }
        for attr, period in periods.items():
            if period:
                self._refresh(ch, attr, period)
            else:
                self._stop_counter(ch, attr)

    def _stop_counter(self, ch: Channel, attr: str) -> None:
        """A counter no longer maintained is deleted, so that it never shows a stale value."""
        if ch.attrs.pop(attr, None) is not None:
            self._broadcast(ch, c.ChannelAttrUpdated(ch.name, attr, "", "del"))

    def _refresh(self, ch: Channel, attr: str, period: int) -> None:
        value = str(len(ch.members) if attr == "_member_num" else ch.total)
        if ch.attrs.get(attr) != value:
            ch.attrs[attr] = value
            self._broadcast(ch, c.ChannelAttrUpdated(ch.name, attr, value, "update"))
        ch.refreshers[attr] = self._later(period, lambda: self._refresh(ch, attr, period))

    # --- Membership -------------------------------------------------------------------

    def _later(self, delay: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        timer = self.timer or asyncio.get_running_loop().call_later
        return timer(delay, fn)

    def _on_join(self, session: ServerSession, frame: c.ChannelJoin) -> SyncOrFuture[ReplyData]:
        name = check_name(frame.channel, "channel")
        if name in c.SPECIAL_CHANNELS:
            raise SignalError(
                ErrorCode.JOINCHANNEL_E_OTHER, "special channels are for server-side sessions"
            )
        current = self.joined.get(session)
        if current is not None:
            if current.name == name:  # joined already (or a resent join): state again
                self.hub.push(session, self._snapshot(current))
                return {"channel": name, "num": len(current.members)}
            self._leave(session, current, ErrorCode.LEAVECHANNEL_E_BYUSER)
        ch = self.channels.get((session.app, name))
        if ch is None:
            ch = self.channels[(session.app, name)] = Channel(session.app, name)
        # Atomic: the joiner is a member exactly when it got the snapshot. Nothing above
        # changed the channel; if the snapshot cannot be pushed, the join is undone.
        others = ch.fanout if ch.fanout is not None else tuple(ch.members.values())
        ch.members[session.account] = session
        ch.fanout = None
        self.joined[session] = ch
        try:
            self.hub.push(session, self._snapshot(ch))
        except BaseException:
            del ch.members[session.account]
            del self.joined[session]
            if not ch.members and ch.expiry is None:
                self._schedule_expiry(ch)
            raise
        ch.total += 1
        self._uncount(ch)
        if ch.expiry is not None:
            ch.expiry.cancel()
            ch.expiry = None
        if ch.notify:
            joined = c.ChannelUserJoined(name, session.account)
            for other in others:
                self.hub.push(other, joined)
        self._feed(
            session.app, c.CHANNEL_EVENT_CHANNEL, c.ChannelActivity(name, session.account, "join")
        )
        return {"channel": name, "num": len(ch.members)}

    def _snapshot(self, ch: Channel) -> c.ChannelJoined:
        large = len(ch.members) > self.config.large_threshold
        users = None if large else _latest(ch, self.config.user_list_max)
        return c.ChannelJoined(ch.name, len(ch.members), dict(ch.attrs), users)

    def _on_leave(self, session: ServerSession, frame: c.ChannelLeave) -> ReplyData:
        name = check_name(frame.channel, "channel")
        ch = self.joined.get(session)
        if ch is not None and ch.name == name:
            self._leave(session, ch, ErrorCode.LEAVECHANNEL_E_BYUSER)
        return {}

    def remove_member(self, app: str, channel: str, account: str) -> SyncOrFuture[bool]:
        """An administrator removes ``account`` from ``channel`` (Server API): it gets
        on_channel_leaved(601, LEAVECHANNEL_E_KICKED), the others a user-left event.
        False if the account is not in that channel."""
        channel = check_name(channel, "channel")
        account = check_name(account, "account")
        session = self.hub.sessions.get((app, account))
        ch = None if session is None else self.joined.get(session)
        if session is None or ch is None or ch.name != channel:
            return False
        self._leave(session, ch, ErrorCode.LEAVECHANNEL_E_KICKED)
        return True

    def _leave(self, session: ServerSession, ch: Channel, code: ErrorCode) -> None:
        self.lagging.pop(session, None)
        del ch.members[session.account]
        ch.fanout = None
        del self.joined[session]
        ch.user_buckets.pop(session.account, None)
        self.hub.push(session, c.ChannelLeft(ch.name, int(code)))  # dropped if it has ended
        if ch.notify:
            self._broadcast(ch, c.ChannelUserLeft(ch.name, session.account))
        activity = c.ChannelActivity(ch.name, session.account, "leave", int(code))
        self._feed(ch.app, c.CHANNEL_EVENT_CHANNEL, activity)
        if not ch.members:
            self._schedule_expiry(ch)

    def _schedule_expiry(self, ch: Channel) -> None:
        if ch.expiry is not None:
            ch.expiry.cancel()
        ttl = ch.settings.get("_channel_ttl", self.config.default_ttl)
        ch.expiry = self._later(ttl, lambda: self._expire(ch))

    def _expire(self, ch: Channel) -> None:
        """The TTL after the last member left is over: the channel and its attributes go."""
        ch.expiry = None
        if ch.members:
            return
        self._uncount(ch)
        for handle in ch.refreshers.values():
            handle.cancel()
        ch.refreshers.clear()
        if self.channels.get((ch.app, ch.name)) is ch:
            del self.channels[(ch.app, ch.name)]
        log.debug("channel %s/%s expired", ch.app, ch.name)

    def _broadcast(self, ch: Channel, event: Event) -> None:
        # A snapshot of the members, kept until the next join or leave: no per-message copy,
        # and safe when a push ends a slow consumer whose hook then leaves the channel.
        targets = ch.fanout
        if targets is None:
            targets = ch.fanout = tuple(ch.members.values())
        push = self.hub.push
        lagging = self.lagging
        if lagging and isinstance(event, _RESYNCABLE):
            # A member waiting for its resync gets nothing more before its gap signal.
            for session in targets:
                if session in lagging:
                    lagging[session] += 1
                else:
                    push(session, event)
            return
        self.hub.push_all(targets, event)

    # --- Session hooks ----------------------------------------------------------------

    def _on_session_start(self, session: ServerSession) -> None:
        self._feed(session.app, c.USER_ONLINE_CHANNEL, c.UserOnline(session.account, 1))

    def _overflow(self, session: ServerSession, event: msgspec.Struct) -> bool:
        """A member's outbox is full: drop what others did in its channel (a snapshot
        rebuilds it) rather than end its session (issue 12: others' traffic never does)."""
        if not isinstance(event, _RESYNCABLE):
            return False
        ch = self.joined.get(session)
        if ch is None or ch.name != event.channel:
            return False
        self.lagging[session] = self.lagging.get(session, 0) + 1
        return True

    def _resync(self, session: ServerSession) -> None:
        dropped = self.lagging.pop(session, 0)
        ch = self.joined.get(session)
        if dropped and ch is not None:
            self.hub.push(session, c.ChannelGap(ch.name, dropped))
            self.hub.push(session, self._snapshot(ch))

    def _on_session_end(self, session: ServerSession, code: ErrorCode) -> None:
        ch = self.joined.get(session)
        if ch is not None:
            self._leave(session, ch, c.leave_code(code))
        self._feed(session.app, c.USER_ONLINE_CHANNEL, c.UserOnline(session.account, 0, int(code)))

    # --- Requests of members ----------------------------------------------------------

    def _member_channel(self, session: ServerSession, name: str, code: ErrorCode) -> Channel:
        name = check_name(name, "channel")
        ch = self.joined.get(session)
        if ch is None or ch.name != name:
            raise SignalError(code, f"not in channel {name}")
        return ch

    def _on_send(self, session: ServerSession, frame: c.ChannelSend) -> SyncOrFuture[ReplyData]:
        check_msg_id(frame.msg_id)
        reply = {"msg_id": frame.msg_id}
        if self.hub.already_sent(session, frame.cseq):
            return reply  # a resend of a message already broadcast
        try:
            self._check_send(session, frame)
        except SignalError as exc:
            self.hub.remember_refusal(session, frame.cseq, exc)
            raise
        if frame.cseq:
            session.cseq = frame.cseq
        ch = self.joined[session]
        self._broadcast(ch, c.ChannelMessage(ch.name, session.account, frame.msg))
        return reply

    def _check_send(self, session: ServerSession, frame: c.ChannelSend) -> None:
        """Membership, size and rate rules of a channel message; raises SignalError."""
        ch = self._member_channel(session, frame.channel, ErrorCode.SENDMESSAGE_E_OTHER)
        large = self._size(ch) > self.config.large_threshold
        check_text(frame.msg, "message", message_limit(large))
        now = self.clock()
        if large:
            bucket = ch.user_buckets.get(session.account)
            if bucket is None:
                rate = self.config.user_rate_large
                bucket = ch.user_buckets[session.account] = TokenBucket(rate, rate, now)
            if not bucket.take(now):
                raise SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER,
                    f"large channel: at most {self.config.user_rate_large:g} message/s per user",
                )
        self._take_channel_rate(ch, large, now)

    def _size(self, ch: Channel) -> int:
        """The channel's member count (a cluster node holds only some of the members)."""
        return len(ch.members)

    def _take_channel_rate(self, ch: Channel, large: bool, now: float) -> None:
        """The channel's own budget: _sendmsg_limit, else the large-channel rate."""
        channel_bucket = ch.send_bucket
        if channel_bucket is None and large:
            channel_bucket = ch.large_bucket
            if channel_bucket is None:
                rate = self.config.channel_rate_large
                channel_bucket = ch.large_bucket = TokenBucket(rate, rate, now)
        if channel_bucket is not None and not channel_bucket.take(now):
            raise SignalError(
                ErrorCode.SENDMESSAGE_E_OTHER, "the channel's message rate limit is reached"
            )

    def _on_set_attr(
        self, session: ServerSession, frame: c.ChannelSetAttr
    ) -> SyncOrFuture[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        self.set_attr(ch, frame.name, frame.value)
        return {}

    def _on_del_attr(
        self, session: ServerSession, frame: c.ChannelDelAttr
    ) -> SyncOrFuture[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        self.del_attr(ch, frame.name)
        return {}

    def _on_clear_attr(
        self, session: ServerSession, frame: c.ChannelClearAttr
    ) -> SyncOrFuture[ReplyData]:
        ch = self._member_channel(session, frame.channel, ErrorCode.GENERAL_E_FAILED)
        self.clear_attrs(ch)
        return {}


#: Channel events a snapshot makes up for: dropped for a member whose outbox is full.
_RESYNCABLE = (c.ChannelMessage, c.ChannelUserJoined, c.ChannelUserLeft, c.ChannelAttrUpdated)


def _latest(ch: Channel, limit: int) -> list[str]:
    """The ``limit`` most recently joined members, oldest first."""
    if len(ch.members) <= limit:
        return list(ch.members)
    return list(itertools.islice(reversed(ch.members), limit))[::-1]


def check_attr_delete(name: str) -> None:
    check_name(name, "attribute name", MAX_CHANNEL_ATTR_NAME_CHARS)
    if name in c.READ_ONLY_ATTRS:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{name} is maintained by the server")
