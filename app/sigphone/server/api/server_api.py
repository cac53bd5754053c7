"""The Server API (MISSION S1): HTTP + JSON for the customer's own servers, on its own port.

Why a second port and aiohttp: the WebSocket front end only parses GET upgrade requests, and
a JSON API needs POST bodies, DELETE and a long-lived event stream; aiohttp is a well-kept
asyncio HTTP server (no hand-parsed HTTP) that runs on the same loop as the hub, so handlers
call the hub directly. Every ``/api/v1`` request is signed with the app certificate
(protocol/api_auth.py) and sees only its own app's data. See docs/server-api.md and the
OpenAPI document served at ``/api/openapi.json`` (docs/server-api.openapi.json).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from aiohttp import web

from sigphone.protocol.api_auth import (
    APP_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    verify,
)
from sigphone.protocol.calls import check_call_id
from sigphone.protocol.channels import CHANNEL_EVENT_CHANNEL, ChannelActivity
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import (
    MAX_FRAME_BYTES,
    MAX_P2P_MSG_CHARS,
    MAX_USERLIST_ALL,
)
from sigphone.protocol.names import check_name, check_text
from sigphone.protocol.text import loads, scrub
from sigphone.protocol.token import NO_NEED_TOKEN, make_token
from sigphone.server.api.openapi import OPENAPI
from sigphone.server.core.hub import Hub, resolve
from sigphone.server.core.session import ServerSession
from sigphone.server.edges.guard import HttpGuard
from sigphone.server.services.calls import CALLER, Calls
from sigphone.server.services.channels import Channels
from sigphone.server.services.users import Users

__all__ = ["ApiConfig", "ServerApi"]

log = logging.getLogger("sigphone.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The account a message sent through the API comes from when the request names none.
SERVER_SENDER = "_server"
#: Where the authenticated app ID is kept on a request.
APP_KEY: Any = web.RequestKey("sigphone_app", str) if hasattr(web, "RequestKey") else "sigphone_app"
#: Event types of the stream, for ``?types=``.
EVENT_TYPES = frozenset({"online", "offline", "attr", "call", "channel"})


@dataclass(slots=True)
class ApiConfig:
    #: Seconds a signed request's timestamp may differ from the server's clock.
    signature_window: float = 300.0
    #: Serve GET/POST /api/token (development apps only; never enable in production).
    dev_tokens: bool = False
    #: Lifetime of a development token for an app with a certificate.
    dev_token_ttl: int = 24 * 3600
    #: Events queued for one slow event-stream reader before it is cut off.
    stream_queue: int = 10_000
    #: Seconds between keep-alive comments on an idle event stream.
    stream_ping: float = 15.0
    #: Open connections at most (event streams included); the server may lower it to fit
    #: its open-file limit (edges/guard.py). Further ones are closed at once.
    max_connections: int = 256
    #: Seconds a new connection has to send its first request's headers (slow-loris).
    header_timeout: float = 10.0
    #: Seconds a request has to send its body.
    body_timeout: float = 10.0
    #: Seconds an idle keep-alive connection is kept (a later request's headers too).
    keepalive_timeout: float = 15.0


class _Subscriber:
    def __init__(self, app: str, types: frozenset[str], size: int) -> None:
        self.app = app
        self.types = types
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(size)

    def offer(self, event: dict[str, Any] | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # a slow reader is cut off rather than slowing the hub
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)


class _GuardedSite(web.TCPSite):
    """aiohttp's TCP site with each connection behind the HttpGuard (cap, header deadline)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: HttpGuard) -> None:
        super().__init__(runner, host, port)
        self._guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.wrap(server), self._host, self._port, backlog=self._backlog
        )
        self.bound_port: int = self._server.sockets[0].getsockname()[1]


def _sse_chunk(event: dict[str, Any]) -> bytes | None:
    """One server-sent event. Text that cannot be written is replaced and an event that
    cannot be encoded at all is skipped: one undeliverable item never ends the stream."""
    try:
        data = json.dumps(event, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        log.error("event stream: %s event skipped (%s)", event.get("type"), type(exc).__name__)
        return None
    return scrub(f"event: {event['type']}\ndata: {data}\n\n").encode()


def _error(status: int, code: int, reason: str) -> web.Response:
    return web.json_response({"code": int(code), "reason": reason}, status=status)


class ServerApi:
    """Constructed with the hub and the call service; ``start`` opens the HTTP port."""

    def __init__(
        self,
        hub: Hub,
        calls: Calls,
        channels: Channels,
        config: ApiConfig | None = None,
        *,
        users: Users,
    ) -> None:
        self.hub = hub
        self.users = users
        self.calls = calls
        self.channels = channels
        self.config = config or ApiConfig()
        self.guard = ReplayGuard(self.config.signature_window)
        self.subscribers: set[_Subscriber] = set()
        self._runner: web.AppRunner | None = None
        self.guard_http: HttpGuard | None = None
        self.port = 0
        hub.on_session_start(self._session_started)
        hub.on_session_end(self._session_ended)
        calls.listeners.append(self._broadcast)
        # In a cluster every node's stream carries every node's events (join and leave come
        # cluster-wide through the channel feed already; the rest through the broker).
        hub.broker.subscribe_all("api", self._from_any_node)
        for app_id in hub.apps:  # join/leave of every channel (the _agora_channel_event feed)
            channels.subscribe(
                app_id, CHANNEL_EVENT_CHANNEL, partial(self._channel_activity, app_id)
            )
        hub.on_user_attr(self._attr_stored)
        app = web.Application(middlewares=[self._errors], client_max_size=MAX_FRAME_BYTES)
        app.add_routes(
            [
                web.get("/api/openapi.json", self._openapi),
                web.get("/api/token", self._token),
                web.post("/api/token", self._token),
                web.get("/api/v1/users/{account}/status", self._user_status),
                web.delete("/api/v1/users/{account}/session", self._kick_user),
                web.get("/api/v1/users/{account}/attrs", self._user_attrs),
                web.put("/api/v1/users/{account}/attrs/{name}", self._set_user_attr),
                web.post("/api/v1/users/{account}/messages", self._send_message),
                web.get("/api/v1/channels/{channel}/users", self._channel_users),
                web.get("/api/v1/channels/{channel}/users/{account}", self._channel_isin),
                web.delete("/api/v1/channels/{channel}/users/{account}", self._kick_member),
                web.get("/api/v1/channels/{channel}/attrs", self._channel_attrs),
                web.put("/api/v1/channels/{channel}/attrs/{name}", self._set_channel_attr),
                web.delete("/api/v1/channels/{channel}/attrs/{name}", self._del_channel_attr),
                web.delete("/api/v1/channels/{channel}/attrs", self._clear_channel_attrs),
                web.post("/api/v1/channels/{channel}/messages", self._channel_message),
                web.post("/api/v1/calls", self._start_call),
                web.delete("/api/v1/calls/{call}", self._end_call),
                web.get("/api/v1/events", self._events),
            ]
        )
        self.web_app = app

    # --- Lifecycle -------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        self._runner = web.AppRunner(
            self.web_app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=self.config.keepalive_timeout,
        )
        await self._runner.setup()
        self.guard_http = HttpGuard(self.config.max_connections, self.config.header_timeout)
        site = _GuardedSite(self._runner, host, port, self.guard_http)
        await site.start()
        self.port = site.bound_port
        log.info("Server API on http://%s:%d/api/", host, self.port)
        return self.port

    async def close(self) -> None:
        for sub in list(self.subscribers):
            sub.offer(None)
        if self._runner is not None:
            await self._runner.cleanup()

    # --- Middleware: errors and authentication --------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/api/v1/"):
                request[APP_KEY] = await self._authenticate(request)
            return await handler(request)
        except SignalError as exc:
            auth = exc.code in (ErrorCode.LOGIN_E_TOKENWRONG, ErrorCode.LOGIN_E_TOKENEXPIRED)
            status = 401 if auth and request.get(APP_KEY) is None else 400
            if exc.code == ErrorCode.INVITE_E_OTHER:
                status = 404
            return _error(status, exc.code, exc.reason)

    async def _body(self, request: web.Request) -> bytes:
        """The request body, read within ``body_timeout`` (a slow body is refused: 408)."""
        try:
            async with asyncio.timeout(self.config.body_timeout):
                return await request.read()
        except TimeoutError:
            raise web.HTTPRequestTimeout() from None

    async def _authenticate(self, request: web.Request) -> str:
        app = request.headers.get(APP_HEADER, "")
        if app not in self.hub.apps:
            raise SignalError(ErrorCode.LOGIN_E_TOKENWRONG, "unknown app ID")
        verify(
            certificate=self.hub.apps[app],
            method=request.method,
            path_qs=request.raw_path,
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            nonce=request.headers.get(NONCE_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
            body=await self._body(request),
            now=time.time(),
            guard=self.guard,
        )
        return app

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = loads(await self._body(request) or b"{}", "body")  # the text rule of every edge
        except SignalError as exc:
            raise SignalError(exc.code, f"body must be JSON: {exc.reason}") from None
        if not isinstance(body, dict):
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "body must be a JSON object")
        return body

    # --- Endpoints -------------------------------------------------------------------------

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    async def _token(self, request: web.Request) -> web.Response:
        """Development tokens: lets a softphone log in without ever holding a certificate."""
        if not self.config.dev_tokens:
            raise web.HTTPNotFound()
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            params.update(await self._json(request))
        app = params.get("app_id", "")
        if not app and len(self.hub.apps) == 1:
            app = next(iter(self.hub.apps))  # a one-app server needs no app_id
        if app not in self.hub.apps:
            raise SignalError(ErrorCode.LOGIN_E_FAILED, "unknown app ID")
        account = check_name(params.get("account"), "account")
        cert = self.hub.apps[app]
        if cert is None:
            return web.json_response({"token": NO_NEED_TOKEN, "expires": 0})
        expires = int(time.time()) + self.config.dev_token_ttl
        return web.json_response(
            {"token": make_token(account, app, cert, expires), "expires": expires}
        )

    async def _user_status(self, request: web.Request) -> web.Response:
        account = check_name(request.match_info["account"], "account")
        status = int(await resolve(self.users.query_online(request[APP_KEY], account)))
        return web.json_response({"account": account, "status": status})

    async def _kick_user(self, request: web.Request) -> web.Response:
        """Log the account out (its SDK gets on_logout(103), as for a login elsewhere)."""
        app = request[APP_KEY]
        account = check_name(request.match_info["account"], "account")
        session = self.hub.sessions.get((app, account))
        if session is not None:
            session.by_app = True
            self.hub.end_session(session, ErrorCode.LOGOUT_E_KICKED, "logged out by the app")
            kicked = True
        else:  # on a cluster: the node holding the session ends it
            kicked = await resolve(self.hub.broker.kick_elsewhere(app, account))
        return web.json_response({"account": account, "kicked": int(kicked)})

    async def _kick_member(self, request: web.Request) -> web.Response:
        """Remove the account from the channel (on_channel_leaved(601) to it)."""
        channel, account = request.match_info["channel"], request.match_info["account"]
        kicked = await resolve(self.channels.remove_member(request[APP_KEY], channel, account))
        return web.json_response({"channel": channel, "account": account, "kicked": int(kicked)})

    async def _user_attrs(self, request: web.Request) -> web.Response:
        account = check_name(request.match_info["account"], "account")
        attrs = await self.users.get_attrs(request[APP_KEY], account)
        return web.json_response({"account": account, "attrs": attrs})

    async def _set_user_attr(self, request: web.Request) -> web.Response:
        app = request[APP_KEY]
        account = check_name(request.match_info["account"], "account")
        value: Any = (await self._json(request)).get("value")  # validated by the hub (1004)
        await self.users.set_user_attr(app, account, request.match_info["name"], value)
        return web.json_response({})

    async def _send_message(self, request: web.Request) -> web.Response:
        app = request[APP_KEY]
        peer = check_name(request.match_info["account"], "account")
        body = await self._json(request)
        sender = check_name(body.get("from", SERVER_SENDER), "from")
        msg = check_text(body.get("msg"), "msg", MAX_P2P_MSG_CHARS)
        # The app's own server: the per-sender quotas are for users (docs/deployment.md).
        await self.users.send_message(app, sender, peer, msg, quota=False)
        return web.json_response({})

    async def _channel_users(self, request: web.Request) -> web.Response:
        channel = check_name(request.match_info["channel"], "channel")
        app = request[APP_KEY]
        num, users = await resolve(self.channels.user_list(app, channel, MAX_USERLIST_ALL))
        return web.json_response({"channel": channel, "users": users, "num": num})

    async def _channel_isin(self, request: web.Request) -> web.Response:
        channel = check_name(request.match_info["channel"], "channel")
        account = check_name(request.match_info["account"], "account")
        isin = int(await resolve(self.channels.is_member(request[APP_KEY], channel, account)))
        return web.json_response({"channel": channel, "account": account, "isin": isin})

    async def _channel_attrs(self, request: web.Request) -> web.Response:
        channel = check_name(request.match_info["channel"], "channel")
        attrs = await resolve(self.channels.channel_attrs(request[APP_KEY], channel))
        return web.json_response({"channel": channel, "attrs": attrs})

    async def _set_channel_attr(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        await resolve(
            self.channels.set_attr_by_name(
                request[APP_KEY],
                request.match_info["channel"],
                request.match_info["name"],
                cast(str, body.get("value")),  # validated by the channel rules (str, <= 1024)
            )
        )
        return web.json_response({})

    async def _del_channel_attr(self, request: web.Request) -> web.Response:
        await resolve(
            self.channels.del_attr_by_name(
                request[APP_KEY], request.match_info["channel"], request.match_info["name"]
            )
        )
        return web.json_response({})

    async def _clear_channel_attrs(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        await resolve(self.channels.clear_attrs_by_name(request[APP_KEY], channel))
        return web.json_response({})

    async def _channel_message(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        sender = body.get("from", SERVER_SENDER)
        num = await resolve(
            self.channels.post_message(
                request[APP_KEY], request.match_info["channel"], sender, cast(str, body.get("msg"))
            )
        )
        return web.json_response({"num": num})

    async def _start_call(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        extra = body.get("extra", "")
        cid = self.calls.invite(
            request[APP_KEY],
            body.get("caller", ""),
            body.get("callee", ""),
            body.get("channel", ""),
            extra if isinstance(extra, str) else json.dumps(extra),
        )
        return web.json_response({"call": cid})

    async def _end_call(self, request: web.Request) -> web.Response:
        key = (request[APP_KEY], check_call_id(request.match_info["call"]))
        call = self.calls.calls.get(key)
        if call is None or call.caller_session is not None:
            raise SignalError(ErrorCode.INVITE_E_OTHER, "no such call made through the API")
        extra = (await self._json(request)).get("extra", "")
        self.calls.end(call, CALLER, extra if isinstance(extra, str) else json.dumps(extra))
        return web.json_response({})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        wanted = request.query.get("types")
        types = EVENT_TYPES if not wanted else frozenset(wanted.split(","))
        if not types <= EVENT_TYPES:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"types are {sorted(EVENT_TYPES)}")
        sub = _Subscriber(request[APP_KEY], types, self.config.stream_queue)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        self.subscribers.add(sub)
        try:
            await response.write(b": subscribed\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), self.config.stream_ping)
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if event is None:
                    break
                chunk = _sse_chunk(event)
                if chunk is not None:
                    await response.write(chunk)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.subscribers.discard(sub)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    # --- Event feeds ------------------------------------------------------------------------

    def _publish(self, app: str, event: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if sub.app == app and event["type"] in sub.types:
                sub.offer(event)

    def _broadcast(self, app: str, event: dict[str, Any]) -> None:
        self.hub.broker.publish_all("api", json.dumps([app, event], ensure_ascii=False))

    def _from_any_node(self, data: str) -> None:
        app, event = json.loads(data)
        self._publish(app, event)

    def _channel_activity(self, app: str, event: ChannelActivity) -> None:
        self._publish(
            app,
            {
                "type": "channel",
                "channel": event.channel,
                "account": event.account,
                "action": event.action,
                "code": event.code,
            },
        )

    def _session_started(self, session: ServerSession) -> None:
        self._broadcast(session.app, {"type": "online", "account": session.account})

    def _session_ended(self, session: ServerSession, code: ErrorCode) -> None:
        event = {"type": "offline", "account": session.account, "reason": int(code)}
        self._broadcast(session.app, event)

    def _attr_stored(self, app: str, account: str, name: str, value: str) -> None:
        self._broadcast(app, {"type": "attr", "account": account, "name": name, "value": value})
