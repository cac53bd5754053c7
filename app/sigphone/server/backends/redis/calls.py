"""Calls whose two sides are on different nodes (K1-K5 in a cluster).

A call lives on its caller's node (the owner), exactly as on one server: the same state
machine, timers and codes (services/calls.py). A callee on another node is represented
there by a *stub* session whose events travel to the callee's node over Redis; that node
pushes them to the real session and forwards the callee's requests (ack, accept, refuse, end,
message, DTMF) back to the owner, which answers them. Wire, in a node's channel:
``r\\n{json}`` with ``t`` = ``ev`` (an event for session ``sid``), ``req``/``rep`` (a callee
request and its answer) or ``end`` (the callee's session ended).

When a node dies, the other side's node sees its heartbeat expire (``node_ttl``): a callee
whose caller's node died gets ``end_by_peer`` ``{"ecode": 702}`` (INVITE_E_NET); a caller
whose callee's node died gets what a lost peer session gives on one server (``failed`` 702
while ringing, else ``end_by_peer`` ``{"logout": 102}``). The SDK of the side that was on the
dead node reconnects to a new session and ends its calls with 702 (sdk/call.py). A call is
never left ringing: the owner's timers (confirm 704, offline 703) run as on one server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from typing import Any

import msgspec

from sigphone.protocol import calls as k
from sigphone.protocol import frames as f
from sigphone.protocol.call_payloads import encode_end_reason
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.backends.redis import scripts as s
from sigphone.server.backends.redis.broker import RedisBroker
from sigphone.server.backends.redis.pipe import unwaited
from sigphone.server.core.hub import Handler, Hub, ReplyData, SyncOrFuture, chain
from sigphone.server.core.session import OutboxEntry, ServerSession
from sigphone.server.services.calls import CallConfig, Calls

__all__ = ["ClusterCalls"]

log = logging.getLogger("sigphone.server")

_CALLEE_REQUESTS = (k.CallAck, k.CallAccept, k.CallRefuse, k.CallEnd, k.CallMsg, k.CallDtmf)
_TERMINAL = frozenset({"failed", "end_by_peer", "end_by_myself", "refused_by_peer"})


class _RemoteLink:
    """The link of a stub: events go to the node holding the real session."""

    def __init__(self, calls: ClusterCalls, node: str, stub: ServerSession) -> None:
        self.calls, self.node, self.stub = calls, node, stub

    def send_event(self, seq: int, event: msgspec.Struct) -> None:
        self.stub.outbox.clear()  # the real session's node keeps (and acks) the events
        body = f.encode_event_body(event).decode()  # type: ignore[arg-type]
        message = {"t": "ev", "sid": self.stub.sid, "owner": self.calls.node, "ev": body}
        self.calls._to_node(self.node, message)

    def replay(self, outbox: deque[OutboxEntry], after_seq: int) -> None:
        return None

    def send_logout(self, code: int, reason: str) -> None:
        return None

    def close(self, code: int, reason: str) -> None:
        return None


class ClusterCalls(Calls):
    def __init__(self, hub: Hub, broker: RedisBroker, config: CallConfig | None = None) -> None:
        super().__init__(hub, config)
        self.broker = broker
        self.node = broker.node_id
        #: Owner side: (app, callee) -> its stub, while a call to it is under way.
        self.stubs: dict[tuple[str, str], ServerSession] = {}
        self._located: dict[tuple[str, str], ServerSession] = {}
        #: Callee side: call id -> (owner node, the callee's session).
        self.proxied: dict[str, tuple[str, ServerSession]] = {}
        self._replies: dict[int, asyncio.Future[ReplyData]] = {}
        self._ids = itertools.count(1)
        self._watch: asyncio.Task[None] | None = None
        broker.call_messages = self._on_message
        broker.subscribe_all("call-online", self._someone_online)
        hub.on_session_start(self._announce)
        #: The service's own handlers of the callee's requests (the owner runs them).
        self.local: dict[type[msgspec.Struct], Handler] = {
            t: hub.handlers[t] for t in _CALLEE_REQUESTS
        }
        for frame_type in _CALLEE_REQUESTS:
            hub.register(frame_type, self._route)

    # --- Owner side ----------------------------------------------------------------------

    def find_peer(self, app: str, callee: str) -> ServerSession | None:
        local = self.hub.sessions.get((app, callee))
        return local if local is not None else self._located.pop((app, callee), None)

    def _on_invite(self, session: ServerSession, frame: k.CallInvite) -> SyncOrFuture[ReplyData]:
        if (session.app, frame.peer) in self.hub.sessions or not isinstance(frame.peer, str):
            return self._invite_here(session, frame)
        self._ensure_watch()
        where = self.broker.locate(session.app, frame.peer)

        def located(found: tuple[str, str] | None) -> ReplyData:
            if found is not None and found[0] != self.node:
                stub = self._stub(session.app, frame.peer, *found)
                self._located[(session.app, frame.peer)] = stub
            try:
                return self._invite_here(session, frame)
            finally:
                self._located.pop((session.app, frame.peer), None)

        return chain(where, located)

    def _stub(self, app: str, account: str, node: str, sid: str) -> ServerSession:
        stub = self.stubs.get((app, account))
        if stub is None or stub.sid != sid:
            stub = ServerSession(app=app, account=account, client_id="", reconnect_time=0.0)
            stub.sid = sid
            stub.link = _RemoteLink(self, node, stub)
            self.stubs[(app, account)] = stub
        return stub

    def _ensure_watch(self) -> None:
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_nodes())

    def _announce(self, session: ServerSession) -> None:
        """A login anywhere may be the callee a call waits for (on any node)."""
        data = json.dumps([session.app, session.account, self.node, session.sid])
        self.broker.publish_all("call-online", data)

    def _someone_online(self, data: str) -> None:
        app, account, node, sid = json.loads(data)
        if node == self.node or (app, account) not in self.waiting:
            return
        self._ensure_watch()
        stub = self._stub(app, account, node, sid)
        self._session_started(stub)

    # --- Callee side: requests go to the owner -------------------------------------------

    def _route(self, session: ServerSession, frame: Any) -> SyncOrFuture[ReplyData]:
        proxied = self.proxied.get(getattr(frame, "call", ""))
        if proxied is None or proxied[1] is not session:
            return self.local[type(frame)](session, frame)
        owner, _ = proxied
        rid = next(self._ids)
        fut: asyncio.Future[ReplyData] = asyncio.get_running_loop().create_future()
        self._replies[rid] = fut
        self._to_node(owner, {"t": "req", "rid": rid, "from": self.node, "sid": session.sid,
                              "app": session.app, "frame": f.encode(frame).decode()})  # fmt: skip

        def expire() -> None:
            if not fut.done():
                fut.set_exception(SignalError(ErrorCode.INVITE_E_NET, "the call's node is away"))
            self._replies.pop(rid, None)

        asyncio.get_running_loop().call_later(self.broker.config.op_timeout * 2, expire)
        return fut

    def _session_ended(self, session: ServerSession, code: ErrorCode) -> None:
        super()._session_ended(session, code)
        for cid, (owner, callee) in list(self.proxied.items()):
            if callee is session:
                del self.proxied[cid]
                message = {"t": "end", "app": session.app, "call": cid, "code": int(code)}
                self._to_node(owner, message)

    # --- The wire ------------------------------------------------------------------------------

    def _to_node(self, node: str, message: dict[str, Any]) -> None:
        data = "r\n" + json.dumps(message, ensure_ascii=False)
        fut = self.broker.pipe.submit(lambda p: p.publish(s.node_channel(node), data))
        unwaited(fut)

    def _on_message(self, text: str) -> None:
        msg = json.loads(text)
        kind = msg["t"]
        if kind == "ev":
            session = self.hub.by_sid.get(msg["sid"])
            if session is None:
                return
            event = f.decode_event(msg["ev"].encode())
            if isinstance(event, k.CallIncoming):
                self._ensure_watch()
                self.proxied[event.call] = (msg["owner"], session)
            elif isinstance(event, k.CallEvent) and event.what in _TERMINAL:
                self.proxied.pop(event.call, None)
            self.hub.push(session, event)
        elif kind == "req":
            self._serve(msg)
        elif kind == "rep":
            fut = self._replies.pop(msg["rid"], None)
            if fut is not None and not fut.done():
                if msg.get("code"):
                    fut.set_exception(SignalError(msg["code"], msg.get("reason", "")))
                else:
                    fut.set_result(msg.get("data") or {})
        elif kind == "end":
            call = self.calls.get((msg["app"], msg["call"]))
            if call is not None and call.callee_session is not None:
                super()._session_ended(call.callee_session, ErrorCode(msg["code"]))

    def _serve(self, msg: dict[str, Any]) -> None:
        frame = f.decode_client(msg["frame"].encode())
        call = self.calls.get((msg["app"], getattr(frame, "call", "")))
        reply: dict[str, Any] = {"t": "rep", "rid": msg["rid"]}
        stub = call.callee_session if call is not None else None
        try:
            if stub is None or stub.sid != msg["sid"]:
                raise SignalError(ErrorCode.INVITE_E_OTHER, "no such call (it may have ended)")
            result = self.local[type(frame)](stub, frame)
        except SignalError as exc:
            reply.update(code=int(exc.code), reason=exc.reason)
            self._to_node(msg["from"], reply)
            return
        reply["data"] = result if not isinstance(result, asyncio.Future) else {}
        self._to_node(msg["from"], reply)

    # --- Nodes that die ------------------------------------------------------------------------

    async def _watch_nodes(self) -> None:
        lost = encode_end_reason(ErrorCode.INVITE_E_NET)
        while True:
            await asyncio.sleep(self.broker.config.heartbeat)
            nodes = {owner for owner, _ in self.proxied.values()}
            nodes |= {stub.link.node for stub in self.stubs.values()}  # type: ignore[union-attr]
            for node in nodes:
                with contextlib.suppress(Exception):
                    if await self.broker.node_alive(node):
                        continue
                    for cid, (owner, session) in list(self.proxied.items()):
                        if owner == node:
                            del self.proxied[cid]
                            event = k.CallEvent(call=cid, what="end_by_peer", extra=lost)
                            self.hub.push(session, event)
                    for key, stub in list(self.stubs.items()):
                        if stub.link.node == node:  # type: ignore[union-attr]
                            del self.stubs[key]
                            super()._session_ended(stub, ErrorCode.LOGOUT_E_NET)
