"""The WebSocket port served by python-websockets: the previous edge, kept selectable
(``[server] edge = "websockets"``) while the picows edge (picows_edge.py) settles in.

It reaches into non-public websockets methods (``process_event``, ``send_data``); the picows
edge needs none of that.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Event, State

from sigphone.protocol.limits import MAX_WIRE_BYTES
from sigphone.server.edges.guard import Admission
from sigphone.server.edges.logs import FRAME_SAFE_LOGGER
from sigphone.server.edges.native import EdgeLimits, RateGuard
from sigphone.server.edges.wire import FrontDoor, Listen, WireClosed

__all__ = ["NativeConnection", "serve_websockets"]

log = logging.getLogger("sigphone.server")


async def serve_websockets(
    door: FrontDoor, where: Listen, limits: EdgeLimits, admission: Admission | None
) -> Server:
    """Listen on ``where`` with python-websockets (one handler task per connection)."""

    def http(connection: ServerConnection, request: Request) -> Response | None:
        local = str(connection.local_address[0])
        answer = door.http_answer(request.path, request.headers.get("Connection", ""), local)
        if answer is None:
            return None
        status, body, headers = answer
        response = connection.respond(status, body)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    async def handler(ws: ServerConnection) -> None:
        await door.handle(cast(NativeConnection, ws))

    return await serve(
        handler,
        where.host,
        where.port,
        ssl=where.tls,
        compression=None,
        max_size=MAX_WIRE_BYTES,
        max_queue=64,
        process_request=http,
        server_header="sigphone",
        create_connection=cast(  # a factory with this server's rules bound
            type[ServerConnection],
            functools.partial(NativeConnection, admission=admission, limits=limits),
        ),
        # Frame logging at DEBUG would quote message bodies: see edges/logs.py.
        logger=FRAME_SAFE_LOGGER,
        backlog=where.backlog,
    )


class NativeConnection(ServerConnection):
    """A server connection that hands each complete message to ``on_message`` at once.

    The library's own path queues a message, wakes the handler task and returns it from
    ``recv()``: a future and a task switch per message, which cost more than all of our
    work for an ack. Here ``process_event`` (called as the bytes are parsed) hands the
    message over synchronously and in order instead. Pings, pongs, the close handshake,
    size limits and protocol errors stay with the library; ``recv()`` is not used.
    """

    def __init__(
        self,
        *args: Any,
        admission: Admission | None = None,
        limits: EdgeLimits | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        #: Not logged in yet: the login deadline and caps (None once logged in).
        self.admission = admission
        self.send_limit = None if limits is None else limits.send_queue_bytes
        #: Pings count against the request rate: a flood is closed like any other.
        self.ping_guard = None if limits is None else RateGuard(limits)
        self._dropping: asyncio.Task[None] | None = None
        self.on_message: Callable[[bytes], None] | None = None
        self.on_close: Callable[[], None] | None = None
        #: Messages parsed before the handler set ``on_message``.
        self.early: list[bytes] = []
        self._fragments: list[bytes] | None = None
        self._arrived: asyncio.Future[None] | None = None

    async def first_message(self) -> bytes | None:
        """The first message once it arrives (None if the connection closes first); it
        stays in ``early``. The front door reads it to pick the edge adapter."""
        if not self.early:
            self._arrived = asyncio.get_running_loop().create_future()
            closed = asyncio.ensure_future(self.wait_closed())
            try:
                await asyncio.wait({self._arrived, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                closed.cancel()
                self._arrived = None
        return self.early[0] if self.early else None

    def is_open(self) -> bool:
        return self.protocol.state is State.OPEN and not self.transport.is_closing()

    async def send_text(self, data: bytes) -> None:
        try:
            await self.send(data, text=True)
        except ConnectionClosed as exc:
            raise WireClosed from exc

    # --- Admission and the send bound ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.admission is not None:
            peer = transport.get_extra_info("peername")
            address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
            if not self.admission.admit(self, address):
                self.admission = None
                log.info("refused %s: too many connections waiting to log in", address)
                self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.logged_in()  # no longer waiting, either way
        super().connection_lost(exc)
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()

    def logged_in(self) -> None:
        """The connection has a session: the login deadline and caps no longer apply."""
        if self.admission is not None:
            self.admission.done(self)
            self.admission = None

    def drop(self, code: int, reason: str) -> None:
        """Close for the admission rules: with a close frame once the handshake is done."""
        log.info("closing %s: %s", self.remote_address, reason)
        if self.protocol.state is State.OPEN and self._dropping is None:
            self._dropping = asyncio.ensure_future(self.close(code, reason))
        else:
            self.transport.abort()

    def send_data(self) -> None:
        super().send_data()
        limit = self.send_limit
        if limit is not None and self.transport.get_write_buffer_size() > limit:
            # The peer does not read what the library itself answers (pongs): the same
            # slow-consumer rule as for our frames (NativeLink).
            log.warning("slow consumer cut off: %s", self.remote_address)
            self.send_limit = None
            self.transport.abort()

    def process_event(self, event: Event) -> None:
        guard = self.ping_guard
        ping = isinstance(event, Frame) and event.opcode is Opcode.PING
        if ping and guard is not None and guard.take() is None:
            log.warning("ping flood cut off: %s", self.remote_address)
            self.ping_guard = None
            self.transport.abort()
            return
        if self.request is None or not isinstance(event, Frame):
            super().process_event(event)  # the handshake request
            return
        opcode = event.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if not event.fin:
                self._fragments = [bytes(event.data)]
                return
            data = bytes(event.data)
        elif opcode is Opcode.CONT:
            if self._fragments is None:  # the protocol layer rejects this before us
                return
            self._fragments.append(bytes(event.data))
            if not event.fin:
                return
            data = b"".join(self._fragments)
            self._fragments = None
        else:
            super().process_event(event)  # pings, pongs, close
            return
        if self.on_message is None:
            self.early.append(data)
            if self._arrived is not None and not self._arrived.done():
                self._arrived.set_result(None)
        else:
            self.on_message(data)
