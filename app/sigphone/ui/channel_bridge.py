"""The channel room's Qt adapter (``bridge.room``): ``phone.room.RoomController`` as signals.

The ``Bridge`` forwards the room's events here; views read the room's state through the
properties and act through the methods. No logic of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..phone.room import RoomController, RoomLine

__all__ = ["RoomAdapter", "RoomLine"]


class RoomAdapter(QObject):
    joined = Signal(str)  # channel name
    left = Signal(str, str)  # channel name, sentence
    join_failed = Signal(str)  # sentence
    members_changed = Signal()  # read ``members``/``count``
    member_event = Signal(str, bool)  # account, joined (True) or left (False)
    attrs_changed = Signal()  # read ``attrs``
    message = Signal(str, str)  # account, text
    error = Signal(str)

    def __init__(self, room: RoomController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = room

    @property
    def name(self) -> str:
        return self.controller.name

    @property
    def joining(self) -> str:
        return self.controller.joining

    @property
    def members(self) -> list[str]:
        return self.controller.members

    @property
    def attrs(self) -> dict[str, str]:
        return self.controller.attrs

    @property
    def large(self) -> bool:
        return self.controller.large

    @property
    def count(self) -> int:
        return self.controller.count

    @property
    def lines(self) -> list[RoomLine]:
        return self.controller.lines

    def join(self, name: str) -> asyncio.Task[Any] | None:
        return self.controller.join(name)

    def leave(self) -> asyncio.Task[Any] | None:
        return self.controller.leave()

    def set_attr(self, name: str, value: str) -> asyncio.Task[Any] | None:
        return self.controller.set_attr(name, value)

    def del_attr(self, name: str) -> asyncio.Task[Any] | None:
        return self.controller.del_attr(name)

    def clear_attrs(self) -> asyncio.Task[Any] | None:
        return self.controller.clear_attrs()

    def send(self, text: str) -> asyncio.Task[Any] | None:
        return self.controller.send(text)

    def query_count(self) -> asyncio.Task[Any] | None:
        return self.controller.query_count()
