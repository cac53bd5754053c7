"""Live presence (A7, an addition to the seed): SDK sessions watch other users' status and
attribute changes.

Who watches whom is kept per server session (so it survives a resume and ends with the
session). Changes come in through two entry points, ``status_changed`` and
``attr_changed``: here the hub's hooks call them for this process; on a cluster the node
that sees a change publishes it and every node feeds it to these same two methods, so the
watcher side needs no change (docs/sdk.md, "Live presence").
"""

from __future__ import annotations

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.names import check_name
from sigphone.protocol.presence import (
    MAX_PRESENCE_SUBSCRIBE_BATCH,
    MAX_PRESENCE_SUBSCRIPTIONS,
    PresenceSubscribe,
    PresenceUnsubscribe,
    UserAttrChanged,
    UserStatusChanged,
)
from sigphone.server.core.hub import Hub, ReplyData
from sigphone.server.core.session import ServerSession

__all__ = ["Presence"]

Key = tuple[str, str]  # (app, account)


class Presence:
    def __init__(self, hub: Hub, max_per_session: int = MAX_PRESENCE_SUBSCRIPTIONS) -> None:
        self.hub = hub
        self.max_per_session = max_per_session
        #: (app, account) -> the sessions watching it.
        self.watchers: dict[Key, set[ServerSession]] = {}
        #: session -> the accounts it watches (in its app).
        self.watching: dict[ServerSession, set[str]] = {}
        hub.register(PresenceSubscribe, self._on_subscribe)
        hub.register(PresenceUnsubscribe, self._on_unsubscribe)
        hub.on_session_start(lambda session: self.status_changed(session.app, session.account, 1))
        hub.on_session_end(self._session_ended)
        hub.on_user_attr(self.attr_changed)

    # --- Requests -----------------------------------------------------------------------

    def _on_subscribe(self, session: ServerSession, frame: PresenceSubscribe) -> ReplyData:
        accounts = _accounts(frame.accounts)
        mine = self.watching.get(session, set())
        if len(mine | set(accounts)) > self.max_per_session:
            raise SignalError(
                ErrorCode.GENERAL_E_LARGE_PARAM,
                f"at most {self.max_per_session} watched accounts per session",
            )
        mine = self.watching.setdefault(session, mine)
        for account in accounts:
            mine.add(account)
            self.watchers.setdefault((session.app, account), set()).add(session)
        status = {a: int(self.hub.is_online(session.app, a)) for a in accounts}
        return {"status": status}

    def _on_unsubscribe(self, session: ServerSession, frame: PresenceUnsubscribe) -> ReplyData:
        accounts = _accounts(frame.accounts)
        mine = self.watching.get(session)
        if mine is not None:
            for account in accounts:
                mine.discard(account)
                self._unwatch(session, account)
            if not mine:
                del self.watching[session]
        return {}

    def _unwatch(self, session: ServerSession, account: str) -> None:
        key = (session.app, account)
        sessions = self.watchers.get(key)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self.watchers[key]

    # --- Changes (the entry points a cluster feeds too) ---------------------------------

    def status_changed(self, app: str, account: str, status: int) -> None:
        """``account`` logged in (1) or its session ended (0): tell its watchers."""
        self._tell(app, account, UserStatusChanged(account=account, status=status))

    def attr_changed(self, app: str, account: str, name: str, value: str) -> None:
        """A user attribute was stored ("" = deleted): tell the account's watchers."""
        self._tell(app, account, UserAttrChanged(account=account, name=name, value=value))

    def _tell(self, app: str, account: str, event: UserStatusChanged | UserAttrChanged) -> None:
        sessions = self.watchers.get((app, account))
        if not sessions:
            return
        for session in list(sessions):  # a push may end a slow consumer (and unwatch it)
            self.hub.push(session, event)

    def _session_ended(self, session: ServerSession, code: ErrorCode) -> None:
        for account in self.watching.pop(session, ()):
            self._unwatch(session, account)
        if not self.hub.is_online(session.app, session.account):
            self.status_changed(session.app, session.account, 0)


def _accounts(accounts: list[str]) -> list[str]:
    if len(accounts) > MAX_PRESENCE_SUBSCRIBE_BATCH:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM,
            f"at most {MAX_PRESENCE_SUBSCRIBE_BATCH} accounts per request",
        )
    return [check_name(account, "account") for account in accounts]
