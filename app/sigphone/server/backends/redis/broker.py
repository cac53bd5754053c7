"""Presence and routing of a cluster: which node holds each account, and getting there.

- A login claims the account's presence key (scripts.CLAIM); a session of that account on
  another node is told over that node's channel and ended there with 103.
- A stored point-to-point message is published by the storing script itself to the node of
  the recipient's session, so each node receives a recipient's messages in inbox-id order.
- Pub/sub is at most once: whenever this node (re)subscribes, for example after Redis
  restarted or a network cut, it reloads from the durable inboxes every message above what
  each of its sessions already got. Nothing acknowledged is lost; the SDK drops repeats.
- Every node heartbeats ``sig:alive:{node}``; presence on a node whose heartbeat expired
  counts as offline (the node died with its sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from redis.asyncio import Redis

from sigphone.protocol import frames as f
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.backends.base import ClusterConfig
from sigphone.server.backends.redis import admin_scripts as admin
from sigphone.server.backends.redis import scripts as s
from sigphone.server.backends.redis.pipe import NETWORK_ERRORS, Build, Pipe, redis_client
from sigphone.server.backends.redis.store import RedisStore

if TYPE_CHECKING:
    from sigphone.server.core.hub import Hub
    from sigphone.server.core.session import ServerSession

__all__ = ["RedisBroker"]

log = logging.getLogger("sigphone.server")

FEED = s.FEED_CHANNEL.encode()


class RedisBroker:
    def __init__(
        self, pipe: Pipe, store: RedisStore, config: ClusterConfig, node_id: str, url: str
    ) -> None:
        self.pipe = pipe
        self.store = store
        self.config = config
        self.node_id = node_id
        self._url = url
        self._hub: Hub | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        #: Times this node (re)subscribed and reloaded its sessions' inboxes.
        self.resubscribes = 0
        #: Receivers of channel history entries and special-feed events (the channel
        #: service sets them) and of "the channel had a gap" (after a resubscribe).
        self.channel_events: Callable[[str, str, str, str, str], None] | None = None
        self.call_messages: Callable[[str], None] | None = None
        #: Receiver of "the app removes this member held here" (app, channel, account).
        self.member_kicks: Callable[[str, str, str], None] | None = None
        #: Told about each session a dead node left behind, and about the dead node itself.
        self.reaped_sessions: list[Callable[[str, str], None]] = []
        self.reaped_nodes: list[Callable[[str], Awaitable[None]]] = []
        self.resubscribed: list[Callable[[], None]] = []
        self._topics: dict[str, Callable[[str], None]] = {}

    # --- Lifecycle -------------------------------------------------------------------

    async def start(self, hub: Hub) -> None:
        self._hub = hub
        self.pipe.start()
        with contextlib.suppress(Exception):  # unreachable: the heartbeat loop keeps trying
            await self._beat()
        self._tasks = [
            asyncio.create_task(self._listen(), name="sigphone-redis-listen"),
            asyncio.create_task(self._heartbeat(), name="sigphone-redis-heartbeat"),
            asyncio.create_task(self._reaper(), name="sigphone-redis-reaper"),
        ]
        # Serve only once the node's channel is subscribed: a login before that could miss
        # a message routed to it (a later reload would still deliver it, but late).
        try:
            async with asyncio.timeout(max(self.config.op_timeout, 5.0)):
                await self._subscribed.wait()
        except TimeoutError:
            log.warning("Redis not reachable at start; serving, and retrying in the background")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await self.pipe.submit(lambda p: p.delete(s.alive_key(self.node_id)))
        await self.pipe.close()

    # --- Broker protocol ---------------------------------------------------------------

    def claim(self, session: ServerSession) -> asyncio.Future[None]:
        pres = s.key("pres", session.app, session.account)
        client = _digest(session.client_id)

        def superseded(reply: Any) -> None:
            if int(reply) < 0:
                raise SignalError(ErrorCode.LOGIN_E_FAILED, "superseded by a newer login")

        return self.pipe.submit(
            lambda p: self.pipe.script(
                p, s.CLAIM, 1, pres, self.node_id, session.sid, session.app, session.account,
                client, session.login_id,
            ),
            superseded,
        )  # fmt: skip

    def release(self, session: ServerSession) -> None:
        pres = s.key("pres", session.app, session.account)
        fut = self.pipe.submit(
            lambda p: self.pipe.script(
                p, s.RELEASE, 1, pres, self.node_id, session.sid, session.app, session.account
            )
        )
        # A failure leaves a stale presence: it points at a session no node has, and the
        # next login of the account replaces it; nothing waits for this.
        fut.add_done_callback(lambda fut: fut.cancelled() or fut.exception())

    def query_online(self, app: str, account: str) -> asyncio.Future[bool]:
        pres = s.key("pres", app, account)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, s.ONLINE, 1, pres), lambda r: bool(int(r))
        )

    def locate(self, app: str, account: str) -> asyncio.Future[tuple[str, str] | None]:
        """(node, sid) of the account's session if its node is alive, else None."""
        pres = s.key("pres", app, account)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, s.LOCATE, 1, pres),
            lambda r: (r[0].decode(), r[1].decode()) if r else None,
        )

    def node_alive(self, node: str) -> asyncio.Future[bool]:
        alive = s.alive_key(node)
        return self.pipe.submit(lambda p: p.exists(alive), lambda r: bool(int(r)))

    def route_message(self, app: str, peer: str, event: msgspec.Struct, iid: int) -> None:
        return None  # the storing script published it to the peer's node (scripts.APPEND)

    def kick_elsewhere(self, app: str, account: str) -> asyncio.Future[bool]:
        """Tell the node holding ``account``'s session to end it (admin_scripts.KICK_USER):
        True once that node's channel received it; False if no live node holds one."""
        pres = s.key("pres", app, account)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, admin.KICK_USER, 1, pres, self.node_id),
            lambda r: int(r) > 0,
        )

    def health(self) -> dict[str, Any]:
        fresh = time.monotonic() - self.pipe.last_ok < max(3 * self.config.heartbeat, 1.0)
        return {"node": self.node_id, "redis": "ok" if fresh else "unreachable"}

    def publish_all(self, topic: str, data: str) -> None:
        text = topic + "\n" + data
        fut = self.pipe.submit(lambda p: p.publish(s.FEED_CHANNEL, text))
        fut.add_done_callback(lambda fut: fut.cancelled() or fut.exception())

    def subscribe_all(self, topic: str, handler: Callable[[str], None]) -> None:
        self._topics[topic] = handler

    # --- Heartbeat -----------------------------------------------------------------------

    def _beat(self) -> asyncio.Future[Any]:
        ttl_ms = int(self.config.node_ttl * 1000)
        alive = s.alive_key(self.node_id)
        self.pipe.submit(lambda p: p.sadd(s.NODES, self.node_id))
        return self.pipe.submit(lambda p: p.set(alive, str(time.time()), px=ttl_ms))

    # --- Taking over after a dead node --------------------------------------------------

    async def _reaper(self) -> None:
        """Every node watches the others; one (a lock in Redis) cleans up after a node dead
        for ``reap_grace`` seconds: its sessions' presence goes (offline events follow), and
        the channel members it held leave (604), unless they moved to a live node meanwhile."""
        dead_since: dict[str, float] = {}
        while True:
            await asyncio.sleep(self.config.heartbeat)
            try:
                nodes = await self.pipe.submit(lambda p: p.smembers(s.NODES))
                for raw in nodes:
                    node = raw.decode()
                    if node == self.node_id or await self.node_alive(node):
                        dead_since.pop(node, None)
                        continue
                    first = dead_since.setdefault(node, time.monotonic())
                    if time.monotonic() - first < self.config.reap_grace:
                        continue
                    lock = f"{s.PREFIX}reap:{node}"
                    got = await self.pipe.submit(self._take_lock(lock))
                    if got:
                        await self._reap(node)
                        dead_since.pop(node, None)
            except Exception as exc:
                log.debug("reaper pass failed: %r", exc)

    async def _reap(self, node: str) -> None:
        log.info("node %s is dead: taking over its sessions and channel members", node)
        sessions = await self.pipe.submit(lambda p: p.smembers(f"{s.PREFIX}sess:{node}"))
        for raw in sessions:
            app, account, sid = raw.decode().split("\n", 2)
            pres = s.key("pres", app, account)
            released = await self.pipe.submit(self._release(pres, node, sid, app, account))
            if int(released):
                for hook in self.reaped_sessions:
                    hook(app, account)
        for take_over in self.reaped_nodes:
            await take_over(node)
        self.pipe.submit(lambda p: p.srem(s.NODES, node))
        self.pipe.submit(lambda p: p.delete(f"{s.PREFIX}sess:{node}"))

    def _take_lock(self, lock: str) -> Build:
        """The reap lock of a dead node: one live node cleans up after it."""
        return lambda p: p.set(lock, self.node_id, nx=True, ex=60)

    def _release(self, pres: str, node: str, sid: str, app: str, account: str) -> Build:
        """Drop a dead node's presence of ``account`` (unless it moved to a live node)."""
        return lambda p: self.pipe.script(p, s.RELEASE, 1, pres, node, sid, app, account)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            with contextlib.suppress(Exception):
                await self._beat()

    # --- This node's channel ---------------------------------------------------------------

    async def _listen(self) -> None:
        delay = 0.05
        while True:
            client: Redis = redis_client(self._url, None)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(s.node_channel(self.node_id), s.FEED_CHANNEL)
                delay = 0.05
                first = not self._subscribed.is_set()
                self._subscribed.set()
                if not first:
                    self.resubscribes += 1
                    log.info("Redis channel subscribed again: reloading the inboxes")
                    asyncio.create_task(self._reload_all())  # noqa: RUF006 - ends by itself
                    for hook in self.resubscribed:
                        hook()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is None:
                        continue
                    if message["channel"] == FEED:
                        topic, _, data = message["data"].decode().partition("\n")
                        handler = self._topics.get(topic)
                        if handler is not None:
                            handler(data)
                    else:
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except NETWORK_ERRORS as exc:
                log.warning("Redis channel lost (%r); resubscribing", exc)
            except Exception:
                log.exception("Redis channel listener failed; resubscribing")
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py: untyped
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _on_message(self, data: bytes) -> None:
        hub = self._hub
        if hub is None:
            return
        kind, _, rest = data.decode().partition("\n")
        if kind == "m":
            iid, app, account, body = rest.split("\n", 3)
            session = hub.sessions.get((app, account))
            if session is None:
                return  # not (or no longer) here: the inbox keeps it for the next login
            sender, msg, ts, _expires = json.loads(body)
            event = f.MsgEvent(account=sender, msg=msg, iid=int(iid), ts=float(ts))
            hub.deliver_message(app, account, event, int(iid))
        elif kind == "c":
            if self.channel_events is not None:
                app, name, offset, quiet, payload = rest.split("\n", 4)
                self.channel_events(app, name, offset, quiet, payload)
        elif kind == "r":
            if self.call_messages is not None:
                self.call_messages(rest)
        elif kind == "x":  # the app logged this session out (Server API, another node)
            session = hub.by_sid.get(rest)
            if session is not None:
                session.by_app = True
                hub.end_session(session, ErrorCode.LOGOUT_E_KICKED, "logged out by the app")
        elif kind == "a":  # the app removes a channel member held here
            if self.member_kicks is not None:
                app, channel, account = rest.split("\n", 2)
                self.member_kicks(app, channel, account)
        elif kind == "k":
            sid, _, client = rest.partition("\n")
            session = hub.by_sid.get(sid)
            same = bool(client) and session is not None and _digest(session.client_id) == client
            hub.kick(
                sid, ErrorCode.LOGOUT_E_KICKED, "logged in on another device", same_client=same
            )

    async def _reload_all(self) -> None:
        """After a gap in the channel: every session gets what it missed, from its inbox."""
        hub = self._hub
        if hub is None:
            return
        loads = []
        for session in list(hub.sessions.values()):
            if session.closed or session.held is not None:
                continue  # a login under way loads its inbox after subscribing anyway
            hub.hold(session)
            fut = self.store.load_inbox(
                session.app, session.account, now=hub.clock(), after=session.max_iid
            )
            loads.append((session, fut))
        for session, fut in loads:  # submitted together: one round trip for all
            try:
                records = await fut
            except Exception as exc:
                log.warning("reloading the inbox of %s failed: %r", session.account, exc)
                records = []
            hub.release_held(session, records)


def _digest(client_id: str) -> str:
    """A client id as presence stores it (client ids are the client's free text)."""
    return hashlib.sha1(client_id.encode()).hexdigest()[:16] if client_id else ""
