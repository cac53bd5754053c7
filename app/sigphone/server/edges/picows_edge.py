"""The WebSocket port served by picows: frames parsed in C, handed over by callbacks.

The websockets library parsed each frame in Python and kept a connection object of ~14 KB;
picows (Cython) parses in C and calls ``on_ws_frame`` per frame, with no task, future or
queue per message, and without reaching into any library internals. What the websockets
library did for us and picows leaves to the application is done here: pongs (counted
against the ping rate and the send bound), the close handshake, reassembling fragmented
messages with the size limit, and checking that text is UTF-8 (1007).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
)

from sigphone.protocol.limits import MAX_WIRE_BYTES
from sigphone.server.edges.guard import Admission
from sigphone.server.edges.logs import FRAME_SAFE_LOGGER
from sigphone.server.edges.native import EdgeLimits, RateGuard, frame_header
from sigphone.server.edges.wire import WireClosed

__all__ = ["PicowsConnection"]

log = logging.getLogger("sigphone.server")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONT = WSMsgType.CONTINUATION
_PING = WSMsgType.PING
_CLOSE = WSMsgType.CLOSE
_CODES = {code.value: code for code in WSCloseCode}


class PicowsConnection(WSListener):
    """One client connection: the ``Wire`` of the edge adapters (edges/wire.py)."""

    __slots__ = (
        "_closed",
        "_debug",
        "_drained",
        "_fragments",
        "_size",
        "_text",
        "admission",
        "early",
        "limits",
        "on_close",
        "on_connected",
        "on_message",
        "ping_guard",
        "transport",
        "ws",
    )

    def __init__(
        self,
        admission: Admission | None,
        limits: EdgeLimits,
        on_connected: Callable[[PicowsConnection], Any],
    ) -> None:
        self.admission = admission
        self.limits = limits
        self.on_connected: Callable[[PicowsConnection], Any] | None = on_connected
        self.ping_guard: RateGuard | None = None
        self.ws: WSTransport | None = None
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set on connect
        self.on_message: Callable[[bytes], None] | None = None
        self.on_close: Callable[[], None] | None = None
        self.early: list[bytes] = []
        self._fragments: list[bytes] | None = None
        self._size = 0
        self._text = False
        self._drained: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        #: Frames are logged (kind and size, never text) when DEBUG is on at connect.
        self._debug = FRAME_SAFE_LOGGER.isEnabledFor(logging.DEBUG)

    # --- picows callbacks ---------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.ws = transport
        self.transport = transport.underlying_transport
        self._closed = asyncio.get_running_loop().create_future()
        if self.admission is not None and not self.admission.admit(self, self._address()):
            self.admission = None
            log.info("refused %s: too many connections waiting to log in", self._address())
            self.transport.abort()
            return
        on_connected, self.on_connected = self.on_connected, None
        if on_connected is not None:
            on_connected(self)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.logged_in()  # no longer waiting, either way
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        self._wake_writer()
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if self._debug:
            FRAME_SAFE_LOGGER.debug("< %s [%d bytes]", kind.name, frame.payload_size)
        if kind is _TEXT or kind is _BINARY:
            if transport.is_close_frame_sent:
                return  # closing: nothing more is handled (RFC 6455 5.5.1)
            if self._fragments is not None:
                self._refuse(WSCloseCode.PROTOCOL_ERROR, "expected a continuation frame")
                return
            data: bytes = frame.get_payload_as_bytes()
            if not frame.fin:
                self._fragments = [data]
                self._size = len(data)
                self._text = kind is _TEXT
                return
            if kind is _TEXT and not data.isascii() and not _utf8(data):
                self._refuse(WSCloseCode.INVALID_TEXT, "invalid UTF-8")
                return
        elif kind is _CONT:
            if transport.is_close_frame_sent:
                return
            fragments = self._fragments
            if fragments is None:
                self._refuse(WSCloseCode.PROTOCOL_ERROR, "unexpected continuation frame")
                return
            part = frame.get_payload_as_bytes()
            self._size += len(part)
            if self._size > MAX_WIRE_BYTES:
                self._fragments = None
                self._refuse(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
                return
            fragments.append(part)
            if not frame.fin:
                return
            self._fragments = None
            data = b"".join(fragments)
            if self._text and not data.isascii() and not _utf8(data):
                self._refuse(WSCloseCode.INVALID_TEXT, "invalid UTF-8")
                return
        elif kind is _PING:
            self._pong(transport, frame)
            return
        elif kind is _CLOSE:
            if not transport.is_close_frame_sent:  # the peer closes: answer with its code
                code = frame.get_close_code()
                transport.send_close(WSCloseCode.OK if code == WSCloseCode.NO_INFO else code)
            transport.disconnect()
            return
        else:
            return  # pongs: the SDK's keepalive needs no answer
        on_message = self.on_message
        if on_message is not None:
            on_message(data)
        else:
            self.early.append(data)

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # --- Wire ---------------------------------------------------------------------------

    @property
    def remote_address(self) -> Any:
        return None if self.transport is None else self.transport.get_extra_info("peername")

    def is_open(self) -> bool:
        ws = self.ws
        return ws is not None and not ws.is_close_frame_sent and not ws.is_disconnected

    async def send_text(self, data: bytes) -> None:
        if not self.is_open():
            raise WireClosed
        n = len(data)
        self.transport.write(frame_header(n) + data)
        while self._drained is not None:  # past the high-water mark: wait for the reader
            await asyncio.shield(self._drained)
            if not self.is_open():
                raise WireClosed

    async def close(self, code: int, reason: str) -> None:
        ws = self.ws
        if ws is None or ws.is_disconnected:
            return
        if not ws.is_close_frame_sent:
            ws.send_close(_CODES.get(code, WSCloseCode.INTERNAL_ERROR), reason.encode())
        # The client answers with its close frame (on_ws_frame then drops the connection);
        # the caller bounds the wait (and may cancel it: the future itself stays).
        if self._closed is not None:
            await asyncio.shield(self._closed)

    def logged_in(self) -> None:
        if self.admission is not None:
            self.admission.done(self)
            self.admission = None

    def drop(self, code: int, reason: str) -> None:
        """Close for the admission rules (edges/guard.py), with a close frame."""
        log.info("closing %s: %s", self.remote_address, reason)
        ws = self.ws
        if ws is not None and not ws.is_close_frame_sent and not ws.is_disconnected:
            ws.send_close(_CODES.get(code, WSCloseCode.POLICY_VIOLATION), reason.encode())
            # The close handshake may not take longer than any other (5 s, NativeLink).
            asyncio.get_running_loop().call_later(5.0, self.transport.abort)
        elif self.transport is not None:
            self.transport.abort()

    # --- Helpers ------------------------------------------------------------------------

    def _address(self) -> str:
        peer = self.remote_address
        return str(peer[0]) if isinstance(peer, tuple) and peer else "?"

    def _wake_writer(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _pong(self, transport: WSTransport, frame: WSFrame) -> None:
        """Answer a ping; pings count against the request rate and pongs against the send
        bound, so neither a ping flood nor one that never reads its pongs holds memory."""
        guard = self.ping_guard
        if guard is None:
            guard = self.ping_guard = RateGuard(self.limits)
        if guard.take() is None:
            log.warning("ping flood cut off: %s", self.remote_address)
            self.transport.abort()
            return
        if transport.is_close_frame_sent:
            return
        transport.send_pong(frame.get_payload_as_bytes())
        if self.transport.get_write_buffer_size() > self.limits.send_queue_bytes:
            log.warning("slow consumer cut off: %s", self.remote_address)
            self.transport.abort()

    def _refuse(self, code: WSCloseCode, reason: str) -> None:
        ws = self.ws
        if ws is None:
            return
        log.info("closing %s: %s", self.remote_address, reason)
        if not ws.is_close_frame_sent:
            ws.send_close(code, reason.encode())
        asyncio.get_running_loop().call_later(5.0, self.transport.abort)


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True
