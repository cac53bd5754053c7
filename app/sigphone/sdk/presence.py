"""Live presence in the SDK (A7, an addition to the seed): the ``Presence`` component.

``await session.user_status_subscribe(accounts)`` watches other users;
``on_user_status_changed(account, status)`` fires when one logs in (1) or its session ends
(0), ``on_user_attr_changed(account, name, value)`` when one of its attributes is set
(``value`` "" when deleted). The server keeps the subscriptions with the session, so they
survive a resume; after a fresh session (server restart, another node) this component
subscribes again. See docs/sdk.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..protocol import presence as p
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.names import check_name
from .requests import Handler, Requests

__all__ = ["Presence"]

log = logging.getLogger("sigphone.sdk")


class Presence:
    def __init__(self, requests: Requests) -> None:
        self._requests = requests
        #: The accounts this session watches (what a fresh session subscribes to again).
        self.accounts: set[str] = set()
        requests.on_relogin(self._resubscribe)

    def handlers(self) -> dict[type[Any], Handler]:
        return {p.UserStatusChanged: self._on_status, p.UserAttrChanged: self._on_attr}

    async def subscribe(self, accounts: Iterable[str]) -> dict[str, int]:
        wanted = _accounts(accounts)
        if len(self.accounts | set(wanted)) > p.MAX_PRESENCE_SUBSCRIPTIONS:
            raise SignalError(
                ErrorCode.GENERAL_E_LARGE_PARAM,
                f"at most {p.MAX_PRESENCE_SUBSCRIPTIONS} watched accounts per session",
            )
        data = await self._requests.request(p.PresenceSubscribe(accounts=wanted))
        self.accounts.update(wanted)
        status = data.get("status") or {}
        return {account: int(status.get(account, 0)) for account in wanted}

    async def unsubscribe(self, accounts: Iterable[str]) -> None:
        unwanted = _accounts(accounts)
        await self._requests.request(p.PresenceUnsubscribe(accounts=unwanted))
        self.accounts.difference_update(unwanted)

    async def _on_status(self, ev: p.UserStatusChanged) -> None:
        if ev.account in self.accounts:
            await self._hand("on_user_status_changed", ev.account, ev.status)

    async def _on_attr(self, ev: p.UserAttrChanged) -> None:
        if ev.account in self.accounts:
            await self._hand("on_user_attr_changed", ev.account, ev.name, ev.value)

    async def _hand(self, name: str, *args: Any) -> None:
        requests = self._requests
        await requests.hand(lambda: requests.on_session(name), name, *args)

    def _resubscribe(self) -> None:
        """A fresh server session knows no subscriptions: send them again (the request goes
        out after the login, before the read loop restarts; a task waits for the reply)."""
        if self.accounts:
            self._requests.spawn(self._send_again(sorted(self.accounts)))

    async def _send_again(self, accounts: list[str]) -> None:
        try:
            await self._requests.request(p.PresenceSubscribe(accounts=accounts))
        except SignalError as exc:
            log.warning("could not subscribe to presence again: %s", exc)


def _accounts(accounts: Iterable[str]) -> list[str]:
    if isinstance(accounts, str):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "accounts is a list of account names")
    names = [check_name(account, "account") for account in accounts]
    if len(names) > p.MAX_PRESENCE_SUBSCRIBE_BATCH:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM,
            f"at most {p.MAX_PRESENCE_SUBSCRIBE_BATCH} accounts per request",
        )
    return names
