"""Connection admission: strangers cannot hold the server's sockets and lock users out.

Every open socket costs a file descriptor, and a process has a fixed number of them. A
connection that never logs in, or an HTTP client that sends its headers one byte a minute
(slow-loris), used to keep its descriptor forever; about a thousand of them exhausted the
usual soft limit (1,024) and then nobody could log in. Here:

- ``Admission`` (the WebSocket port): each connection must log in within ``login_timeout``;
  connections not logged in yet are capped per source address (new ones from that address
  are refused) and in total (the oldest idle waiting connection of the busiest address is
  closed to make room), so a newcomer from another address, a login or a ``/healthz``
  probe gets in while strangers hold idle connections.
- ``HttpGuard`` (the Server API port): a cap on open connections and a deadline for the
  first request's headers; aiohttp's keep-alive timeout covers idle connections after it.
- ``raise_open_file_limit`` and ``capacity``: the process raises its soft limit to the hard
  one at start, and the caps above are cut to fit what is left after a reserve, so
  logged-in users always keep most of the descriptors. The server logs the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

try:  # POSIX only: Windows has no ``resource`` module (and no fixed descriptor limit)
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = [
    "Admission",
    "Capacity",
    "HttpGuard",
    "capacity",
    "open_file_limit",
    "raise_open_file_limit",
]

log = logging.getLogger("sigphone.server")

#: Descriptors kept out of every cap: the store (database, WAL, shared memory), listening
#: sockets, the log, the interpreter's own files.
RESERVED_FILES = 64
#: Seconds a waiting connection is safe from eviction: a login takes milliseconds, so what
#: has waited longer is idle, and what is younger is a login in progress.
MIN_WAIT_BEFORE_EVICTION = 1.0
#: Without a limit to read (Windows), the caps stay as configured.
UNLIMITED = 1 << 30


class Closable(Protocol):
    def drop(self, code: int, reason: str) -> None: ...


def raise_open_file_limit() -> tuple[int, int] | None:
    """Raise the soft open-file limit to the hard one; returns (soft, hard), or None where
    the platform has no such limit (Windows)."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:  # macOS: the kernel refuses "infinity"
        target = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else soft
    if soft != resource.RLIM_INFINITY and (target == resource.RLIM_INFINITY or target > soft):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft, hard


def open_file_limit() -> int:
    """The current soft limit (UNLIMITED where there is none to read)."""
    if resource is None:
        return UNLIMITED
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return UNLIMITED if soft == resource.RLIM_INFINITY else int(soft)


@dataclass(frozen=True, slots=True)
class Capacity:
    files: int  # the soft limit
    pending: int  # WebSocket connections not logged in yet
    api: int  # Server API connections
    users: int  # what is left for logged-in users

    def describe(self) -> str:
        files = "no limit" if self.files >= UNLIMITED else f"{self.files} open files"
        return (
            f"capacity: {files}; up to {self.pending} connections waiting to log in, "
            f"{self.api} on the Server API, {self.users} for logged-in users"
        )


def capacity(files: int, max_pending: int, max_api: int) -> Capacity:
    """Fit the caps into ``files`` descriptors: strangers (not logged in) get at most a
    quarter, the Server API at most an eighth, and logged-in users keep the rest."""
    room = max(files - RESERVED_FILES, 8)
    pending = max(1, min(max_pending, room // 4))
    api = max(1, min(max_api, room // 8))
    return Capacity(files, pending, api, room - pending - api)


class Admission:
    """The WebSocket connections that have not logged in yet (see the module docstring)."""

    def __init__(self, login_timeout: float, max_pending: int, max_per_address: int) -> None:
        self.login_timeout = login_timeout
        self.max_pending = max_pending
        self.max_per_address = max_per_address
        #: Waiting connections, oldest first, with their address and deadline timer.
        self.pending: OrderedDict[Closable, tuple[str, asyncio.TimerHandle, float]] = OrderedDict()
        self.by_address: Counter[str] = Counter()
        #: Refused and closed connections since start (what the capacity log counts).
        self.refused = 0
        self.expired = 0

    def admit(self, conn: Closable, address: str) -> bool:
        """Register a new connection; False if it is refused (its address has its share, or
        the total is reached and no stranger can make room)."""
        if self.by_address[address] >= self.max_per_address:
            self.refused += 1
            return False
        if len(self.pending) >= self.max_pending and not self._evict(address):
            self.refused += 1
            return False
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.login_timeout, self._expire, conn)
        self.pending[conn] = (address, timer, loop.time())
        self.by_address[address] += 1
        return True

    def done(self, conn: Closable) -> None:
        """The connection logged in or closed: it no longer waits."""
        entry = self.pending.pop(conn, None)
        if entry is None:
            return
        address, timer, _ = entry
        timer.cancel()
        self.by_address[address] -= 1
        if not self.by_address[address]:
            del self.by_address[address]

    def _expire(self, conn: Closable) -> None:
        if conn in self.pending:
            self.expired += 1
            self.done(conn)
            conn.drop(1008, f"log in within {self.login_timeout:g} s")

    def _evict(self, newcomer: str) -> bool:
        """Close the oldest waiting connection of the address holding the most (other than
        the newcomer's), to let the newcomer in. Not when the newcomer's own address holds
        more (it is the flooder), nor when that connection is young (a login storm after a
        restart: logins in progress are let finish, the newcomer retries)."""
        mine = self.by_address[newcomer]
        victim = next((a for a, _ in self.by_address.most_common(2) if a != newcomer), None)
        if victim is None or self.by_address[victim] < mine:
            return False
        now = asyncio.get_running_loop().time()
        for conn, (address, _, since) in self.pending.items():
            if address == victim:
                if now - since < MIN_WAIT_BEFORE_EVICTION:
                    return False
                self.refused += 1
                self.done(conn)
                conn.drop(1013, "too many connections waiting to log in")
                return True
        return False


class HttpGuard:
    """The Server API's connection cap and header deadline, as a wrapper around aiohttp's
    per-connection protocol (aiohttp has neither)."""

    def __init__(self, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.open = 0
        self.refused = 0

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        return lambda: _GuardedHttp(factory(), self)


class _GuardedHttp(asyncio.Protocol):
    """Forwards to aiohttp's protocol; counts the connection and times its first headers."""

    def __init__(self, inner: asyncio.Protocol, guard: HttpGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.counted = False
        self.timer: asyncio.TimerHandle | None = None
        self.tail = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        guard = self.guard
        if guard.open >= guard.max_connections:
            guard.refused += 1
            transport.abort()
            return
        guard.open += 1
        self.counted = True
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(guard.header_timeout, self._expire)
        self.inner.connection_made(transport)

    def _expire(self) -> None:
        self.timer = None
        if self.transport is not None:
            self.transport.abort()  # no complete request head in time: slow-loris

    def data_received(self, data: bytes) -> None:
        if self.timer is not None:
            seen = self.tail + data[:4096]
            if b"\r\n\r\n" in seen or b"\r\n\r\n" in data:
                self.timer.cancel()
                self.timer = None
            self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.counted:
            return
        self.counted = False
        self.guard.open -= 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.inner.connection_lost(exc)
