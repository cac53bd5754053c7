"""Live presence (A7, an addition to the seed): subscribe to other users' status and
attribute changes from the SDK. The seed offered this only on the Server API stream.

``presence_sub`` / ``presence_unsub`` carry a list of accounts; the subscriber then gets a
``user_status`` event whenever one of them logs in or its session ends, and a ``user_attr``
event whenever one of its user attributes is set or deleted. Subscriptions belong to the
server session: they survive a resume and end with the session. See docs/sdk.md.
"""

from __future__ import annotations

from .base import Event, Request

__all__ = [
    "MAX_PRESENCE_SUBSCRIBE_BATCH",
    "MAX_PRESENCE_SUBSCRIPTIONS",
    "PresenceSubscribe",
    "PresenceUnsubscribe",
    "UserAttrChanged",
    "UserStatusChanged",
]

#: Accounts one session may watch at a time (more: 1005 GENERAL_E_LARGE_PARAM).
MAX_PRESENCE_SUBSCRIPTIONS = 1000
#: Accounts in one subscribe or unsubscribe request.
MAX_PRESENCE_SUBSCRIBE_BATCH = 1000


class PresenceSubscribe(Request, tag="presence_sub"):
    """Watch ``accounts``; the reply's ``status`` maps each to 1 (online) or 0 now."""

    accounts: list[str]


class PresenceUnsubscribe(Request, tag="presence_unsub"):
    accounts: list[str]


class UserStatusChanged(Event, tag="user_status", frozen=True):
    """A watched account logged in (1) or its session ended (0)."""

    account: str
    status: int


class UserAttrChanged(Event, tag="user_attr", frozen=True):
    """A watched account's attribute ``name`` changed; ``value`` "" means deleted."""

    account: str
    name: str
    value: str
