"""A logged-in session: requests, events, acknowledgements, reconnection and resume.

Delivery guarantees (docs/protocol.md): every server event carries a sequence number; the
session hands events to the application in order, skips anything it has already seen, and
acknowledges only what the application's callback has finished with. After a network break
it reconnects and resumes: the server replays what was not received. Requests still waiting
for a reply are sent again after a reconnect; message sends carry a per-client number so the
server applies each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .. import __version__
from ..protocol import frames as f
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.limits import (
    MAX_MSG_ID_CHARS,
    MAX_P2P_MSG_CHARS,
    MAX_USER_ATTR_NAME_CHARS,
    MAX_USER_ATTR_VALUE_CHARS,
    MAX_WIRE_BYTES,
)
from ..protocol.names import check_name, check_text
from .call import CallOps
from .callbacks import invoke
from .channel import ChannelOps

if TYPE_CHECKING:
    from .signal import Signal

__all__ = ["Session", "Status"]

log = logging.getLogger("sigphone.sdk")

#: Errors worth another connection attempt (the network, not the server's verdict).
NETWORK_ERRORS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, EOFError)


class Status:
    """Values of ``get_status()`` (Web API)."""

    LOGGED_OUT = 0
    CONNECTING = 1
    LOGGED_IN = 2


@dataclass(slots=True)
class _Pending:
    frame: bytes
    future: asyncio.Future[dict[str, Any]]


@dataclass(slots=True)
class _Event:
    epoch: str  # the server session it belongs to; acks go only to that one
    seq: int
    event: msgspec.Struct


@dataclass(slots=True)
class _Callback:
    name: str
    args: tuple[Any, ...]


_STOP = object()


def _logout_code(login_code: int) -> ErrorCode:
    """The onLogout reason for a login refused while reconnecting."""
    if login_code == ErrorCode.LOGIN_E_TOKENEXPIRED:
        return ErrorCode.LOGOUT_E_TOKENEXPIRED
    if 100 <= login_code < 200:
        return ErrorCode(login_code)
    return ErrorCode.LOGOUT_E_OTHER


class Session(ChannelOps, CallOps):
    """Returned by ``Signal.login``. Assign callbacks as attributes (plain or async functions).

    Callbacks run one at a time, in order, on the event loop, after ``login`` has returned:
    set them right after ``await signal.login(...)`` and nothing is missed.
    """

    # --- Callbacks (seed name -> attribute); see docs/sdk.md ---------------------------
    on_logout: Callable[[int], Any] | None = None
    on_reconnecting: Callable[[int], Any] | None = None
    on_reconnected: Callable[[int], Any] | None = None
    on_error: Callable[[BaseException], Any] | None = None
    on_message_instant_receive: Callable[[str, int, str], Any] | None = None
    on_message_send_success: Callable[[str], Any] | None = None
    on_message_send_error: Callable[[str, int], Any] | None = None
    on_user_attr_result: Callable[[str, str, str | None], Any] | None = None
    on_user_attr_all_result: Callable[[str, str], Any] | None = None

    def __init__(
        self,
        signal: Signal,
        account: str,
        token: str,
        reconnect_count: int,
        reconnect_time: float,
    ) -> None:
        self.signal = signal
        self.account = account
        self._token = token
        self.reconnect_count = reconnect_count
        self.reconnect_time = reconnect_time
        self._client_id = secrets.token_hex(16)
        self._status = Status.CONNECTING
        self._ws: ClientConnection | None = None
        self._sid = ""  # server session id (the epoch of sequence numbers)
        self._received = 0  # highest event seq received in this epoch
        self._processed = 0  # highest event seq the application has finished with
        self._acked = 0
        self._last_iid = 0  # highest inbox message id handed to the application
        self._ids = itertools.count(1)
        self._cseq = 0
        self._pending: dict[int, _Pending] = {}
        self._queue: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._ack_timer: asyncio.TimerHandle | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._logout_code: ErrorCode | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Coroutines run after a reconnect that could not resume the server session (the
        #: server restarted): parts of the SDK restore server-side state there (channels).
        self.relogin_hooks: list[Callable[[], Any]] = []
        #: Called with the logout code when the session ends, before on_logout is queued.
        self.end_hooks: list[Callable[[ErrorCode], None]] = []
        self.resumed = False

    # --- Status ------------------------------------------------------------------------

    def get_status(self) -> int:
        """0 logged out, 1 connecting (or reconnecting), 2 logged in."""
        return self._status

    def is_online(self) -> bool:
        return self._status == Status.LOGGED_IN

    @property
    def uid(self) -> int:
        return 0  # obsolete in both seeds, always 0

    # --- Connecting --------------------------------------------------------------------

    async def _connect(self, index: int, *, resume: bool) -> None:
        """Open a connection to server ``index`` of the list and log in on it (resuming the
        server session if asked)."""
        sig = self.signal
        sig.server_index = index % len(sig.servers)
        url = sig.server
        tls = {"ssl": sig.ssl} if sig.ssl is not None and url.startswith("wss:") else {}
        ws = await connect(
            url,
            **tls,
            compression=None,
            max_size=MAX_WIRE_BYTES,
            open_timeout=sig.connect_timeout,
            ping_interval=sig.ping_interval,
            ping_timeout=sig.ping_interval,
            close_timeout=1.0,
            proxy=None,
            user_agent_header=f"sigphone-sdk/{__version__}",
        )
        try:
            login = f.Login(
                id=next(self._ids),
                app_id=sig.app_id,
                account=self.account,
                token=self._token,
                client_id=self._client_id,
                reconnect_time=float(self.reconnect_time),
                sdk=__version__,
                resume=f.Resume(self._sid, self._received, self._processed)
                if resume and self._sid
                else None,
                inbox_ack=self._last_iid,
            )
            await ws.send(f.encode(login), text=True)
            async with asyncio.timeout(sig.connect_timeout):
                while True:
                    reply = f.decode_server(await ws.recv(decode=False))
                    if isinstance(reply, f.Reply) and reply.id == login.id:
                        break
                    if isinstance(reply, f.ErrorFrame):
                        raise SignalError(reply.code, reply.reason)
            if reply.code:
                raise SignalError(reply.code, reply.reason)
        except BaseException:
            await ws.close()
            raise
        data = reply.data or {}
        self.resumed = bool(data.get("resumed"))
        if not self.resumed:
            self._received = self._processed = self._acked = 0
        self._sid = str(data.get("session", ""))
        self._ws = ws
        self._status = Status.LOGGED_IN

    async def _first_login(self) -> None:
        """Log in on the first server of the list that answers (a verdict ends the search)."""
        servers = self.signal.servers
        for index in range(len(servers)):
            try:
                await self._connect(index, resume=False)
                return
            except SignalError:
                self._status = Status.LOGGED_OUT
                raise
            except (*NETWORK_ERRORS, InvalidURI, msgspec.DecodeError) as exc:
                log.info("cannot reach %s: %r", servers[index], exc)
                if index + 1 < len(servers):
                    continue
                self._status = Status.LOGGED_OUT
                raise SignalError(ErrorCode.LOGIN_E_NET, f"cannot reach the server: {exc}") from exc
            except BaseException:
                self._status = Status.LOGGED_OUT
                raise

    def _start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="sigphone-dispatch")
        self._supervisor = asyncio.create_task(self._supervise(), name="sigphone-connection")

    async def _supervise(self) -> None:
        try:
            while True:
                assert self._ws is not None
                ended = await self._read_loop(self._ws)
                if ended or self._closing:
                    return
                if not await self._reconnect():
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: report it and end the session cleanly
            log.exception("connection supervisor failed")
            self._emit("on_error", exc)
            self._finish(ErrorCode.LOGOUT_E_OTHER)

    async def _read_loop(self, ws: ClientConnection) -> bool:
        """Read frames until the connection drops (False) or the server ends us (True)."""
        try:
            while True:
                data = await ws.recv(decode=False)
                try:
                    frame = f.decode_server(data)
                except msgspec.MsgspecError as exc:
                    log.warning("undecodable frame from server: %s", exc)
                    continue
                if isinstance(frame, f.EventFrame):
                    if frame.seq <= self._received:
                        continue  # replayed and already here
                    self._received = frame.seq
                    try:
                        event = f.decode_event(frame.ev)
                    except msgspec.MsgspecError as exc:
                        log.warning("unknown event kind: %s", exc)
                        self._processed = max(self._processed, frame.seq)
                        continue
                    self._queue.append(_Event(self._sid, frame.seq, event))
                    self._ready.set()
                elif isinstance(frame, f.Reply):
                    pending = self._pending.pop(frame.id, None)
                    if pending is not None and not pending.future.done():
                        if frame.code:
                            pending.future.set_exception(SignalError(frame.code, frame.reason))
                        else:
                            pending.future.set_result(frame.data or {})
                elif isinstance(frame, f.LogoutFrame):
                    log.info("server ended the session: %s %s", frame.code, frame.reason)
                    self._ws = None
                    self._finish(ErrorCode.coerce(frame.code))
                    await ws.close()
                    return True
                elif isinstance(frame, f.ErrorFrame):
                    self._emit("on_error", SignalError(frame.code, frame.reason))
        except ConnectionClosed:
            pass
        self._ws = None
        return False

    def _backoff(self, attempt: int) -> float:
        if attempt == 1:
            return 0.0
        base = min(
            self.signal.reconnect_delay * 2 ** (attempt - 2), self.signal.reconnect_delay_max
        )
        return base * random.uniform(0.8, 1.2)

    async def _reconnect(self) -> bool:
        """Try to get back in within reconnect_count attempts and reconnect_time seconds."""
        self._status = Status.CONNECTING
        started = time.monotonic()
        lost = self.signal.server_index  # attempt 1 goes back there (a blip keeps the resume),
        for attempt in itertools.count(1):  # then each attempt tries the next address
            remaining = self.reconnect_time - (time.monotonic() - started)
            if attempt > self.reconnect_count or remaining <= 0:
                break
            self._emit("on_reconnecting", attempt)
            delay = self._backoff(attempt)
            if delay >= remaining:
                await asyncio.sleep(remaining)
                break
            await asyncio.sleep(delay)
            try:
                await self._connect(lost + attempt - 1, resume=True)
            except SignalError as exc:
                if exc.code == ErrorCode.GENERAL_E_FAILED:  # rate limited: try again
                    continue
                log.info("reconnect refused: %s", exc)
                self._finish(_logout_code(exc.code))
                return False
            except (*NETWORK_ERRORS, msgspec.DecodeError) as exc:
                log.debug("reconnect attempt %d failed: %r", attempt, exc)
                continue
            log.info("reconnected after %d attempt(s)", attempt)
            for rid in sorted(self._pending):
                self._send(self._pending[rid].frame)
            if not self.resumed:
                for hook in self.relogin_hooks:
                    await invoke(hook, on_error=self._callback_failed)
            self._emit("on_reconnected", 0)
            self._schedule_ack(now=True)
            return True
        self._finish(ErrorCode.LOGOUT_E_NET)
        return False

    def _send(self, data: bytes) -> None:
        ws = self._ws
        if ws is None:
            return  # sent again after the reconnect
        task = asyncio.ensure_future(ws.send(data, text=True))
        self._tasks.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)  # type: ignore[arg-type]
        if not task.cancelled() and task.exception() is not None:
            log.debug("send failed: %r", task.exception())

    def _finish(self, code: ErrorCode) -> None:
        """The session is over (reason ``code``): fail what waits, tell the application."""
        if self._logout_code is not None:
            return
        self._logout_code = code
        self._status = Status.LOGGED_OUT
        self._closing = True
        if self._ack_timer is not None:
            self._ack_timer.cancel()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(SignalError(code, "the session has ended"))
        self._pending.clear()
        for hook in self.end_hooks:
            hook(code)
        self._emit("on_logout", int(code))
        self._queue.append(_STOP)
        self._ready.set()

    # --- Requests ------------------------------------------------------------------------

    async def _request(
        self, frame: f.Request, *, timeout_code: ErrorCode = ErrorCode.GENERAL_E_FAILED
    ) -> dict[str, Any]:
        if self._status == Status.LOGGED_OUT:
            raise SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "not logged in")
        frame.id = next(self._ids)
        data = f.encode(frame)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[frame.id] = _Pending(data, fut)
        if self._status == Status.LOGGED_IN:
            self._send(data)
        try:
            async with asyncio.timeout(self.signal.request_timeout):
                return await fut
        except TimeoutError:
            raise SignalError(timeout_code, "no answer from the server in time") from None
        finally:
            self._pending.pop(frame.id, None)

    # --- Events ---------------------------------------------------------------------------

    def _emit(self, name: str, *args: Any) -> None:
        """Queue a local callback behind the events already received (keeps order)."""
        self._queue.append(_Callback(name, args))
        self._ready.set()

    async def _dispatch_loop(self) -> None:
        while True:
            while not self._queue:
                self._ready.clear()
                await self._ready.wait()
            item = self._queue.popleft()
            if item is _STOP:
                return
            if isinstance(item, _Callback):
                await self._call(item.name, *item.args)
                continue
            await self._on_event(item.event)
            if item.epoch == self._sid and item.seq > self._processed:
                self._processed = item.seq
                self._schedule_ack()

    async def _call(self, name: str, *args: Any) -> None:
        await invoke(getattr(self, name), *args, on_error=self._callback_failed)

    def _callback_failed(self, exc: BaseException) -> Any:
        return None if self.on_error is None else self.on_error(exc)

    async def _on_event(self, event: msgspec.Struct) -> None:
        if isinstance(event, f.MsgEvent):
            if event.iid:
                if event.iid <= self._last_iid:
                    return  # delivered before a server restart; already handed over
                self._last_iid = event.iid
            await self._call("on_message_instant_receive", event.account, 0, event.msg)
            return
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler is not None:
            await handler(event)

    def _schedule_ack(self, *, now: bool = False) -> None:
        if self._processed <= self._acked:
            return
        if now or self._processed - self._acked >= self.signal.ack_batch:
            self._flush_ack()
        elif self._ack_timer is None:
            self._ack_timer = asyncio.get_running_loop().call_later(
                self.signal.ack_delay, self._flush_ack
            )

    def _flush_ack(self) -> None:
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None
        if self._ws is None or self._processed <= self._acked:
            return
        self._acked = self._processed
        self._send(f.encode(f.Ack(seq=self._processed)))

    # --- Public methods: account ------------------------------------------------------------

    async def logout(self) -> None:
        """Log out (onLogout 101). Raises 108 if already logged out."""
        if self._status == Status.LOGGED_OUT:
            raise SignalError(ErrorCode.LOGOUT_E_ALREADY_LOGOUT, "already logged out")
        self._closing = True
        ws = self._ws
        if ws is not None:
            self._flush_ack()
            with contextlib.suppress(SignalError, TimeoutError):
                await asyncio.wait_for(self._request(f.Logout()), 2.0)
        self._finish(ErrorCode.LOGOUT_E_USER)
        await self._shutdown()

    async def _shutdown(self) -> None:
        """Stop the connection and, unless called from a callback, drain the callbacks."""
        ws, self._ws = self._ws, None
        if self._supervisor is not None and self._supervisor is not asyncio.current_task():
            self._supervisor.cancel()
        if ws is not None:
            await ws.close()
        dispatcher = self._dispatcher
        if dispatcher is not None and dispatcher is not asyncio.current_task():
            await asyncio.gather(dispatcher, return_exceptions=True)

    async def wait_closed(self) -> None:
        """Wait until the session has ended and every callback has run."""
        if self._dispatcher is not None:
            await asyncio.gather(self._dispatcher, return_exceptions=True)

    # --- Public methods: user attributes and status --------------------------------------

    async def set_attr(self, name: str, value: str) -> None:
        """Set one of my attributes (an empty value deletes it)."""
        check_name(name, "attribute name", MAX_USER_ATTR_NAME_CHARS)
        check_text(value, "attribute value", MAX_USER_ATTR_VALUE_CHARS)
        await self._request(f.SetAttr(name=name, value=value))

    async def get_attr(self, name: str) -> str | None:
        """One of my attributes (None if unset); also fires on_user_attr_result."""
        return await self._get_attr(None, name)

    async def get_user_attr(self, account: str, name: str) -> str | None:
        check_name(account, "account")
        return await self._get_attr(account, name)

    async def _get_attr(self, account: str | None, name: str) -> str | None:
        check_name(name, "attribute name", MAX_USER_ATTR_NAME_CHARS)
        data = await self._request(f.GetAttr(name=name, account=account))
        value = data.get("value")
        self._emit("on_user_attr_result", data.get("account", account), name, value)
        return value

    async def get_attr_all(self) -> dict[str, str]:
        """All my attributes; also fires on_user_attr_all_result(account, json_text)."""
        return await self._get_attr_all(None)

    async def get_user_attr_all(self, account: str) -> dict[str, str]:
        check_name(account, "account")
        return await self._get_attr_all(account)

    async def _get_attr_all(self, account: str | None) -> dict[str, str]:
        data = await self._request(f.GetAttrAll(account=account))
        text = str(data.get("value", "{}"))
        self._emit("on_user_attr_all_result", data.get("account", account), text)
        return dict(json.loads(text))

    async def query_user_status(self, account: str) -> int:
        """1 if ``account`` is logged in (or inside its reconnect window), else 0."""
        check_name(account, "account")
        data = await self._request(f.QueryStatus(account=account))
        return int(data.get("status", 0))

    # --- Public methods: point-to-point messages ----------------------------------------------

    async def message_instant_send(self, peer: str, msg: str, msg_id: str | None = None) -> str:
        """Send ``msg`` to ``peer`` (kept for them if offline); returns the message ID.

        Fires on_message_send_success(msg_id) or on_message_send_error(msg_id, ecode), and
        raises SignalError on failure.
        """
        msg_id = msg_id if msg_id is not None else secrets.token_hex(8)
        try:
            if msg_id:
                check_name(msg_id, "message ID", MAX_MSG_ID_CHARS)
            check_name(peer, "peer")
            check_text(msg, "message", MAX_P2P_MSG_CHARS)
            self._cseq += 1
            frame = f.SendMsg(peer=peer, msg=msg, msg_id=msg_id, cseq=self._cseq)
            await self._request(frame, timeout_code=ErrorCode.SENDMESSAGE_E_TIMEOUT)
        except SignalError as exc:
            self._emit("on_message_send_error", msg_id, int(exc.code))
            raise
        self._emit("on_message_send_success", msg_id)
        return msg_id
