"""The channel room's half of the bridge (G2): one SDK ``Channel`` as Qt signals.

The ``Bridge`` owns the session and creates this object (``bridge.room``); it is handed the
session at login and dropped at logout, so views still reach the SDK through the bridge
only. The SDK keeps ``members`` and ``attrs`` current; this object mirrors them into
signals (channel callbacks are passed to ``channel_join`` so none is missed) and keeps the
room's chat lines.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..sdk import Session, SignalError
from ..sdk.channel import Channel
from .texts import code_text

if TYPE_CHECKING:
    from .tasks import TaskSet

__all__ = ["ChannelBridge", "RoomLine"]

_LEAVE_TEXT = {
    601: "You left the channel because this account logged in on another device.",
    602: "You left the channel.",
    603: "You left the channel because you logged out.",
    604: "You left the channel because the connection was lost.",
}


@dataclass(frozen=True)
class RoomLine:
    account: str
    text: str
    at: float


class ChannelBridge(QObject):
    joined = Signal(str)  # channel name
    left = Signal(str, str)  # channel name, sentence
    join_failed = Signal(str)  # sentence
    members_changed = Signal()  # read ``members``/``count``
    member_event = Signal(str, bool)  # account, joined (True) or left (False)
    attrs_changed = Signal()  # read ``attrs``
    message = Signal(str, str)  # account, text
    error = Signal(str)

    def __init__(self, tasks: TaskSet, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.session: Session | None = None
        self.channel: Channel | None = None
        self.lines: list[RoomLine] = []
        self._got_list = False

    # --- State the views read ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.channel.name if self.channel is not None and self.channel.joined else ""

    @property
    def members(self) -> list[str]:
        return list(self.channel.members) if self.channel is not None else []

    @property
    def attrs(self) -> dict[str, str]:
        return dict(self.channel.attrs) if self.channel is not None else {}

    @property
    def large(self) -> bool:
        """A large channel (over the server's threshold, 200 by default) sends no member
        list at the join: show the count, not a partial list."""
        return self.channel is not None and self.channel.joined and not self._got_list

    @property
    def count(self) -> int:
        if self.channel is None:
            return 0
        return self.channel.num if self.large else len(self.channel.members)

    # --- Session life (called by the Bridge) ------------------------------------------------

    def attach(self, session: Session) -> None:
        self.session = session
        self.channel = None
        self.lines.clear()

    def detach(self) -> None:
        """The session is over: the SDK has fired (or will fire) on_channel_leaved."""
        self.session = None

    # --- Actions ------------------------------------------------------------------------

    def join(self, name: str) -> asyncio.Task[Any] | None:
        name = name.strip()
        if not name or self.session is None:
            return None
        return self.tasks.spawn(self._join(name), "Join channel")

    async def _join(self, name: str) -> None:
        assert self.session is not None
        self._got_list = False
        try:
            channel = await self.session.channel_join(
                name,
                on_channel_user_list=self._on_user_list,
                on_channel_user_joined=lambda account, _uid: self._on_member(account, True),
                on_channel_user_leaved=lambda account, _uid: self._on_member(account, False),
                on_channel_attr_updated=lambda *_: self.attrs_changed.emit(),
                on_message_channel_receive=self._on_message,
                on_channel_leaved=lambda code: self._on_left(name, code),
                on_channel_join_failed=lambda _code: None,  # raised below, said once
            )
        except SignalError as exc:
            code = int(exc.code)
            text = (
                "That channel is reserved for the server."
                if code == 300
                else f"Could not join {name}: {code_text(code)}"
            )
            self.join_failed.emit(text)
            return
        self.channel = channel
        self.lines.clear()
        self.joined.emit(name)
        self.members_changed.emit()
        self.attrs_changed.emit()

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

    async def query_count(self) -> None:
        """Ask the server for the member count (large channels keep no list)."""
        if self.session is None or self.channel is None:
            return
        self.channel.num = await self.session.channel_query_user_num(self.channel.name)
        self.members_changed.emit()

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except SignalError as exc:
            self.error.emit(code_text(int(exc.code)))

    # --- SDK callbacks --------------------------------------------------------------------

    def _on_user_list(self, _users: list[list[object]]) -> None:
        self._got_list = True
        self.members_changed.emit()

    def _on_member(self, account: str, joined: bool) -> None:
        if self.channel is not None and self.large:
            self.channel.num += 1 if joined else -1
        self.member_event.emit(account, joined)
        self.members_changed.emit()

    def _on_message(self, account: str, _uid: int, text: str) -> None:
        self.lines.append(RoomLine(account, text, time.time()))
        self.message.emit(account, text)

    def _on_left(self, name: str, code: int) -> None:
        self.left.emit(name, _LEAVE_TEXT.get(code) or f"You left the channel ({code_text(code)}).")
        self.members_changed.emit()
        self.attrs_changed.emit()
