"""The user service (A5-A9): point-to-point messages, user attributes and status queries.

Construct it once with the hub: it registers its request handlers. Messages go to the store
first (the recipient's durable inbox) and then to the recipient through the broker, which
finds the recipient's session on this node or, in a cluster, on another one. Status queries
ask the broker, so they see every node.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sigphone.protocol import frames as f
from sigphone.protocol.errors import SignalError
from sigphone.protocol.limits import (
    MAX_MSG_ID_CHARS,
    MAX_P2P_MSG_CHARS,
    MAX_USER_ATTR_NAME_CHARS,
    MAX_USER_ATTR_VALUE_CHARS,
)
from sigphone.protocol.names import check_name, check_text
from sigphone.server.core.hub import Hub, ReplyData, chain
from sigphone.server.core.session import ServerSession

__all__ = ["Users"]


class Users:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.register(f.SetAttr, self._on_set_attr)
        hub.register(f.GetAttr, self._on_get_attr)
        hub.register(f.GetAttrAll, self._on_get_attr_all)
        hub.register(f.QueryStatus, self._on_query_status)
        hub.register(f.SendMsg, self._on_send)

    # --- Public methods (also for invoke and the Server API) ---------------------------

    def query_online(self, app: str, account: str) -> bool | asyncio.Future[bool]:
        """1-or-0 presence on any node (inside a reconnect window counts as online)."""
        return self.hub.broker.query_online(app, account)

    def get_attrs(self, app: str, account: str) -> asyncio.Future[dict[str, str]]:
        return self.hub.store.get_user_attrs(app, account)

    def set_user_attr(
        self, app: str, account: str, name: str, value: str
    ) -> asyncio.Future[ReplyData]:
        """Validate and store one user attribute, then tell the attribute hooks."""
        check_name(name, "attribute name", MAX_USER_ATTR_NAME_CHARS)
        check_text(value, "attribute value", MAX_USER_ATTR_VALUE_CHARS)

        def stored(_: object) -> ReplyData:
            self.hub.user_attr_stored(app, account, name, value)  # the hub's attribute hooks
            return {}

        return chain(self.hub.store.set_user_attr(app, account, name, value), stored)

    def send_message(
        self,
        app: str,
        sender: str,
        peer: str,
        msg: str,
        *,
        client_id: str = "",
        cseq: int = 0,
        reply: ReplyData = None,
        quota: bool = True,
        refused: Callable[[SignalError], None] | None = None,
    ) -> asyncio.Future[ReplyData]:
        """Store a point-to-point message durably, then route it to the peer if online.

        ``quota`` False (the app's own server) skips the per-sender quotas (Quotas);
        ``refused(error)`` runs first if the store refuses the message: inside the one
        callback on the store's future, not as a second callback (each is one more loop
        handle per message)."""
        hub = self.hub
        now = hub.clock()
        fut = hub.store.append_message(
            app,
            peer,
            sender,
            msg,
            ts=now,
            expires=now + hub.config.inbox_ttl,
            client_id=client_id,
            cseq=cseq,
            quota=quota,
        )

        def delivered(iid: int) -> ReplyData:
            if iid > 0:  # 0 or less: applied before (a resend), already routed then
                event = f.MsgEvent(account=sender, msg=msg, iid=iid, ts=now)
                hub.broker.route_message(app, peer, event, iid)
            return reply if reply is not None else {}

        def failed(exc: BaseException) -> None:
            if refused is not None and isinstance(exc, SignalError):
                refused(exc)

        return chain(fut, delivered, failed if refused is not None else None)

    # --- Requests ----------------------------------------------------------------------

    def _on_set_attr(self, session: ServerSession, frame: f.SetAttr) -> asyncio.Future[ReplyData]:
        return self.set_user_attr(session.app, session.account, frame.name, frame.value)

    @staticmethod
    def _attr_owner(session: ServerSession, account: str | None) -> str:
        return session.account if account is None else check_name(account, "account")

    def _on_get_attr(self, session: ServerSession, frame: f.GetAttr) -> asyncio.Future[ReplyData]:
        account = self._attr_owner(session, frame.account)
        check_name(frame.name, "attribute name", MAX_USER_ATTR_NAME_CHARS)
        return chain(
            self.get_attrs(session.app, account),
            lambda attrs: {"account": account, "name": frame.name, "value": attrs.get(frame.name)},
        )

    def _on_get_attr_all(
        self, session: ServerSession, frame: f.GetAttrAll
    ) -> asyncio.Future[ReplyData]:
        account = self._attr_owner(session, frame.account)
        return chain(
            self.get_attrs(session.app, account),
            lambda attrs: {"account": account, "value": json.dumps(attrs, ensure_ascii=False)},
        )

    def _on_query_status(
        self, session: ServerSession, frame: f.QueryStatus
    ) -> ReplyData | asyncio.Future[ReplyData]:
        account = check_name(frame.account, "account")
        online = self.query_online(session.app, account)
        if isinstance(online, asyncio.Future):
            return chain(online, lambda up: {"account": account, "status": int(up)})
        return {"account": account, "status": int(online)}

    def _on_send(
        self, session: ServerSession, frame: f.SendMsg
    ) -> ReplyData | asyncio.Future[ReplyData]:
        peer = check_name(frame.peer, "peer")
        check_text(frame.msg, "message", MAX_P2P_MSG_CHARS)
        if frame.msg_id:
            check_name(frame.msg_id, "message ID", MAX_MSG_ID_CHARS)
        reply = {"msg_id": frame.msg_id}
        hub = self.hub
        if hub.already_sent(session, frame.cseq):
            return reply  # a resend of a message already taken: acknowledge it again
        cseq = frame.cseq

        def refused(exc: SignalError) -> None:
            hub.remember_refusal(session, cseq, exc)

        result = self.send_message(
            session.app,
            session.account,
            peer,
            frame.msg,
            client_id=session.client_id,
            cseq=cseq,
            reply=reply,
            refused=refused if cseq else None,
        )
        if cseq:
            session.cseq = cseq
        return result
