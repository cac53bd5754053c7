"""The channel room: one SDK ``Channel`` at a time, its members, attributes and chat.

State the views read is always the room's current state: after leaving, ``attrs`` and
``members`` are empty (not the old channel's), and a new login starts with a clean room.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from ..sdk import Channel, Session, SignalError
from .events import (
    EventBus,
    RoomAttrsChanged,
    RoomError,
    RoomJoined,
    RoomJoinFailed,
    RoomLeft,
    RoomMemberEvent,
    RoomMembersChanged,
    RoomMessage,
)
from .tasks import TaskSet
from .texts import code_text

__all__ = ["RoomController", "RoomLine"]

_LEAVE_TEXT = {
    601: "You left the channel because this account logged in on another device.",
    602: "You left the channel.",
    603: "You left the channel because you logged out.",
    604: "You left the channel because the connection was lost. Join again when you are back "
    "online.",
}


@dataclass(frozen=True)
class RoomLine:
    account: str
    text: str
    at: float


class RoomController:
    def __init__(self, bus: EventBus, tasks: TaskSet) -> None:
        self.bus = bus
        self.tasks = tasks
        self.session: Session | None = None
        self.channel: Channel | None = None
        self.joining = ""
        self.lines: list[RoomLine] = []
        self._got_list = False

    # --- State the views read ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.channel.name if self.channel is not None and self.channel.joined else ""

    @property
    def members(self) -> list[str]:
        channel = self.channel
        return list(channel.members) if channel is not None and channel.joined else []

    @property
    def attrs(self) -> dict[str, str]:
        channel = self.channel
        return dict(channel.attrs) if channel is not None and channel.joined else {}

    @property
    def large(self) -> bool:
        """A large channel (over the server's threshold, 200 by default) sends no member
        list at the join: show the count, not a partial list."""
        return bool(self.name) and not self._got_list

    @property
    def count(self) -> int:
        if not self.name or self.channel is None:
            return 0
        return self.channel.num if self.large else len(self.channel.members)

    # --- Session life ---------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self.session = session
        self.channel = None
        self.joining = ""
        self.lines.clear()

    def detach(self) -> None:
        """The session is over: the SDK has fired (or will fire) on_channel_leaved."""
        self.session = None

    # --- Actions ------------------------------------------------------------------------

    def join(self, name: str) -> asyncio.Task[Any] | None:
        name = name.strip()
        if not name or self.session is None or name == self.name or self.joining:
            return None
        self.joining = name
        return self.tasks.spawn(self._join(name), "Join channel")

    async def _join(self, name: str) -> None:
        assert self.session is not None
        previous = self.channel
        got_list = False

        def on_list(_users: list[list[object]]) -> None:
            nonlocal got_list
            got_list = True
            if self.channel is not None and self.channel.name == name:
                self._got_list = True
                self.bus.publish(RoomMembersChanged())

        try:
            if previous is not None and previous.joined:
                await previous.channel_leave()
            channel = await self.session.channel_join(
                name,
                on_channel_user_list=on_list,
                on_channel_user_joined=lambda account, _uid: self._on_member(account, True),
                on_channel_user_leaved=lambda account, _uid: self._on_member(account, False),
                on_channel_attr_updated=lambda *_: self._attrs_changed(name),
                on_message_channel_receive=lambda a, _u, t: self._on_message(name, a, t),
                on_channel_leaved=lambda code: self._on_left(name, code),
                on_channel_join_failed=lambda _code: None,  # raised below, said once
            )
        except SignalError as exc:
            code = int(exc.code)
            text = (
                f"“{name}” is reserved for the server: choose another channel name."
                if code == 300
                else f"Could not join {name}. {code_text(code)}"
            )
            self.bus.publish(RoomJoinFailed(text))
            return
        finally:
            self.joining = ""
        self.channel = channel
        self._got_list = got_list
        self.lines.clear()
        self.bus.publish(RoomJoined(name))
        self.bus.publish(RoomMembersChanged())
        self.bus.publish(RoomAttrsChanged())

    def leave(self) -> asyncio.Task[Any] | None:
        channel = self.channel
        if channel is None or not channel.joined:
            return None
        return self.tasks.spawn(channel.channel_leave(), "Leave channel")

    def set_attr(self, name: str, value: str) -> asyncio.Task[Any] | None:
        if self.channel is None or not name.strip():
            return None
        return self.tasks.spawn(
            self._guard(self.channel.channel_set_attr(name.strip(), value)), "Set attribute"
        )

    def del_attr(self, name: str) -> asyncio.Task[Any] | None:
        if self.channel is None:
            return None
        return self.tasks.spawn(self._guard(self.channel.channel_del_attr(name)), "Delete")

    def clear_attrs(self) -> asyncio.Task[Any] | None:
        if self.channel is None:
            return None
        return self.tasks.spawn(self._guard(self.channel.channel_clear_attr()), "Clear")

    def send(self, text: str) -> asyncio.Task[Any] | None:
        """The server echoes the message to every member, the sender included: the line
        appears when it comes back, so what you see is what the others got."""
        if self.channel is None or not text.strip():
            return None
        return self.tasks.spawn(self._guard(self.channel.message_channel_send(text)), "Send")

    def query_count(self) -> asyncio.Task[Any] | None:
        """Ask the server for the member count (large channels keep no list)."""
        if self.session is None or self.channel is None:
            return None
        return self.tasks.spawn(self._query_count(self.session, self.channel), "Member count")

    async def _query_count(self, session: Session, channel: Channel) -> None:
        channel.num = await session.channel_query_user_num(channel.name)
        self.bus.publish(RoomMembersChanged())

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except SignalError as exc:
            self.bus.publish(RoomError(code_text(int(exc.code))))

    # --- SDK callbacks --------------------------------------------------------------------

    def _on_member(self, account: str, joined: bool) -> None:
        if self.channel is not None and self.large:
            self.channel.num += 1 if joined else -1
        self.bus.publish(RoomMemberEvent(account, joined))
        self.bus.publish(RoomMembersChanged())

    def _attrs_changed(self, name: str) -> None:
        if name == self.name:
            self.bus.publish(RoomAttrsChanged())

    def _on_message(self, name: str, account: str, text: str) -> None:
        if name != self.name:
            return
        self.lines.append(RoomLine(account, text, time.time()))
        self.bus.publish(RoomMessage(account, text))

    def _on_left(self, name: str, code: int) -> None:
        text = _LEAVE_TEXT.get(code) or f"You left the channel. {code_text(code)}"
        self.bus.publish(RoomLeft(name, text))
        self.bus.publish(RoomMembersChanged())
        self.bus.publish(RoomAttrsChanged())
