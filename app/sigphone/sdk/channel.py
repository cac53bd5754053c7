"""Channels in the SDK: the ``Channel`` object and the ``Channels`` component of a session.

``channel = await session.channel_join(name)`` returns a ``Channel`` (Web API object) once the
server has taken the join and ``on_channel_joined`` has run, so ``channel.members`` and
``channel.attrs`` are filled. Callbacks can be given to ``channel_join`` as keyword
arguments, assigned on the channel afterwards, or assigned on the session: a channel
callback that is not set on the channel falls back to the session attribute of the same
name, so ``on_channel_joined`` / ``on_channel_user_list`` of the first join are not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ..protocol import channels as c
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.limits import (
    MAX_CHANNEL_ATTR_NAME_CHARS,
    MAX_CHANNEL_ATTR_VALUE_CHARS,
    MAX_CHANNEL_MSG_CHARS,
    MAX_MSG_ID_CHARS,
)
from ..protocol.names import check_name, check_text
from ..protocol.text import nfc
from .requests import Handler, Requests

__all__ = ["CHANNEL_CALLBACKS", "Channel", "ChannelCallbacks", "Channels"]

log = logging.getLogger("sigphone.sdk")


class ChannelCallbacks:
    """The channel callbacks, declared once: a ``Channel`` has them, and the ``Session`` has
    them as fallbacks for a channel that does not set its own."""

    on_channel_joined: Callable[[], Any] | None = None
    on_channel_join_failed: Callable[[int], Any] | None = None
    on_channel_leaved: Callable[[int], Any] | None = None
    on_channel_user_joined: Callable[[str, int], Any] | None = None
    on_channel_user_leaved: Callable[[str, int], Any] | None = None
    on_channel_user_list: Callable[[list[list[Any]]], Any] | None = None
    on_channel_attr_updated: Callable[[str, str, str], Any] | None = None
    on_message_channel_receive: Callable[[str, int, str], Any] | None = None


#: Callbacks a Channel fires (each falls back to the session attribute of the same name).
CHANNEL_CALLBACKS = tuple(ChannelCallbacks.__annotations__)


class Channel(ChannelCallbacks):
    """One channel joined by a session (Web API ``Channel``); see docs/channels.md."""

    def __init__(self, requests: Requests, name: str) -> None:
        self._requests = requests
        self.name = name
        self.joined = False
        #: account -> uid (always 0), in join order. Not kept up to date in large channels
        #: (no list) or with _userNotification=0 (no join/leave events).
        self.members: dict[str, int] = {}
        #: The channel's attribute table, built-in attributes included.
        self.attrs: dict[str, str] = {}
        #: Members when we joined (also known in large channels, where ``members`` is not).
        self.num = 0
        #: Offset of the last channel event handed to the application (a cluster server sets
        #: them): a rejoin on another node asks for what came after it (C7).
        self.offset = ""
        self._ready: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<Channel {self.name!r} joined={self.joined} members={len(self.members)}>"

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name.startswith("on_") and value is not None:
            self._requests.callback_assigned()

    async def _call(self, name: str, *args: Any) -> None:
        """Hand a callback over (this channel's, else the session's of the same name); an
        event's callback that neither has yet waits for it (docs/sdk.md)."""
        requests = self._requests
        await requests.hand(
            lambda: self.__dict__.get(name) or requests.on_session(name), name, *args
        )

    # --- Public methods -------------------------------------------------------------------

    async def channel_leave(self) -> None:
        """Leave the channel; on_channel_leaved(602) follows (others: on_channel_user_leaved)."""
        await self._requests.request(c.ChannelLeave(channel=self.name))
        self.joined = False

    async def message_channel_send(self, msg: str, msg_id: str | None = None) -> str:
        """Send ``msg`` to every member (the sender included); returns the message ID.

        Fires on_message_send_success(msg_id) or on_message_send_error(msg_id, ecode) on the
        session and raises SignalError on failure (400 over a size or rate limit).
        """
        requests = self._requests
        msg_id = msg_id if msg_id is not None else secrets.token_hex(8)
        try:
            if msg_id:
                check_name(msg_id, "message ID", MAX_MSG_ID_CHARS)
            check_text(msg, "message", MAX_CHANNEL_MSG_CHARS)
            cseq = requests.next_cseq()
            frame = c.ChannelSend(channel=self.name, msg=msg, msg_id=msg_id, cseq=cseq)
            await requests.request(frame, timeout_code=ErrorCode.SENDMESSAGE_E_TIMEOUT)
        except SignalError as exc:
            requests.emit("on_message_send_error", msg_id, int(exc.code))
            raise
        requests.emit("on_message_send_success", msg_id)
        return msg_id

    async def channel_set_attr(self, name: str, value: str) -> None:
        check_name(name, "attribute name", MAX_CHANNEL_ATTR_NAME_CHARS)
        check_text(value, "attribute value", MAX_CHANNEL_ATTR_VALUE_CHARS)
        await self._requests.request(c.ChannelSetAttr(channel=self.name, name=name, value=value))

    async def channel_del_attr(self, name: str) -> None:
        check_name(name, "attribute name", MAX_CHANNEL_ATTR_NAME_CHARS)
        await self._requests.request(c.ChannelDelAttr(channel=self.name, name=name))

    async def channel_clear_attr(self) -> None:
        await self._requests.request(c.ChannelClearAttr(channel=self.name))


class Channels:
    """The channel side of a session: joins, the channel events, invoke (composition: it
    gets the session's ``Requests`` and registers its handlers in the dispatch table).

    Routing state changes in dispatch order: ``current`` is the channel the events handed
    to the application so far say we are in; ``_joining`` holds channel objects whose join
    was sent and whose ChannelJoined event has not been dispatched yet.
    """

    def __init__(self, requests: Requests) -> None:
        self._requests = requests
        self.current: Channel | None = None
        self._joining: dict[str, Channel] = {}
        requests.on_end(self._end)
        requests.on_relogin(self._rejoin_current)

    def handlers(self) -> dict[type[Any], Handler]:
        return {
            c.ChannelJoined: self._on_joined,
            c.ChannelLeft: self._on_left,
            c.ChannelUserJoined: self._on_user_joined,
            c.ChannelUserLeft: self._on_user_left,
            c.ChannelAttrUpdated: self._on_attr_updated,
            c.ChannelMessage: self._on_message,
        }

    # --- Requests ---------------------------------------------------------------------------

    async def join(self, name: str, callbacks: dict[str, Any]) -> Channel:
        if isinstance(name, str):
            name = nfc(name)  # the server names channels in NFC (docs/protocol.md)
        requests = self._requests
        current = self.current
        if current is not None and current.name == name and current.joined:
            channel = current
        else:
            channel = Channel(requests, name)
        for key, callback in callbacks.items():
            if key not in CHANNEL_CALLBACKS:
                raise TypeError(f"unknown channel callback {key!r}")
            setattr(channel, key, callback)
        joining = self._joining
        try:
            check_name(name, "channel")
            channel._ready = asyncio.get_running_loop().create_future()
            joining[name] = channel
            frame = c.ChannelJoin(channel=name)
            await requests.request(frame, timeout_code=ErrorCode.JOINCHANNEL_E_OTHER)
        except SignalError as exc:
            if joining.get(name) is channel:
                del joining[name]
            requests.later(channel._call, "on_channel_join_failed", int(exc.code))
            raise
        if not requests.in_dispatcher() and channel._ready is not None:
            # The ChannelJoined event came before the reply: wait until it was handed over.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(channel._ready), requests.request_timeout)
        return channel

    async def query_user_num(self, name: str) -> int:
        requests = self._requests
        try:
            check_name(name, "channel")
            frame = c.Invoke(func=c.INVOKE_PREFIX + "channel_query_num", args={"name": name})
            data = await requests.request(frame, timeout_code=ErrorCode.QUERYUSERNUM_E_TIMEOUT)
        except SignalError as exc:
            requests.emit("on_channel_query_user_num_result", name, int(exc.code), 0)
            raise
        num = int(data["resp"]["num"])
        requests.emit("on_channel_query_user_num_result", name, 0, num)
        return num

    async def invoke(self, func: str, args: dict[str, Any] | None) -> Any:
        requests = self._requests
        if not isinstance(func, str) or not isinstance(args, dict | None):
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "func is a str, args a dict")
        frame = c.Invoke(func=func, args=dict(args or {}))
        try:
            data = await requests.request(frame)
        except SignalError as exc:
            requests.emit("on_invoke_ret", frame.id, int(exc.code), None)
            raise
        resp = data.get("resp")
        requests.emit("on_invoke_ret", frame.id, 0, resp)
        return resp

    # --- Events (in dispatch order) ---------------------------------------------------------

    def _routed(self, name: str, off: str = "") -> Channel | None:
        """The channel an event is for; None also for an event already handed over (a
        rejoin's replay overlapping what the previous connection delivered)."""
        channel = self.current
        if channel is None or channel.name != name or not c.is_newer(off, channel.offset):
            return None
        return channel

    async def _on_joined(self, ev: c.ChannelJoined) -> None:
        channel = self._joining.pop(ev.channel, None) or self._routed(ev.channel)
        if channel is None:  # joined by a request this SDK object did not make
            channel = Channel(self._requests, ev.channel)
        self.current = channel
        had_attrs = bool(channel.attrs)
        channel.joined = True
        channel.num = ev.num
        me = self._requests.account
        channel.members = dict.fromkeys(ev.users if ev.users is not None else [me], 0)
        channel.attrs = dict(ev.attrs)
        channel.offset = ev.off
        if channel._ready is not None and not channel._ready.done():
            channel._ready.set_result(None)
        await channel._call("on_channel_joined")
        if ev.users is not None:
            await channel._call("on_channel_user_list", [[account, 0] for account in ev.users])
        if had_attrs:  # a rejoin (or a history gap): the table is replaced, not merged
            await channel._call("on_channel_attr_updated", "", "", "clear")
        for key, value in ev.attrs.items():
            await channel._call("on_channel_attr_updated", key, value, "update")

    async def _on_left(self, ev: c.ChannelLeft) -> None:
        channel = self._routed(ev.channel)
        if channel is None:
            return
        self.current = None
        channel.joined = False
        await channel._call("on_channel_leaved", ev.code)

    async def _on_user_joined(self, ev: c.ChannelUserJoined) -> None:
        channel = self._routed(ev.channel, ev.off)
        if channel is not None:
            channel.members[ev.account] = 0
            await channel._call("on_channel_user_joined", ev.account, 0)
            channel.offset = ev.off or channel.offset

    async def _on_user_left(self, ev: c.ChannelUserLeft) -> None:
        channel = self._routed(ev.channel, ev.off)
        if channel is not None:
            channel.members.pop(ev.account, None)
            await channel._call("on_channel_user_leaved", ev.account, 0)
            channel.offset = ev.off or channel.offset

    async def _on_attr_updated(self, ev: c.ChannelAttrUpdated) -> None:
        channel = self._routed(ev.channel, ev.off)
        if channel is None:
            return
        if ev.type == "update":
            channel.attrs[ev.name] = ev.value
        elif ev.type == "del":
            channel.attrs.pop(ev.name, None)
        elif ev.type == "clear":
            channel.attrs.clear()
        await channel._call("on_channel_attr_updated", ev.name, ev.value, ev.type)
        channel.offset = ev.off or channel.offset

    async def _on_message(self, ev: c.ChannelMessage) -> None:
        channel = self._routed(ev.channel, ev.off)
        if channel is not None:
            await channel._call("on_message_channel_receive", ev.account, 0, ev.msg)
            channel.offset = ev.off or channel.offset

    # --- Session life ---------------------------------------------------------------------

    def _end(self, code: ErrorCode) -> None:
        """The session ended: the channel is left with 603/604/601 (after queued events)."""
        self._requests.later(self._ended, int(c.leave_code(code)))

    async def _ended(self, code: int) -> None:
        channel, self.current = self.current, None
        if channel is not None:
            channel.joined = False
            await channel._call("on_channel_leaved", code)

    def _rejoin_current(self) -> None:
        """After a reconnect that could not resume (server restart), join the channel again.

        Runs on the connection task before its read loop restarts, so the request is only
        sent here; a task waits for the reply.
        """
        channel = self.current
        if channel is None or not channel.joined:
            return
        self._joining[channel.name] = channel
        self._requests.spawn(self._rejoin(channel))

    async def _rejoin(self, channel: Channel) -> None:
        try:
            frame = c.ChannelJoin(channel=channel.name, since=channel.offset)
            await self._requests.request(frame)
        except SignalError as exc:
            log.warning("could not rejoin channel %s: %s", channel.name, exc)
            if self._joining.get(channel.name) is channel:
                del self._joining[channel.name]
            self._requests.later(self._lost, channel)

    async def _lost(self, channel: Channel) -> None:
        if self.current is channel:
            self.current = None
            channel.joined = False
            await channel._call("on_channel_leaved", int(ErrorCode.LEAVECHANNEL_E_OTHER))
