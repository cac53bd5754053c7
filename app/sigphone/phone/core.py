"""``PhoneCore``: one account's phone, without Qt.

It builds the controllers around one ``EventBus``, one ``TaskSet``, one ``UserStore`` and
the phone's sound, and hands each new session to them. Views never see it directly: the Qt
adapter (``sigphone.ui.bridge.Bridge``) subscribes to ``bus`` and calls its controllers.
Tests drive it as it is, with no QApplication.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..sdk import SignalError
from .account import Account, SignalFactory, default_signal
from .calls import NO_ANSWER_SECONDS, CallController
from .chat import ChatController
from .contacts import ContactsController
from .events import ErrorText, EventBus
from .room import RoomController
from .sound import Tones
from .store import UserStore
from .tasks import TaskSet
from .texts import code_text

__all__ = ["PhoneCore", "PhoneOptions"]

log = logging.getLogger("sigphone.phone")


@dataclass
class PhoneOptions:
    #: Seconds an outgoing call rings before it ends with "No answer".
    no_answer_timeout: float = NO_ANSWER_SECONDS
    #: Seconds between presence polls (only without a presence subscription).
    presence_interval: float = 15.0


class PhoneCore:
    def __init__(
        self,
        store: UserStore,
        tones: Tones,
        signal_factory: SignalFactory = default_signal,
        options: PhoneOptions | None = None,
    ) -> None:
        options = options or PhoneOptions()
        self.store = store
        self.tones = tones
        self.bus = EventBus()
        self.tasks = TaskSet(self._task_failed)
        self.account = Account(self.bus, self.tasks, signal_factory)
        me = lambda: self.account.account  # noqa: E731 - read at use: it changes at login
        self.calls = CallController(
            self.bus, self.tasks, store, tones, me, options.no_answer_timeout
        )
        self.chat = ChatController(self.bus, self.tasks, store, tones, me)
        self.contacts = ContactsController(
            self.bus, self.tasks, store, me, options.presence_interval
        )
        self.room = RoomController(self.bus, self.tasks)
        for part in (self.calls, self.chat, self.contacts, self.room):
            self.account.on_session.append(part.attach)
            self.account.on_session_end.append(part.detach)

    def _task_failed(self, what: str, exc: BaseException) -> None:
        text = code_text(int(exc.code)) if isinstance(exc, SignalError) else str(exc) or repr(exc)
        self.bus.publish(ErrorText(f"{what} failed. {text}"))

    async def shutdown(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - a bound
        """Quit: stop sound, log out (bounded), cancel every task this phone started."""
        self.tones.stop()
        await self.account.shutdown(timeout)
        await self.calls.shutdown()
        await self.tasks.cancel_all(timeout)
