"""The SDK's only I/O: WebSocket connections, the read loop, back-off and the ack timer.

The delivery rules are in ``protocol.client.ClientProtocol`` (sans-I/O); this module moves
its bytes over ``websockets`` and runs its clock. It is the one module of the SDK that
imports ``websockets`` (an import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .. import __version__
from ..protocol import frames as f
from ..protocol.client import ClientProtocol, LoggedIn, LoginRefused, Received, logout_code
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.limits import MAX_WIRE_BYTES
from ..protocol.log_redaction import frame_safe_logger

if TYPE_CHECKING:
    from .signal import Signal

__all__ = ["NETWORK_ERRORS", "ClientConnection", "Link", "LinkOwner"]

log = logging.getLogger("sigphone.sdk")
_FRAME_SAFE_LOGGER = frame_safe_logger("sigphone.sdk.websocket")

#: Errors worth another connection attempt (the network, not the server's verdict).
NETWORK_ERRORS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, EOFError)


class LinkOwner(Protocol):
    """What the link tells its session (the session implements it)."""

    def received(self, events: list[Received]) -> None: ...
    def reconnecting(self, attempt: int) -> None: ...
    async def reconnected(self) -> None: ...
    def ended(self, code: ErrorCode) -> None: ...
    def crashed(self, exc: Exception) -> None: ...


class Link:
    """The connection side of one session: one WebSocket at a time, until the session ends."""

    def __init__(
        self,
        signal: Signal,
        core: ClientProtocol,
        owner: LinkOwner,
        login: Callable[[bool], None],
        reconnect_count: int,
        reconnect_time: float,
    ) -> None:
        self.signal = signal
        self.core = core
        self.owner = owner
        self._login = login  # queues the login frame on the core (argument: resume)
        self.reconnect_count = reconnect_count
        self.reconnect_time = reconnect_time
        self._ws: ClientConnection | None = None
        self._ack_timer: asyncio.TimerHandle | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self.closing = False

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # --- Writing and the ack clock ------------------------------------------------------

    def flush(self) -> None:
        """Write what the core has queued and (re)arm the ack timer for its deadline."""
        ws = self._ws
        for data in self.core.data_to_send():
            if ws is None:
                break
            task = asyncio.ensure_future(ws.send(data, text=True))
            self._writes.add(task)
            task.add_done_callback(self._written)
        deadline = self.core.ack_deadline()
        if deadline is not None and self._ack_timer is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, deadline - time.monotonic())
            self._ack_timer = loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._ack_timer = None
        self.core.tick(time.monotonic())
        self.flush()

    def _written(self, task: asyncio.Task[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("send failed: %r", task.exception())

    # --- Connecting ---------------------------------------------------------------------

    async def _connect(self, index: int, *, resume: bool) -> list[Received]:
        """Open a connection to server ``index`` of the list and log in on it; returns what
        arrived after the login reply in the same read."""
        sig = self.signal
        sig.server_index = index % len(sig.servers)
        url = sig.server
        ws = await connect(
            url,
            ssl=sig.ssl if sig.ssl is not None and url.startswith("wss:") else None,
            compression=None,
            max_size=MAX_WIRE_BYTES,
            open_timeout=sig.connect_timeout,
            ping_interval=sig.ping_interval,
            ping_timeout=sig.ping_interval,
            close_timeout=1.0,
            # Frame logging at DEBUG would quote message bodies (protocol/log_redaction.py).
            logger=_FRAME_SAFE_LOGGER,
            proxy=None,
            user_agent_header=f"sigphone-sdk/{__version__}",
        )
        core = self.core
        try:
            self._login(resume)
            for data in core.data_to_send():
                await ws.send(data, text=True)
            async with asyncio.timeout(sig.connect_timeout):
                while True:
                    core.receive_data(await ws.recv(decode=False))
                    events = core.events_received()
                    outcome = next(
                        (e for e in events if isinstance(e, LoggedIn | LoginRefused)), None
                    )
                    if isinstance(outcome, LoginRefused):
                        raise SignalError(outcome.code, outcome.reason)
                    if outcome is not None:
                        break
        except BaseException:
            core.connection_lost()
            await ws.close()
            raise
        self._ws = ws
        return [e for e in events if not isinstance(e, LoggedIn)]

    async def first_login(self) -> None:
        """Log in on the first server of the list that answers (a verdict ends the search)."""
        servers = self.signal.servers
        for index in range(len(servers)):
            try:
                self.owner.received(await self._connect(index, resume=False))
                return
            except SignalError:
                raise
            except (*NETWORK_ERRORS, InvalidURI, msgspec.DecodeError) as exc:
                log.info("cannot reach %s: %r", servers[index], exc)
                if index + 1 == len(servers):
                    raise SignalError(
                        ErrorCode.LOGIN_E_NET, f"cannot reach the server: {exc}"
                    ) from exc

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="sigphone-connection")

    async def _supervise(self) -> None:
        try:
            while True:
                ws = self._ws
                assert ws is not None
                ended = await self._read_loop(ws)
                if ended or self.closing:
                    return
                if not await self._reconnect():
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: report it and end the session cleanly
            log.exception("connection supervisor failed")
            self.owner.crashed(exc)

    async def _read_loop(self, ws: ClientConnection) -> bool:
        """Read frames until the connection drops (False) or the server ends us (True)."""
        core = self.core
        try:
            while True:
                core.receive_data(await ws.recv(decode=False))
                events = core.events_received()
                self.owner.received(events)
                if any(isinstance(e, f.LogoutFrame) for e in events):
                    self._ws = None
                    await ws.close()
                    return True
        except ConnectionClosed:
            pass
        self._ws = None
        core.connection_lost()
        return False

    def _backoff(self, attempt: int) -> float:
        if attempt == 1:
            return 0.0
        sig = self.signal
        base = min(sig.reconnect_delay * 2 ** (attempt - 2), sig.reconnect_delay_max)
        return float(base * random.uniform(0.8, 1.2))

    async def _reconnect(self) -> bool:
        """Try to get back in within reconnect_count attempts and reconnect_time seconds.

        Attempt 1 goes back to the address that was lost (a blip keeps the resume there);
        each further attempt tries the next address of the list.
        """
        started = time.monotonic()
        lost = self.signal.server_index
        for attempt in itertools.count(1):
            remaining = self.reconnect_time - (time.monotonic() - started)
            if attempt > self.reconnect_count or remaining <= 0:
                break
            self.owner.reconnecting(attempt)
            delay = self._backoff(attempt)
            if delay >= remaining:
                await asyncio.sleep(remaining)
                break
            await asyncio.sleep(delay)
            try:
                events = await self._connect(lost + attempt - 1, resume=True)
            except SignalError as exc:
                if exc.code == ErrorCode.GENERAL_E_FAILED:  # rate limited: try again
                    continue
                log.info("reconnect refused: %s", exc)
                self.owner.ended(logout_code(exc.code))
                return False
            except (*NETWORK_ERRORS, msgspec.DecodeError) as exc:
                log.debug("reconnect attempt %d failed: %r", attempt, exc)
                continue
            log.info("reconnected after %d attempt(s)", attempt)
            self.flush()  # the requests still waiting for a reply, in id order
            self.owner.received(events)
            await self.owner.reconnected()
            self.core.flush_ack()
            self.flush()
            return True
        self.owner.ended(ErrorCode.LOGOUT_E_NET)
        return False

    # --- Ending ---------------------------------------------------------------------------

    def stop_timer(self) -> None:
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None

    async def close(self) -> None:
        """Close the connection and stop the supervisor (unless called from it)."""
        self.closing = True
        self.stop_timer()
        ws, self._ws = self._ws, None
        supervisor = self._supervisor
        if supervisor is not None and supervisor is not asyncio.current_task():
            supervisor.cancel()
        if ws is not None:
            await ws.close()
