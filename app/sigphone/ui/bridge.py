"""The thin Qt adapter between the views and the Qt-free phone (``sigphone.phone``).

``Bridge`` subscribes to the ``PhoneCore``'s event bus and re-emits each event as a Qt signal
(on the same thread: the qasync loop is the GUI thread). Its methods forward to the
controllers; its properties read their state. Views talk only to this object (and to
``bridge.room``), never to the SDK, media or server. No logic lives here: it is in
``sigphone.phone``, where it is tested without a QApplication.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..phone import events as ev
from ..phone.core import PhoneCore
from ..phone.store import ChatLine
from .channel_bridge import RoomAdapter

__all__ = ["Bridge", "ChatLine"]


class Bridge(QObject):
    """One account's phone as Qt signals and slots."""

    # --- Session ---------------------------------------------------------------------
    status_changed = Signal(str)  # "offline", "connecting", "online", "reconnecting"
    logged_in = Signal(str)  # account
    login_failed = Signal(int, str)  # code, sentence
    logged_out = Signal(int, str)  # code, sentence
    reconnecting = Signal(int)  # attempt 1, 2, ...
    reconnected = Signal()
    error = Signal(str)  # a sentence for the status bar
    # --- Chat and presence -----------------------------------------------------------
    chat_changed = Signal(str)  # peer whose conversation changed
    message_received = Signal(str, str)  # peer, text (not the one on screen)
    unread_changed = Signal(int)  # unread messages in all conversations
    presence_changed = Signal(str, bool)  # account, online
    contacts_changed = Signal()
    # --- Calls -----------------------------------------------------------------------
    incoming_call = Signal(str, str)  # peer, caller number (srcNum or "")
    call_waiting = Signal(str, str)  # a second call: peer, number ("" when it stopped)
    call_state = Signal(str, str, str)  # peer, phase (CallPhase value), sentence
    dtmf_received = Signal(str)  # digits from the other side
    mute_changed = Signal(bool)
    hold_changed = Signal(bool)
    remote_hold_changed = Signal(bool)
    audio_status = Signal(str)  # "" when sound works; else a sentence
    call_stats = Signal(str)  # "RTT 1 ms · loss 0.0 % · jitter 2 ms" while connected
    history_changed = Signal()
    missed_changed = Signal(int)  # missed calls not yet seen

    def __init__(self, core: PhoneCore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.room = RoomAdapter(core.room, self)
        #: The last call phase shown ("" before the first call; "ended" after one).
        self.call_status = ""
        self.call_peer = ""
        emit: dict[type, Callable[[Any], None]] = {
            ev.StatusChanged: lambda e: self.status_changed.emit(e.status),
            ev.LoggedIn: lambda e: self._on_logged_in(e.account),
            ev.LoginFailed: lambda e: self.login_failed.emit(e.code, e.text),
            ev.LoggedOut: lambda e: self.logged_out.emit(e.code, e.text),
            ev.Reconnecting: lambda e: self.reconnecting.emit(e.attempt),
            ev.Reconnected: lambda e: self.reconnected.emit(),
            ev.ErrorText: lambda e: self.error.emit(e.text),
            ev.ChatChanged: lambda e: self.chat_changed.emit(e.peer),
            ev.MessageReceived: lambda e: self.message_received.emit(e.peer, e.text),
            ev.UnreadChanged: lambda e: self.unread_changed.emit(e.total),
            ev.PresenceChanged: lambda e: self.presence_changed.emit(e.account, e.online),
            ev.ContactsChanged: lambda e: self.contacts_changed.emit(),
            ev.IncomingCall: lambda e: self.incoming_call.emit(e.peer, e.number),
            ev.CallWaiting: lambda e: self.call_waiting.emit(e.peer, e.number),
            ev.CallState: self._on_call_state,
            ev.DtmfReceived: lambda e: self.dtmf_received.emit(e.digits),
            ev.MuteChanged: lambda e: self.mute_changed.emit(e.muted),
            ev.HoldChanged: lambda e: self.hold_changed.emit(e.held),
            ev.RemoteHoldChanged: lambda e: self.remote_hold_changed.emit(e.held),
            ev.AudioStatus: lambda e: self.audio_status.emit(e.text),
            ev.CallStatsText: lambda e: self.call_stats.emit(e.text),
            ev.HistoryChanged: lambda e: self.history_changed.emit(),
            ev.MissedChanged: lambda e: self.missed_changed.emit(e.count),
        }
        room = self.room
        emit.update({
            ev.RoomJoined: lambda e: room.joined.emit(e.name),
            ev.RoomLeft: lambda e: room.left.emit(e.name, e.text),
            ev.RoomJoinFailed: lambda e: room.join_failed.emit(e.text),
            ev.RoomMembersChanged: lambda e: room.members_changed.emit(),
            ev.RoomMemberEvent: lambda e: room.member_event.emit(e.account, e.joined),
            ev.RoomAttrsChanged: lambda e: room.attrs_changed.emit(),
            ev.RoomMessage: lambda e: room.message.emit(e.account, e.text),
            ev.RoomError: lambda e: room.error.emit(e.text),
        })  # fmt: skip
        self._emit = emit
        self._unsubscribe = core.bus.subscribe(self._dispatch)

    def _dispatch(self, event: object) -> None:
        handler = self._emit.get(type(event))
        if handler is not None:
            handler(event)

    def _on_logged_in(self, account: str) -> None:
        self.logged_in.emit(account)
        self.history_changed.emit()
        self.contacts_changed.emit()

    def _on_call_state(self, e: ev.CallState) -> None:
        self.call_status = str(e.phase)
        self.call_peer = e.peer
        self.call_state.emit(e.peer, str(e.phase), e.text)

    # --- State the views read --------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.core.account.status

    @property
    def account(self) -> str:
        return self.core.account.account

    @property
    def store(self) -> Any:
        return self.core.store

    @property
    def tones(self) -> Any:
        return self.core.tones

    @property
    def voice(self) -> Any:
        """The phone's ``Voice`` (None without the media extra)."""
        return self.core.calls.voice

    @property
    def tasks(self) -> Any:
        return self.core.tasks

    @property
    def call(self) -> Any:
        """The SDK call in the foreground, or None."""
        current = self.core.calls.current
        return current.call if current is not None else None

    @property
    def in_call(self) -> bool:
        return self.core.calls.current is not None

    @property
    def waiting_peer(self) -> str:
        waiting = self.core.calls.waiting
        return waiting.peer if waiting is not None else ""

    @property
    def parked_peer(self) -> str:
        parked = self.core.calls.parked
        return parked.peer if parked is not None else ""

    @property
    def media(self) -> Any:
        return self.core.calls.media

    @property
    def muted(self) -> bool:
        return self.core.calls.muted

    @property
    def held(self) -> bool:
        return self.core.calls.held

    @property
    def remote_held(self) -> bool:
        return self.core.calls.remote_held

    @property
    def audio_text(self) -> str:
        return self.core.calls.audio_text

    @property
    def stats_text(self) -> str:
        return self.core.calls.stats_text

    @property
    def missed(self) -> int:
        return self.core.calls.missed

    @property
    def dnd(self) -> bool:
        return self.core.calls.dnd

    @property
    def chats(self) -> dict[str, list[ChatLine]]:
        return self.core.chat.chats

    @property
    def presence(self) -> dict[str, bool]:
        return self.core.contacts.presence

    def contacts(self) -> list[str]:
        return self.core.contacts.contacts()

    def unread(self, peer: str) -> int:
        return self.core.chat.unread(peer)

    def unread_total(self) -> int:
        return self.core.chat.unread_total()

    def call_elapsed(self) -> float:
        return self.core.calls.elapsed()

    def redial_target(self) -> str | None:
        return self.core.calls.redial_target()

    def history(self) -> list[Any]:
        return self.core.store.calls(self.account) if self.account else []

    # --- Actions (each returns at once; the work runs as a tracked task) ------------------

    def login(self, server: str, app_id: str, account: str, token: str) -> asyncio.Task[None]:
        return self.core.account.login(server, app_id, account, token)

    def cancel_login(self) -> bool:
        return self.core.account.cancel_login()

    def logout(self) -> asyncio.Task[None] | None:
        return self.core.account.logout()

    async def shutdown(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - a bound
        await self.core.shutdown(timeout)

    def send_message(self, peer: str, text: str) -> str | None:
        return self.core.chat.send(peer, text)

    def view_chat(self, peer: str) -> None:
        self.core.chat.view(peer)

    def add_contact(self, account: str) -> str | None:
        return self.core.contacts.add(account)

    def check_contact(self, account: str) -> str | None:
        return self.core.contacts.check(account)

    def remove_contact(self, account: str) -> None:
        self.core.contacts.remove(account)

    def dial(self, target: str) -> asyncio.Task[None] | None:
        return self.core.calls.dial(target)

    def accept(self) -> asyncio.Task[None] | None:
        return self.core.calls.accept()

    def refuse(self) -> asyncio.Task[None] | None:
        return self.core.calls.refuse()

    def hang_up(self) -> asyncio.Task[None] | None:
        return self.core.calls.hang_up()

    def answer_waiting(self) -> asyncio.Task[None] | None:
        return self.core.calls.answer_waiting()

    def decline_waiting(self) -> asyncio.Task[None] | None:
        return self.core.calls.decline_waiting()

    def swap_calls(self) -> None:
        self.core.calls.swap()

    def send_dtmf(self, digits: str) -> None:
        self.core.calls.send_dtmf(digits)

    def set_muted(self, muted: bool) -> None:
        self.core.calls.set_muted(muted)

    def set_held(self, held: bool) -> None:
        self.core.calls.set_held(held)

    def set_dnd(self, on: bool) -> None:
        self.core.calls.dnd = on

    def clear_missed(self) -> None:
        self.core.calls.clear_missed()

    def delete_call(self, record_id: int) -> None:
        self.core.store.delete_call(self.account, record_id)
        self.history_changed.emit()

    def clear_history(self) -> None:
        self.core.store.clear_calls(self.account)
        self.history_changed.emit()
