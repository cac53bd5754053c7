"""Contacts and their presence.

Adding checks the name at once (a valid account name, not yourself, not already there in any
letter case), so a contact never sits at "checking…" forever. Presence is live when the
session offers a subscription (``user_status_subscribe`` and ``on_user_status_changed``,
feature-detected); otherwise it is polled cheaply: all contacts in one concurrent round,
every ``presence_interval`` seconds, and only changes are published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..protocol.names import is_valid_name
from ..sdk import Session, SignalError
from .events import ContactsChanged, ErrorText, EventBus, PresenceChanged
from .store import UserStore
from .tasks import TaskSet

__all__ = ["ContactsController"]

log = logging.getLogger("sigphone.phone")


class ContactsController:
    def __init__(
        self,
        bus: EventBus,
        tasks: TaskSet,
        store: UserStore,
        me: Callable[[], str],
        presence_interval: float = 15.0,
    ) -> None:
        self.bus = bus
        self.tasks = tasks
        self.store = store
        self._me = me
        self.presence_interval = presence_interval
        self.session: Session | None = None
        self.presence: dict[str, bool] = {}
        #: True when the server pushes presence changes (no polling).
        self.live = False
        self._poll: asyncio.Task[None] | None = None

    def contacts(self) -> list[str]:
        me = self._me()
        return self.store.contacts(me) if me else []

    # --- Session life -----------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self.session = session
        self.presence.clear()
        self.live = callable(getattr(session, "user_status_subscribe", None))
        if self.live:
            session.on_user_status_changed = self._on_status
            contacts = self.contacts()
            if contacts:
                self.tasks.spawn(self._subscribe(contacts), "Presence")
        else:
            self._poll = self.tasks.spawn(self._poll_presence(), "Presence")

    def detach(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.session = None

    # --- Adding and removing ----------------------------------------------------------------

    def check(self, account: str) -> str | None:
        """None if ``account`` can be added, else the sentence saying why not."""
        account = account.strip()
        if not account:
            return "Type the account name of the person to add."
        if not is_valid_name(account):
            return f"“{account}” is not an account name: names have no spaces (1-128 characters)."
        if account.lower() == self._me().lower():
            return "That is your own account: add other people's accounts."
        for existing in self.contacts():
            if existing.lower() == account.lower():
                return f"{existing} is already in your contacts."
        return None

    def add(self, account: str) -> str | None:
        """Add ``account``; returns None, or the sentence for why it was not added."""
        account = account.strip()
        problem = self.check(account)
        if problem is not None:
            self.bus.publish(ErrorText(problem))
            return problem
        self.store.add_contact(self._me(), account)
        self.bus.publish(ContactsChanged())
        if self.live:
            self.tasks.spawn(self._subscribe([account]), "Presence")
        else:
            self.tasks.spawn(self._query([account]), "Presence")
        return None

    def remove(self, account: str) -> None:
        self.store.remove_contact(self._me(), account)
        self.presence.pop(account, None)
        self.bus.publish(ContactsChanged())
        session = self.session
        if self.live and session is not None:
            unsubscribe: Any = getattr(session, "user_status_unsubscribe", None)
            if callable(unsubscribe):
                self.tasks.spawn(self._quiet(unsubscribe([account])), "Presence")

    # --- Presence ---------------------------------------------------------------------------

    def _set(self, account: str, online: bool) -> None:
        if self.presence.get(account) != online:
            self.presence[account] = online
            self.bus.publish(PresenceChanged(account, online))

    def _on_status(self, account: str, status: Any) -> None:
        online = status == "online" if isinstance(status, str) else bool(status)
        self._set(account, online)

    async def _subscribe(self, accounts: list[str]) -> None:
        session = self.session
        if session is None:
            return
        try:
            result: Any = await session.user_status_subscribe(accounts)
        except SignalError as exc:
            log.info("presence subscription: %s", exc)
            await self._query(accounts)
            return
        if isinstance(result, dict):  # the current status of each, if the SDK returns it
            for account, status in result.items():
                self._on_status(account, status)
        else:
            await self._query(accounts)

    async def _poll_presence(self) -> None:
        while self.session is not None and self.session.get_status():
            if self.session.get_status() == 2:
                await self._query(self.contacts())
            await asyncio.sleep(self.presence_interval)

    async def _query(self, accounts: list[str]) -> None:
        session = self.session
        if session is None or session.get_status() != 2 or not accounts:
            return
        results = await asyncio.gather(
            *(session.query_user_status(a) for a in accounts), return_exceptions=True
        )
        for account, result in zip(accounts, results, strict=True):
            if isinstance(result, BaseException):
                log.info("presence of %s: %r", account, result)
                self._set(account, False)  # unknown reads as offline, never "checking…"
            else:
                self._set(account, bool(result))

    @staticmethod
    async def _quiet(coro: Any) -> None:
        try:
            await coro
        except SignalError as exc:
            log.info("presence: %s", exc)
