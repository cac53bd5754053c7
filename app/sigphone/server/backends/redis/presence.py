"""Live presence (A7) across the nodes: the presence service fed by every node.

The presence service (services/presence.py) has two entry points for changes,
``status_changed`` and ``attr_changed``. On a cluster the node that sees a change publishes
it through Redis and every node (this one included) feeds it to those entry points, so a
watcher hears about users on any node; the first status of a subscription comes from Redis.
A session kicked by a login elsewhere publishes no "offline": the account is online there (one
logged out by the app, ``by_app``, does).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sigphone.protocol.errors import ErrorCode
from sigphone.protocol.presence import PresenceSubscribe
from sigphone.server.backends.redis.broker import RedisBroker
from sigphone.server.core.hub import Hub, chain
from sigphone.server.core.session import ServerSession
from sigphone.server.services.presence import Presence

__all__ = ["cluster_presence"]


def cluster_presence(hub: Hub, broker: RedisBroker, presence: Presence) -> None:
    """Rewire an already constructed presence service for a cluster."""

    def publish_status(app: str, account: str, status: int) -> None:
        broker.publish_all("presence", json.dumps(["s", app, account, status]))

    def publish_attr(app: str, account: str, name: str, value: str) -> None:
        broker.publish_all("presence", json.dumps(["a", app, account, name, value]))

    def from_any_node(data: str) -> None:
        kind, app, account, *rest = json.loads(data)
        if kind == "s":
            Presence.status_changed(presence, app, account, *rest)
        else:
            Presence.attr_changed(presence, app, account, *rest)

    def session_ended(session: ServerSession, code: ErrorCode) -> None:
        for account in presence.watching.pop(session, ()):
            presence._unwatch(session, account)
        if code != ErrorCode.LOGOUT_E_KICKED or session.by_app:
            publish_status(session.app, session.account, 0)

    original_subscribe = hub.handlers[PresenceSubscribe]

    def subscribe(session: ServerSession, frame: PresenceSubscribe) -> Any:
        reply = original_subscribe(session, frame)  # validates and registers the watch
        # The presence service answers at once, with the local status of every account.
        assert isinstance(reply, dict)
        accounts = list(reply["status"])
        queries = asyncio.gather(*(broker.query_online(session.app, a) for a in accounts))
        return chain(
            queries,
            lambda found: {"status": dict(zip(accounts, map(int, found), strict=True))},
        )

    presence.status_changed = publish_status  # type: ignore[method-assign]
    hub.attr_hooks[:] = [
        publish_attr if getattr(h, "__self__", None) is presence else h for h in hub.attr_hooks
    ]
    hub.session_end_hooks[:] = [
        session_ended if getattr(h, "__self__", None) is presence else h
        for h in hub.session_end_hooks
    ]
    hub.register(PresenceSubscribe, subscribe)
    broker.subscribe_all("presence", from_any_node)
