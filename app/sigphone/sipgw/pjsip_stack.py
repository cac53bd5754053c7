"""The SIP stack of the gateway: pjsip (pjsua2) behind one small interface.

Everything pjsip-specific lives in this module, so another stack could replace it: the
rest of the gateway sees ``SipStack`` (start, stop, place a call, incoming calls),
``SipCall`` (answer, hang up, DTMF, audio) and ``CallHandler`` (what happened to a call),
all in plain Python types.

Threading (docs/sip-gateway.md, "Threading"): pjsip runs with no worker thread of its own
(``threadCnt = 0``); a task on the asyncio loop polls ``libHandleEvents`` every few
milliseconds, so every SIP callback runs on the loop's thread. Handlers are still called
through ``loop.call_soon``, never from inside a pjsip callback, so a handler may hang up or
answer without re-entering pjsip. Only the audio port's two frame callbacks run on pjsip's
null-device clock thread; they only copy bytes into or out of an ``AudioPipe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pjsua2 as pj

__all__ = [
    "AudioPipe",
    "CallHandler",
    "IncomingCall",
    "SipCall",
    "SipCredentials",
    "SipStack",
    "SipStackConfig",
    "uri_user",
]

log = logging.getLogger("sigphone.sipgw.sip")

#: Poll interval of the pjsip event loop (SIP timers and sockets), seconds.
POLL_SECONDS = 0.005
#: pjsua's status when the answer has no telephone-event (docs/sip-gateway.md, "Codecs and DTMF").
_NO_RFC2833 = "PJMEDIA_RTP_EREMNORFC2833"
_USER = re.compile(r"^(?:sips?:([^@;>]+)@|tel:([^;>]+))")
_ANGLE = re.compile(r"<([^>]*)>")


def uri_user(uri: str) -> str:
    """The user part of a URI pjsip printed (``"Bob" <sip:+4930@host>`` -> ``+4930``); ""
    when it has none (``sip:host``)."""
    inner = _ANGLE.search(uri)
    m = _USER.match((inner.group(1) if inner else uri).strip())
    return (m.group(1) or m.group(2)) if m else ""


@dataclass(frozen=True)
class SipCredentials:
    """Digest credentials for a trunk (and its registration, when ``register``)."""

    username: str
    password: str
    realm: str = "*"
    register: bool = False
    #: The registrar, e.g. ``sip:pbx.example.org``; default: the trunk.
    registrar: str | None = None


@dataclass(frozen=True)
class SipStackConfig:
    host: str = "127.0.0.1"
    port: int = 5060
    #: Codecs in order of preference (pjsua names: ``PCMU/8000``, ``PCMA/8000``,
    #: ``G722/16000``); every other codec pjsip has is disabled.
    codecs: Sequence[str] = ("PCMU/8000", "PCMA/8000", "G722/16000")
    #: First RTP port (0: pjsua's default of 4000 upwards).
    rtp_port: int = 0
    #: The inbound account's user part (``sip:USER@host``) and the From domain default.
    account: str = "sipgw"
    credentials: SipCredentials | None = None
    #: Where outbound calls go: ``sip:HOST[:PORT][;transport=tcp]`` (None: no trunk).
    trunk: str | None = None
    user_agent: str = "sigphone-sipgw"
    #: pjsua2-python 2.15.1's wheels are built with PJSUA_MAX_CALLS = 4: pjsua quietly caps a
    #: larger value (measured: the fifth INVITE fails with PJ_ETOOMANY), so one gateway
    #: process carries at most 4 calls (docs/sip-gateway.md, "Limits").
    max_calls: int = 4
    #: pjsip's own log level (0 silent .. 5 very verbose), sent to logging at DEBUG.
    log_level: int = 2


class CallHandler(Protocol):
    """What the gateway hears about one SIP call (called on the loop, never re-entrantly)."""

    def on_progress(self, status: int) -> None:
        """A provisional answer (180, 183) to our INVITE."""

    def on_confirmed(self) -> None:
        """The call is up (200 OK / ACK)."""

    def on_disconnected(self, status: int, reason: str) -> None:
        """Over: the final status (486, 404, 200 after a BYE ...)."""

    def on_dtmf(self, digit: str) -> None:
        """A DTMF digit from the far end (RFC 4733 or SIP INFO)."""


@dataclass(frozen=True)
class IncomingCall:
    """An INVITE for us, as the gateway needs it."""

    to_user: str
    from_user: str
    from_uri: str


class AudioPipe(Protocol):
    """The two ends of a call's audio at the bridge rate (16-bit mono PCM bytes).

    Both run on pjsip's clock thread: keep them short, never block."""

    def from_sip(self, pcm: bytes) -> None: ...

    def to_sip(self, size: int) -> bytes: ...


class _LogWriter(pj.LogWriter):
    def write(self, entry: Any) -> None:
        log.debug("%s", entry.msg.rstrip())


class _BridgePort(pj.AudioMediaPort):
    """The call's audio in Python: a port of pjsip's conference bridge."""

    def __init__(self, pipe: AudioPipe, frame_bytes: int) -> None:
        super().__init__()
        self.pipe: AudioPipe | None = pipe
        self.frame_bytes = frame_bytes

    def onFrameRequested(self, frame: Any) -> None:
        # pjsua2 hands an empty frame (size 0): we give one 20 ms frame of the port's format.
        # getattr: while the port is being destroyed the clock thread may still call in after
        # Python has cleared the object's attributes.
        pipe = getattr(self, "pipe", None)
        size = getattr(self, "frame_bytes", 320)
        data = pipe.to_sip(size) if pipe is not None else bytes(size)
        frame.buf = pj.ByteVector(data)
        frame.size = len(data)
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO

    def onFrameReceived(self, frame: Any) -> None:
        pipe = getattr(self, "pipe", None)
        if pipe is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            pipe.from_sip(bytes(frame.buf))


class SipCall:
    """One SIP call (either direction). Use its methods on the loop's thread.

    A plain wrapper: pjsip's own call object is dropped when the call ends, so a SipCall
    kept by the gateway never outlives pjsip (a pjsua2 Call destroyed after ``libDestroy``
    aborts the process).
    """

    def __init__(self, stack: SipStack) -> None:
        self.stack = stack
        self.handler: CallHandler | None = None
        #: Set before the media starts (right after ``make_call`` or on an incoming call).
        self.pipe: AudioPipe | None = None
        self.status = 0
        self.ended = False
        self.confirmed = False
        #: The negotiated codec once media runs, e.g. "PCMU/8000".
        self.codec = ""
        self._pj: _PjCall | None = None

    def ring(self, status: int = 180) -> None:
        """Send a provisional answer to an incoming call."""
        self._answer(status)

    def accept(self) -> None:
        """Answer an incoming call (200 OK)."""
        self._answer(200)

    def reject(self, status: int, reason: str = "") -> None:
        """Refuse an incoming call that is not answered yet (486, 603, 480 ...)."""
        self.hangup(status, reason)

    def hangup(self, status: int = 0, reason: str = "") -> None:
        """End in any state: CANCEL (or ``status`` as the final answer) for an unanswered
        call, BYE after."""
        if self.ended or self._pj is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = status
        if reason:
            prm.reason = reason
        with contextlib.suppress(pj.Error):  # already going away
            self._pj.hangup(prm)

    def send_digits(self, digits: str) -> str:
        """DTMF as RFC 4733 telephone-events; SIP INFO when the far end offered none.
        Returns the method used ("rfc4733" or "info")."""
        if self.ended or self._pj is None:
            raise RuntimeError("the SIP call is over")
        prm = pj.CallSendDtmfParam()
        prm.method = pj.PJSUA_DTMF_METHOD_RFC2833
        prm.digits = digits
        try:
            self._pj.sendDtmf(prm)
            return "rfc4733"
        except pj.Error as exc:
            if _NO_RFC2833 not in f"{exc.info()} {exc.reason}":
                raise RuntimeError(f"DTMF failed: {exc.info()}") from None
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        try:
            self._pj.sendDtmf(prm)
        except pj.Error as exc:
            raise RuntimeError(f"DTMF failed: {exc.info()}") from None
        return "info"

    def _answer(self, status: int) -> None:
        if self.ended or self._pj is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = status
        with contextlib.suppress(pj.Error):
            self._pj.answer(prm)


class _PjCall(pj.Call):
    """pjsua2's call, reporting to its SipCall (callbacks run inside libHandleEvents)."""

    def __init__(self, owner: SipCall, account: pj.Account, call_id: int = -1) -> None:
        if call_id < 0:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self.owner = owner
        self.port: _BridgePort | None = None

    def onCallState(self, prm: Any) -> None:
        owner = self.owner
        stack = owner.stack
        ci = self.getInfo()  # keep it in a variable (pjsua2 frees a temporary CallInfo at once)
        state = ci.state
        owner.status = ci.lastStatusCode
        handler = owner.handler
        if state == pj.PJSIP_INV_STATE_EARLY and ci.role == pj.PJSIP_ROLE_UAC:
            code = ci.lastStatusCode
            if handler is not None and code in (180, 183):
                stack.defer(handler.on_progress, code)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            owner.confirmed = True
            if handler is not None:
                stack.defer(handler.on_confirmed)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            owner.ended = True
            if handler is not None:
                stack.defer(handler.on_disconnected, ci.lastStatusCode, ci.lastReason)
            stack.defer(stack._forget, owner)

    def onCallMediaState(self, prm: Any) -> None:
        owner = self.owner
        ci = self.getInfo()
        for media in ci.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            if self.port is not None or owner.pipe is None:
                continue
            am = self.getAudioMedia(media.index)
            self.port = owner.stack._make_port(owner.pipe)
            self.port.startTransmit(am)
            am.startTransmit(self.port)
            with contextlib.suppress(pj.Error):
                si = self.getStreamInfo(media.index)
                owner.codec = f"{si.codecName}/{si.codecClockRate}"

    def onDtmfDigit(self, prm: Any) -> None:
        handler = self.owner.handler
        if handler is not None:
            self.owner.stack.defer(handler.on_dtmf, str(prm.digit))


class _Account(pj.Account):
    def __init__(self, stack: SipStack) -> None:
        super().__init__()
        self.stack = stack

    def onIncomingCall(self, prm: Any) -> None:
        self.stack._incoming(self, prm.callId)


class SipStack:
    """pjsip in this process: at most one ``SipStack`` may be started at a time."""

    def __init__(
        self,
        config: SipStackConfig,
        on_incoming: Callable[[SipCall, IncomingCall], Any] | None = None,
    ) -> None:
        self.config = config
        self.on_incoming = on_incoming
        self.calls: set[SipCall] = set()
        #: Calls pjsip refused itself (bad SDP ...), for tests and logs.
        self.rejected = 0
        self._ep: pj.Endpoint | None = None
        self._account: _Account | None = None
        self._writer: _LogWriter | None = None
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clock_rate = 8000
        self._ports: list[_BridgePort] = []
        self._idle_ports: list[_BridgePort] = []

    # --- Life cycle ----------------------------------------------------------------------

    async def start(self, bridge_rate: int = 8000) -> None:
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        self._clock_rate = bridge_rate
        ep = pj.Endpoint()
        ep.libCreate()
        self._ep = ep
        epc = pj.EpConfig()
        epc.uaConfig.threadCnt = 0
        epc.uaConfig.mainThreadOnly = False
        epc.uaConfig.userAgent = cfg.user_agent
        epc.uaConfig.maxCalls = cfg.max_calls
        epc.medConfig.ecTailLen = 0  # a bridge: no echo to cancel
        epc.medConfig.noVad = True
        epc.medConfig.clockRate = 16000
        epc.medConfig.sndClockRate = 16000
        self._writer = _LogWriter()
        epc.logConfig.writer = self._writer
        epc.logConfig.level = cfg.log_level
        epc.logConfig.consoleLevel = cfg.log_level
        epc.logConfig.decor = 0
        ep.libInit(epc)
        ep.audDevManager().setNullDev()
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            tc = pj.TransportConfig()
            tc.port = cfg.port
            tc.boundAddress = cfg.host
            if cfg.host not in ("0.0.0.0", "::"):
                tc.publicAddress = cfg.host
            ep.transportCreate(kind, tc)
        ep.libStart()
        self._set_codecs(cfg.codecs)
        acc = _Account(self)
        acc.create(self._account_config(), True)
        self._account = acc
        self._poller = asyncio.ensure_future(self._poll())
        log.info("SIP listening on %s:%d (UDP, TCP)", cfg.host, cfg.port)

    async def stop(self) -> None:
        """Hang up every call, wait for pjsip to finish them, then destroy it (the order
        matters: a live audio port aborts the process in libDestroy; docs/sip-gateway.md,
        "Threading")."""
        ep = self._ep
        if ep is None:
            return
        for call in list(self.calls):
            call.hangup(503 if not call.confirmed else 0)
        for _ in range(400):  # up to ~2 s of polling for the DISCONNECTED callbacks
            if not self.calls:
                break
            await asyncio.sleep(POLL_SECONDS)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for call in list(self.calls):
            self._forget(call)
        # Stop the null device's clock thread (no frame callbacks from here on), then the
        # ports can go, then pjsip.
        with contextlib.suppress(pj.Error):
            ep.audDevManager().setNoDev()
        self._idle_ports.clear()
        self._ports.clear()
        if self._account is not None:
            with contextlib.suppress(pj.Error):
                self._account.shutdown()
        self._account = None
        gc.collect()
        ep.libDestroy()
        self._ep = None
        self._writer = None
        gc.collect()

    # --- Calls -----------------------------------------------------------------------------

    def make_call(self, dest_uri: str, from_uri: str, handler: CallHandler) -> SipCall:
        """Place an INVITE to ``dest_uri`` with From ``from_uri``; raises ValueError for a
        URI pjsip does not accept and RuntimeError when pjsip cannot send it."""
        assert self._account is not None, "start() first"
        call = SipCall(self)
        call.handler = handler
        call._pj = _PjCall(call, self._account)
        prm = pj.CallOpParam(True)
        prm.txOption.localUri = from_uri
        try:
            call._pj.makeCall(dest_uri, prm)
        except pj.Error as exc:
            call._pj = None
            call.ended = True
            raise RuntimeError(f"cannot call {dest_uri}: {exc.info()}") from None
        self.calls.add(call)
        return call

    def verify_uri(self, uri: str) -> bool:
        assert self._ep is not None
        try:
            self._ep.utilVerifySipUri(uri)
        except pj.Error:
            return False
        return True

    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        assert self._loop is not None
        self._loop.call_soon(_safely, fn, *args)

    @property
    def bridge_rate(self) -> int:
        return self._clock_rate

    # --- Internals ---------------------------------------------------------------------------

    def _account_config(self) -> pj.AccountConfig:
        cfg = self.config
        ac = pj.AccountConfig()
        ac.idUri = f"sip:{cfg.account}@{_hostport(cfg.host, cfg.port)}"
        ac.mediaConfig.transportConfig.boundAddress = cfg.host
        if cfg.host not in ("0.0.0.0", "::"):
            ac.mediaConfig.transportConfig.publicAddress = cfg.host
        if cfg.rtp_port:
            ac.mediaConfig.transportConfig.port = cfg.rtp_port
        ac.mediaConfig.lockCodecEnabled = False  # else pjsua sends an extra re-INVITE
        creds = cfg.credentials
        if creds is not None:
            ac.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", creds.realm, creds.username, 0, creds.password)
            )
            registrar = creds.registrar or cfg.trunk
            if creds.register and registrar:
                ac.regConfig.registrarUri = registrar
                ac.idUri = f"sip:{creds.username}@{uri_host(registrar)}"
        return ac

    def _set_codecs(self, wanted: Sequence[str]) -> None:
        assert self._ep is not None
        ranks = {name.lower(): 255 - i for i, name in enumerate(wanted)}
        for info in self._ep.codecEnum2():
            cid = info.codecId  # e.g. "PCMU/8000/1"
            base = "/".join(cid.split("/")[:2]).lower()
            self._ep.codecSetPriority(cid, ranks.get(base, 0))

    def _make_port(self, pipe: AudioPipe) -> _BridgePort:
        """A port for a call's audio: an idle one again, or a new one. Ports are never
        destroyed while pjsip's clock thread runs: destroying one (SWIG releases the GIL
        around the C++ destructor) let the clock thread call into the half-destroyed Python
        object (seen: AttributeError, then a segfault later in an unrelated place)."""
        if self._idle_ports:
            port = self._idle_ports.pop()
            port.pipe = pipe
            return port
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, self._clock_rate, 1, 20000, 16)
        port = _BridgePort(pipe, self._clock_rate // 50 * 2)
        port.createPort(f"sipgw{len(self._ports)}", fmt)
        self._ports.append(port)
        return port

    def _incoming(self, account: pj.Account, call_id: int) -> None:
        call = SipCall(self)
        call._pj = _PjCall(call, account, call_id)
        self.calls.add(call)
        ci = call._pj.getInfo()
        info = IncomingCall(
            to_user=uri_user(ci.localUri), from_user=uri_user(ci.remoteUri), from_uri=ci.remoteUri
        )
        if self.on_incoming is None:
            call.reject(480)
            return
        self.defer(self.on_incoming, call, info)

    def _forget(self, call: SipCall) -> None:
        self.calls.discard(call)
        call.handler = None
        call.pipe = None
        if call._pj is not None:
            port = call._pj.port
            if port is not None:
                # pjsip took the call's media out of the conference bridge, and with it our
                # port's connections: idle until the next call (see _make_port).
                port.pipe = None
                self._idle_ports.append(port)
            call._pj.port = None
            call._pj = None

    async def _poll(self) -> None:
        ep = self._ep
        assert ep is not None
        while True:
            try:
                while ep.libHandleEvents(0) > 0:
                    pass
            except pj.Error as exc:
                log.warning("pjsip: %s", exc.info())
            await asyncio.sleep(POLL_SECONDS)


def _hostport(host: str, port: int) -> str:
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"{host}:{port}" if port != 5060 else host


def uri_host(uri: str) -> str:
    """``sip:host[:port][;params]`` -> ``host[:port]`` (a configured trunk, not wire input)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split("@", 1)[-1]
    return rest.split(";", 1)[0].split(">", 1)[0]


def _safely(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("SIP handler %r failed", fn)
