"""Plain observer events: what the phone's controllers tell whoever listens.

No Qt here. A controller ``publish``es a small frozen dataclass on the phone's ``EventBus``;
subscribers are plain callables (the Qt adapter in ``sigphone.ui`` turns each into a signal;
tests append them to a list). Publishing is synchronous, on the loop's thread, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AudioStatus",
    "CallState",
    "CallStatsText",
    "CallWaiting",
    "ChatChanged",
    "ContactsChanged",
    "DtmfReceived",
    "ErrorText",
    "EventBus",
    "HistoryChanged",
    "HoldChanged",
    "IncomingCall",
    "LoggedIn",
    "LoggedOut",
    "LoginFailed",
    "MessageReceived",
    "MissedChanged",
    "MuteChanged",
    "PresenceChanged",
    "Reconnected",
    "Reconnecting",
    "RemoteHoldChanged",
    "RoomAttrsChanged",
    "RoomError",
    "RoomJoinFailed",
    "RoomJoined",
    "RoomLeft",
    "RoomMemberEvent",
    "RoomMembersChanged",
    "RoomMessage",
    "StatusChanged",
    "UnreadChanged",
]

log = logging.getLogger("sigphone.phone")


class EventBus:
    """Subscribers get every event; one failing subscriber never stops the others."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Any], None]] = []

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it again."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def publish(self, event: object) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("subscriber %r failed on %r", callback, event)


# --- Account -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChanged:
    status: str  # "offline", "connecting", "online", "reconnecting"


@dataclass(frozen=True)
class LoggedIn:
    account: str


@dataclass(frozen=True)
class LoginFailed:
    code: int  # the seed code; 0 for a token endpoint failure, 203 when cancelled
    text: str


@dataclass(frozen=True)
class LoggedOut:
    code: int
    text: str


@dataclass(frozen=True)
class Reconnecting:
    attempt: int


@dataclass(frozen=True)
class Reconnected:
    pass


@dataclass(frozen=True)
class ErrorText:
    """A sentence for the status bar: what happened and what to do."""

    text: str


# --- Chat, contacts, presence -------------------------------------------------------------


@dataclass(frozen=True)
class ChatChanged:
    peer: str


@dataclass(frozen=True)
class MessageReceived:
    """A new message from ``peer`` (for a notification and a sound)."""

    peer: str
    text: str


@dataclass(frozen=True)
class UnreadChanged:
    total: int


@dataclass(frozen=True)
class PresenceChanged:
    account: str
    online: bool


@dataclass(frozen=True)
class ContactsChanged:
    pass


# --- Calls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingCall:
    peer: str
    number: str  # the caller's srcNum ("" when none)


@dataclass(frozen=True)
class CallWaiting:
    """A second call rings during a call (``peer`` "" when it stopped ringing)."""

    peer: str
    number: str


@dataclass(frozen=True)
class CallState:
    peer: str
    phase: str  # a CallPhase value
    text: str


@dataclass(frozen=True)
class DtmfReceived:
    digits: str


@dataclass(frozen=True)
class MuteChanged:
    muted: bool


@dataclass(frozen=True)
class HoldChanged:
    held: bool


@dataclass(frozen=True)
class RemoteHoldChanged:
    """The other side put the call on hold (True) or resumed it."""

    held: bool


@dataclass(frozen=True)
class AudioStatus:
    text: str  # "" when sound works


@dataclass(frozen=True)
class CallStatsText:
    text: str


@dataclass(frozen=True)
class HistoryChanged:
    pass


@dataclass(frozen=True)
class MissedChanged:
    count: int


# --- The channel room -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomJoined:
    name: str


@dataclass(frozen=True)
class RoomLeft:
    name: str
    text: str


@dataclass(frozen=True)
class RoomJoinFailed:
    text: str


@dataclass(frozen=True)
class RoomMembersChanged:
    pass


@dataclass(frozen=True)
class RoomMemberEvent:
    account: str
    joined: bool


@dataclass(frozen=True)
class RoomAttrsChanged:
    pass


@dataclass(frozen=True)
class RoomMessage:
    account: str
    text: str


@dataclass(frozen=True)
class RoomError:
    text: str
