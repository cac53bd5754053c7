"""Point-to-point chat: conversations kept in SQLite, unread counts, the real outcome.

A line is shown at once as "sending". When the server has it, the line says what really
happened: "delivered" (the peer was online) or "stored" (the peer is offline, or no such
account has logged in yet: the server keeps the message until that account logs in; it
cannot know whether it ever will). A refused send says why.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

from ..protocol.names import is_valid_name
from ..sdk import ErrorCode, Session, SignalError
from .events import ChatChanged, ErrorText, EventBus, MessageReceived, UnreadChanged
from .sound import Tones
from .store import ChatLine, UserStore
from .tasks import TaskSet
from .texts import message_failure_text

__all__ = ["ChatController", "ChatLine"]

log = logging.getLogger("sigphone.phone")


class ChatController:
    def __init__(
        self, bus: EventBus, tasks: TaskSet, store: UserStore, tones: Tones, me: Callable[[], str]
    ) -> None:
        self.bus = bus
        self.tasks = tasks
        self.store = store
        self.tones = tones
        self._me = me
        self.session: Session | None = None
        self.chats: dict[str, list[ChatLine]] = {}
        #: The conversation on screen (its new lines are read at once).
        self.viewing = ""

    # --- Session life -----------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self.session = session
        session.on_message_instant_receive = self._on_message
        self.chats = self.store.lines(self._me())
        for lines in self.chats.values():  # a send that never got its answer (quit, crash)
            for line in lines:
                if line.state == "sending":
                    line.state = "failed"
                    self.store.set_state(self._me(), line)
        self.viewing = ""
        self.bus.publish(UnreadChanged(self.unread_total()))

    def detach(self) -> None:
        self.session = None

    # --- Unread ---------------------------------------------------------------------------------

    def unread(self, peer: str) -> int:
        return sum(1 for line in self.chats.get(peer, ()) if line.unread)

    def unread_total(self) -> int:
        return sum(self.unread(peer) for peer in self.chats)

    def view(self, peer: str) -> None:
        """``peer``'s conversation is on screen ("" for none): its lines are read."""
        self.viewing = peer
        if peer and self.unread(peer):
            for line in self.chats.get(peer, ()):
                line.unread = False
            self.store.mark_read(self._me(), peer)
            self.bus.publish(ChatChanged(peer))
            self.bus.publish(UnreadChanged(self.unread_total()))

    # --- Sending -----------------------------------------------------------------------------

    def send(self, peer: str, text: str) -> str | None:
        """Show the line at once as "sending"; returns its message ID (None if refused)."""
        peer = peer.strip()
        if not is_valid_name(peer):
            self.bus.publish(ErrorText(f"“{peer}” is not an account name: names have no spaces."))
            return None
        if not text.strip():
            return None
        msg_id = secrets.token_hex(8)
        line = ChatLine(peer, True, text, time.time(), msg_id, "sending")
        self._add(line)
        self.tasks.spawn(self._send(line), "Send message")
        return msg_id

    async def _send(self, line: ChatLine) -> None:
        session = self.session
        try:
            if session is None:
                raise SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "not logged in")
            await session.message_instant_send(line.peer, line.text, line.msg_id)
        except SignalError as exc:
            line.state = "failed"
            text = message_failure_text(int(exc.code))
            self.bus.publish(ErrorText(f"Your message to {line.peer} was not sent. {text}"))
        else:
            line.state = "delivered" if await self._online(session, line.peer) else "stored"
        self.store.set_state(self._me(), line)
        self.bus.publish(ChatChanged(line.peer))

    @staticmethod
    async def _online(session: Session, peer: str) -> bool:
        try:
            return bool(await session.query_user_status(peer))
        except (TimeoutError, SignalError) as exc:
            log.info("status of %s: %r", peer, exc)
            return False

    # --- Receiving ---------------------------------------------------------------------------

    def _on_message(self, account: str, _uid: int, msg: str) -> None:
        read = account == self.viewing
        line = ChatLine(account, False, msg, time.time(), "", "received", unread=not read)
        self._add(line)
        if not read:
            self.tones.message_sound()
            self.bus.publish(MessageReceived(account, msg))
            self.bus.publish(UnreadChanged(self.unread_total()))

    def _add(self, line: ChatLine) -> None:
        self.chats.setdefault(line.peer, []).append(line)
        self.store.add_line(self._me(), line)
        self.bus.publish(ChatChanged(line.peer))
