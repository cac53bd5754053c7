"""A logged-in session: requests, events, acknowledgements, reconnection and resume.

Delivery guarantees (docs/protocol.md): every server event carries a sequence number; the
session hands events to the application in order, skips anything it has already seen, and
acknowledges only what was handed to an application callback that has returned. After a
network break it reconnects and resumes: the server replays what was not received. Requests
still waiting for a reply are sent again after a reconnect; message sends carry a
per-client number so the server applies each once.

The rules live in ``protocol.client.ClientProtocol`` (sans-I/O); the WebSocket in
``connection.Link``; this module dispatches events to the application's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..protocol import frames as f
from ..protocol.client import ClientProtocol, ClientState, Delivery, Received
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.limits import (
    MAX_MSG_ID_CHARS,
    MAX_P2P_MSG_CHARS,
    MAX_USER_ATTR_NAME_CHARS,
    MAX_USER_ATTR_VALUE_CHARS,
)
from ..protocol.names import check_name, check_text
from .call import Call, Calls
from .callbacks import invoke
from .channel import Channel, ChannelCallbacks, Channels
from .connection import Link
from .presence import Presence
from .requests import CallbackSource, Handler

if TYPE_CHECKING:
    from .connection import ClientConnection
    from .signal import Signal

__all__ = ["Session", "Status"]

log = logging.getLogger("sigphone.sdk")


class Status(IntEnum):
    """Values of ``get_status()`` (Web API)."""

    LOGGED_OUT = 0
    CONNECTING = 1
    LOGGED_IN = 2


@dataclass(slots=True)
class _Callback:
    """A local callback (a request's result, a reconnect) or an internal step: queued behind
    the events already received. ``target`` is a session callback's name or a coroutine
    function."""

    target: str | Callable[..., Any]
    args: tuple[Any, ...]


@dataclass(slots=True, eq=False)
class _Hold:
    """One event being handed over: finished once dispatched and no callback of it waits."""

    delivery: Delivery
    waiting: int = 0
    dispatched: bool = False


@dataclass(slots=True, eq=False)
class _Parked:
    """A callback invocation waiting for the application to assign the callback."""

    resolve: Callable[[], Callable[..., Any] | None]
    name: str
    args: tuple[Any, ...]
    hold: _Hold
    deadline: float = field(default=0.0)


_STOP = object()


class Session(ChannelCallbacks):
    """Returned by ``Signal.login``. Assign callbacks as attributes (plain or async functions).

    Callbacks run one at a time, in order, on the event loop. An event whose callback is not
    assigned yet waits for it (bounded: ``Signal.callback_wait`` seconds and
    ``Signal.callback_backlog`` events) and is acknowledged only once handed over.
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
    on_channel_query_user_num_result: Callable[[str, int, int], Any] | None = None
    on_invoke_ret: Callable[[int, int, Any], Any] | None = None
    #: onInviteReceived(call): a call for me; set the Call's callbacks in here.
    on_invite_received: Callable[[Call], Any] | None = None
    #: Live presence (an addition to the seed): a watched user logged in (1) or out (0),
    #: or set one of its attributes (value "" when deleted). See user_status_subscribe.
    on_user_status_changed: Callable[[str, int], Any] | None = None
    on_user_attr_changed: Callable[[str, str, str], Any] | None = None
    # The channel callbacks (fallbacks for a Channel's own) come from ChannelCallbacks.

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
        self._status: Status = Status.CONNECTING
        self._core = ClientProtocol(
            secrets.token_hex(16), ack_batch=signal.ack_batch, ack_delay=signal.ack_delay
        )
        self._link = Link(
            signal,
            self._core,
            _LinkEvents(self),
            self._queue_login,
            reconnect_count,
            reconnect_time,
        )
        self._futures: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._queue: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._parked: deque[_Parked] = deque()
        self._parked_changed = False
        self._park_timer: asyncio.TimerHandle | None = None
        self._hold: _Hold | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._logout_code: ErrorCode | None = None
        self._closed = asyncio.Event()  # set once a logout has closed the connection
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Coroutines run after a reconnect that could not resume the server session (the
        #: server restarted): parts of the SDK restore server-side state there (channels).
        self.relogin_hooks: list[Callable[[], Any]] = []
        #: Called with the logout code when the session ends, before on_logout is queued.
        self.end_hooks: list[Callable[[ErrorCode], None]] = []
        requests = _SessionRequests(self)
        self._channels = Channels(requests)
        self._calls = Calls(requests)
        self._presence = Presence(requests)
        #: The dispatch table: event type -> handler (components register theirs).
        self._handlers: dict[type[Any], Handler] = {
            f.MsgEvent: self._on_msg,
            **self._channels.handlers(),
            **self._calls.handlers(),
            **self._presence.handlers(),
        }

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name.startswith("on_") and value is not None:
            self._callback_assigned()

    # --- Status ------------------------------------------------------------------------

    def get_status(self) -> Status:
        """0 logged out, 1 connecting (or reconnecting), 2 logged in."""
        return self._status

    def is_online(self) -> bool:
        return self._status == Status.LOGGED_IN

    @property
    def uid(self) -> int:
        return 0  # obsolete in both seeds, always 0

    @property
    def resumed(self) -> bool:
        """Whether the last (re)connection continued the server session."""
        return self._core.resumed

    @property
    def _sid(self) -> str:
        return self._core.session_id

    @property
    def _ws(self) -> ClientConnection | None:
        return self._link._ws

    # --- Connecting (the link calls back into these) -----------------------------------

    def _queue_login(self, resume: bool) -> None:
        self._core.login(
            app_id=self.signal.app_id,
            account=self.account,
            token=self._token,
            reconnect_time=self.reconnect_time,
            sdk=__version__,
            resume=resume,
        )

    async def _first_login(self) -> None:
        try:
            await self._link.first_login()
        except BaseException:
            self._status = Status.LOGGED_OUT
            self._core.end()
            raise
        self._status = Status.LOGGED_IN

    def _start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="sigphone-dispatch")
        self._link.start()

    def _link_received(self, events: list[Received]) -> None:
        for event in events:
            if isinstance(event, Delivery):
                self._queue.append(event)
                self._ready.set()
            elif isinstance(event, f.Reply):
                future = self._futures.pop(event.id, None)
                if future is not None and not future.done():
                    if event.code:
                        future.set_exception(SignalError(event.code, event.reason))
                    else:
                        future.set_result(event.data or {})
            elif isinstance(event, f.LogoutFrame):
                log.info("server ended the session: %s %s", event.code, event.reason)
                self._finish(ErrorCode.coerce(event.code))
            elif isinstance(event, f.ErrorFrame):
                self._emit("on_error", SignalError(event.code, event.reason))

    def _link_reconnecting(self, attempt: int) -> None:
        self._status = Status.CONNECTING
        self._emit("on_reconnecting", attempt)

    async def _link_reconnected(self) -> None:
        self._status = Status.LOGGED_IN
        if not self.resumed:
            for hook in self.relogin_hooks:
                await invoke(hook, on_error=self._callback_failed)
        self._emit("on_reconnected", 0)

    def _link_ended(self, code: ErrorCode) -> None:
        self._finish(code)

    def _link_crashed(self, exc: Exception) -> None:
        self._emit("on_error", exc)
        self._finish(ErrorCode.LOGOUT_E_OTHER)

    def _finish(self, code: ErrorCode) -> None:
        """The session is over (reason ``code``): fail what waits, tell the application."""
        if self._logout_code is not None:
            return
        self._logout_code = code
        self._status = Status.LOGGED_OUT
        self._link.closing = True
        self._link.stop_timer()
        self._core.end()
        for future in self._futures.values():
            if not future.done():
                future.set_exception(SignalError(code, "the session has ended"))
        self._futures.clear()
        for hook in self.end_hooks:
            hook(code)
        self._emit("on_logout", int(code))
        self._queue.append(_STOP)
        self._ready.set()

    # --- Requests ------------------------------------------------------------------------

    async def _request(
        self, frame: f.Request, *, timeout_code: ErrorCode = ErrorCode.GENERAL_E_FAILED
    ) -> dict[str, Any]:
        if self._status == Status.LOGGED_OUT or self._core.state is ClientState.ENDED:
            raise SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "not logged in")
        rid = self._core.request(frame)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._futures[rid] = future
        self._link.flush()
        try:
            async with asyncio.timeout(self.signal.request_timeout):
                return await future
        except TimeoutError:
            raise SignalError(timeout_code, "no answer from the server in time") from None
        finally:
            self._futures.pop(rid, None)
            self._core.forget(rid)

    def _next_cseq(self) -> int:
        return self._core.next_cseq()

    def _request_timeout(self) -> float:
        return self.signal.request_timeout

    def _on_session(self, name: str) -> Callable[..., Any] | None:
        callback: Callable[..., Any] | None = getattr(self, name, None)
        return callback

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._spawned)

    def _spawned(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("background request failed: %r", task.exception())

    def _in_dispatcher(self) -> bool:
        return asyncio.current_task() is self._dispatcher

    def _ended(self) -> bool:
        return self._status == Status.LOGGED_OUT

    def _on_end(self, hook: Callable[[ErrorCode], None]) -> None:
        self.end_hooks.append(hook)

    def _on_relogin(self, hook: Callable[[], Any]) -> None:
        self.relogin_hooks.append(hook)

    # --- Events ---------------------------------------------------------------------------

    def _emit(self, name: str, *args: Any) -> None:
        """Queue a local callback behind the events already received (keeps order)."""
        self._queue.append(_Callback(name, args))
        self._ready.set()

    def _later(self, step: Callable[..., Any], *args: Any) -> None:
        self._queue.append(_Callback(step, args))
        self._ready.set()

    async def _dispatch_loop(self) -> None:
        while True:
            if self._parked_changed:
                await self._drain_parked()
            while not self._queue:
                self._ready.clear()
                await self._ready.wait()
                if self._parked_changed:
                    await self._drain_parked()
            item = self._queue.popleft()
            if item is _STOP:
                self._drop_parked()
                return
            if isinstance(item, _Callback):
                target = item.target
                callback = getattr(self, target) if isinstance(target, str) else target
                await invoke(callback, *item.args, on_error=self._callback_failed)
                continue
            hold = self._hold = _Hold(item)
            try:
                await self._on_event(item.event)
            finally:
                self._hold = None
            hold.dispatched = True
            self._release(hold, 0)

    async def _hand(self, resolve: CallbackSource, name: str, *args: Any) -> None:
        """Hand an event's callback ``name`` over, or park it until the application assigns
        it (only while dispatching a server event: local callbacks are never parked)."""
        callback = resolve()
        hold = self._hold
        if callback is None and hold is not None:
            self._park(_Parked(resolve, name, args, hold))
            return
        await invoke(callback, *args, on_error=self._callback_failed)

    async def _call(self, name: str, *args: Any) -> None:
        await self._hand(lambda: self._on_session(name), name, *args)

    def _callback_failed(self, exc: BaseException) -> Any:
        return None if self.on_error is None else self.on_error(exc)

    async def _on_event(self, event: f.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            await handler(event)

    async def _on_msg(self, event: f.MsgEvent) -> None:
        if self._core.take_inbox(event.iid):
            await self._call("on_message_instant_receive", event.account, 0, event.msg)

    def _release(self, hold: _Hold, parked: int) -> None:
        hold.waiting -= parked
        if hold.dispatched and hold.waiting == 0:
            self._core.processed(hold.delivery, time.monotonic())
            self._link.flush()

    # --- Callbacks not assigned yet --------------------------------------------------------

    def _park(self, parked: _Parked) -> None:
        sig = self.signal
        parked.hold.waiting += 1
        parked.deadline = time.monotonic() + sig.callback_wait
        self._parked.append(parked)
        if self._park_timer is None:
            self._arm_park_timer()
        while len(self._parked) > sig.callback_backlog:
            oldest = self._parked.popleft()
            log.warning("no %s callback: an event was dropped (backlog full)", oldest.name)
            self._release(oldest.hold, 1)

    def _arm_park_timer(self) -> None:
        if self._parked:
            delay = max(0.0, self._parked[0].deadline - time.monotonic())
            loop = asyncio.get_running_loop()
            self._park_timer = loop.call_later(delay, self._park_timeout)

    def _park_timeout(self) -> None:
        self._park_timer = None
        self._callback_assigned()  # the dispatcher drops what has waited too long, then re-arms

    def _callback_assigned(self) -> None:
        """An ``on_*`` attribute was set here or on a channel or call: retry what waits."""
        if self.__dict__.get("_parked"):
            self._parked_changed = True
            self._ready.set()

    async def _drain_parked(self) -> None:
        """Hand over, in order, the parked callbacks whose callback exists now; drop those
        that waited longer than ``callback_wait``."""
        self._parked_changed = False
        now = time.monotonic()
        for parked in list(self._parked):
            if parked not in self._parked:
                continue
            callback = parked.resolve()
            if callback is None and now < parked.deadline:
                continue
            self._parked.remove(parked)
            if callback is None:
                log.warning(
                    "no %s callback within %ss: an event was dropped",
                    parked.name,
                    self.signal.callback_wait,
                )
            else:
                await invoke(callback, *parked.args, on_error=self._callback_failed)
            self._release(parked.hold, 1)
        if self._parked and self._park_timer is None:
            self._arm_park_timer()

    def _drop_parked(self) -> None:
        """The session is over: parked events stay unacknowledged (the server keeps durable
        messages for the next login)."""
        self._parked.clear()
        if self._park_timer is not None:
            self._park_timer.cancel()
            self._park_timer = None

    # --- Public methods: account ------------------------------------------------------------

    async def logout(self) -> None:
        """Log out (onLogout 101). Raises 108 if already logged out.

        A login on the same ``Signal`` right after it (even without awaiting it) waits for
        the logout to finish instead of failing with 208.
        """
        if self._status == Status.LOGGED_OUT:
            raise SignalError(ErrorCode.LOGOUT_E_ALREADY_LOGOUT, "already logged out")
        self._link.closing = True
        try:
            if self._link.connected:
                self._core.flush_ack()
                self._link.flush()
                with contextlib.suppress(SignalError, TimeoutError):
                    await asyncio.wait_for(self._request(f.Logout()), 2.0)
            self._finish(ErrorCode.LOGOUT_E_USER)
            await self._shutdown()
        finally:
            self._closed.set()

    @property
    def logging_out(self) -> bool:
        """A logout has started and has not finished yet."""
        return self._link.closing and not self._closed.is_set()

    async def _shutdown(self) -> None:
        """Stop the connection and, unless called from a callback, drain the callbacks."""
        await self._link.close()
        self._closed.set()
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

    async def user_status_subscribe(self, accounts: Iterable[str]) -> dict[str, int]:
        """Watch ``accounts`` (an addition to the seed): on_user_status_changed and
        on_user_attr_changed fire for them from now on. Returns each one's status now
        (1 online, 0 offline). At most 1,000 watched accounts per session (1005)."""
        return await self._presence.subscribe(accounts)

    async def user_status_unsubscribe(self, accounts: Iterable[str]) -> None:
        """Stop watching ``accounts``."""
        await self._presence.unsubscribe(accounts)

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
            frame = f.SendMsg(peer=peer, msg=msg, msg_id=msg_id, cseq=self._next_cseq())
            await self._request(frame, timeout_code=ErrorCode.SENDMESSAGE_E_TIMEOUT)
        except SignalError as exc:
            self._emit("on_message_send_error", msg_id, int(exc.code))
            raise
        self._emit("on_message_send_success", msg_id)
        return msg_id

    # --- Public methods: channels and invoke (docs/channels.md) ----------------------------

    async def channel_join(self, name: str, **callbacks: Any) -> Channel:
        """Join ``name`` (leaving the current channel, which gets on_channel_leaved(602)).

        Keyword arguments set the channel's callbacks before anything can fire. Raises
        SignalError and fires on_channel_join_failed(ecode) when refused: 300 for special
        channels, 1004/1005 for bad names. A logged-out session raises 1003 only (its
        callbacks have stopped with on_logout).
        """
        return await self._channels.join(name, callbacks)

    async def channel_query_user_num(self, name: str) -> int:
        """Members of channel ``name``; also fires on_channel_query_user_num_result."""
        return await self._channels.query_user_num(name)

    async def invoke(self, func: str, args: dict[str, Any] | None = None) -> Any:
        """Web API ``invoke``: run ``io.agora.signal.<name>`` on the server, return its resp.

        Fires on_invoke_ret(call_id, err, resp) (err 0 on success) and raises SignalError
        when err is not 0.
        """
        return await self._channels.invoke(func, args)

    # --- Public methods: calls (docs/calls.md) -----------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Calls of this session that are not over."""
        return self._calls.calls

    async def channel_invite_user(self, channel: str, peer: str, uid: int = 0) -> Call:
        """channelInviteUser: a call without extra (``uid`` is obsolete, ignored)."""
        return await self._calls.invite(channel, peer, "")

    async def channel_invite_user2(self, channel: str, peer: str, extra: str = "") -> Call:
        """Call ``peer`` into ``channel``; ``extra`` is "" or a JSON object up to 8K.

        Raises SignalError for bad parameters; everything else (701, 703, 704, refusals,
        700 for any other failure) arrives on the returned Call's on_invite_failed.
        """
        return await self._calls.invite(channel, peer, extra)


class _SessionRequests:
    """The ``Requests`` interface of one session, handed to its components (channels,
    calls): what they may do, and nothing else of the session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def account(self) -> str:
        return self._session.account

    @property
    def request_timeout(self) -> float:
        return self._session._request_timeout()

    @property
    def auto_confirm_invites(self) -> bool:
        return self._session.signal.auto_confirm_invites

    def on_session(self, name: str) -> Callable[..., Any] | None:
        return self._session._on_session(name)

    async def request(
        self, frame: f.Request, *, timeout_code: ErrorCode = ErrorCode.GENERAL_E_FAILED
    ) -> dict[str, Any]:
        return await self._session._request(frame, timeout_code=timeout_code)

    def next_cseq(self) -> int:
        return self._session._next_cseq()

    def emit(self, name: str, *args: Any) -> None:
        self._session._emit(name, *args)

    def later(self, step: Callable[..., Any], *args: Any) -> None:
        self._session._later(step, *args)

    async def hand(self, source: CallbackSource, name: str, *args: Any) -> None:
        await self._session._hand(source, name, *args)

    def callback_assigned(self) -> None:
        self._session._callback_assigned()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._session._spawn(coro)

    def in_dispatcher(self) -> bool:
        return self._session._in_dispatcher()

    def ended(self) -> bool:
        return self._session._ended()

    def on_end(self, hook: Callable[[ErrorCode], None]) -> None:
        self._session._on_end(hook)

    def on_relogin(self, hook: Callable[[], Any]) -> None:
        self._session._on_relogin(hook)


class _LinkEvents:
    """What the connection tells the session (``connection.LinkOwner``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def received(self, events: list[Received]) -> None:
        self._session._link_received(events)

    def reconnecting(self, attempt: int) -> None:
        self._session._link_reconnecting(attempt)

    async def reconnected(self) -> None:
        await self._session._link_reconnected()

    def ended(self, code: ErrorCode) -> None:
        self._session._link_ended(code)

    def crashed(self, exc: Exception) -> None:
        self._session._link_crashed(exc)
