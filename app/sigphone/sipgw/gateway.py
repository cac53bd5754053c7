"""The gateway: one Sigphone session of the app on one side, a SIP user agent on the other,
and a pair of calls bridged for every call that crosses (docs/sip-gateway.md).

- Outbound: the server routes an invite to a number to this session (``CallIncoming.to``);
  ``OutboundCall`` places the INVITE and maps the SIP answers back onto the Sigphone call.
- Inbound: an INVITE to ``sip:ACCOUNT@gateway`` becomes ``channel_invite_user2`` from this
  session to ACCOUNT (``srcNum`` = the caller's number); ``InboundCall`` maps the callee's
  accept, refusal and end back to SIP.

Everything runs on one asyncio loop: SIP events come through ``SipStack`` (pjsip polled on
the loop), Sigphone events through the SDK's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from typing import Any

from ..media.engine import MediaConfig
from ..protocol.call_payloads import (
    DtmfMessage,
    InviteExtra,
    encode_accept_extra,
    encode_sip_reason,
    read_accept_sdp,
    read_call_message,
    read_end_reason,
    read_invite_extra,
)
from ..protocol.errors import SignalError
from ..protocol.names import is_valid_name
from ..protocol.token import make_token
from ..sdk import Signal
from ..sdk.call import Call
from ..sdk.session import Session
from .codes import inbound_status, outbound_outcome
from .config import GatewayConfig
from .media_bridge import MediaBridge
from .pjsip_stack import IncomingCall, SipCall, SipStack, SipStackConfig, uri_host

__all__ = ["Gateway"]

log = logging.getLogger("sigphone.sipgw")

NO_TOKEN = "_no_need_token"
#: A number is what the server routes to us; an inbound call to one would loop back.
_NUMBER = re.compile(r"\+?[0-9]{3,20}")
#: The seeds' DTMF digits (RFC 4733 events 0-15).
_DTMF = frozenset("0123456789*#ABCD")


class Gateway:
    """``async with Gateway(config) as gw:`` joins the app and serves SIP until closed."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.stack = SipStack(
            SipStackConfig(
                host=config.host,
                port=config.port,
                codecs=tuple(config.codecs),
                rtp_port=config.rtp_port,
                account=config.account,
                credentials=config.credentials,
                trunk=config.trunk,
                log_level=config.sip_log_level,
            ),
            on_incoming=self._on_sip_invite,
        )
        self.media = MediaConfig(
            host_addresses=tuple(config.ice_hosts) if config.ice_hosts is not None else None
        )
        self.session: Session | None = None
        #: Calls being bridged (either direction); ``live`` is their number.
        self.calls: set[OutboundCall | InboundCall] = set()
        self.served = 0
        #: Logins so far (1 after start; more after a session ended for good).
        self.logins = 0
        self._closing = False
        self._inbound_pattern = re.compile(config.inbound_accounts)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def live(self) -> int:
        return len(self.calls)

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        await self.stack.start()
        try:
            await self._login()
        except BaseException:
            await self.stack.stop()
            raise

    async def _login(self) -> None:
        cfg = self.config
        token = NO_TOKEN
        if cfg.certificate:
            expires = int(time.time() + cfg.token_ttl)
            token = make_token(cfg.account, cfg.app, cfg.certificate, expires)
        # Several servers: the SDK logs in on the first that answers and rotates through
        # them when it reconnects.
        signal = Signal(cfg.app, server=cfg.servers)
        # The caller hears "ringing" (on_invite_received_by_peer) only once the far phone
        # rings: OutboundCall confirms the invite on SIP 180/183.
        signal.auto_confirm_invites = False
        session = await signal.login(cfg.account, token)
        session.on_invite_received = self._on_invite_received
        session.on_logout = self._logged_out
        self.session = session
        self.logins += 1
        log.info("joined app %s as %s", cfg.app, cfg.account)

    async def _logged_out(self, code: int) -> None:
        """The session is over for good (token expired, kicked, reconnects used up): the
        server has ended its calls and the SDK says no more about them, so the SIP legs end
        here; then the gateway logs in again (a fresh token) until it is back."""
        log.warning("gateway session ended (%d): SIP calls ended, logging in again", code)
        for call in list(self.calls):
            if call.sip is not None:
                call.sip.hangup(503 if not call.sip.confirmed else 0)
            await call._release()
        if not self._closing:
            self.spawn(self._relogin())

    async def _relogin(self) -> None:
        delay = 0.5
        while not self._closing:
            try:
                await self._login()
                return
            except (SignalError, OSError) as exc:
                log.warning("login failed (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        self._closing = True
        for call in list(self.calls):
            await call.shutdown()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stack.stop()
        if self.session is not None and self.session.get_status():
            with contextlib.suppress(SignalError):
                await self.session.logout()

    # --- Entry points ------------------------------------------------------------------------

    def _on_invite_received(self, call: Call) -> None:
        self._on_sigphone_invite(call, call.to)

    def _on_sigphone_invite(self, call: Call, number: str) -> None:
        if not number:  # an ordinary call to the gateway's account: not for us
            self.spawn(call.channel_invite_refuse(encode_sip_reason(404, "not a number")))
            return
        bridged = OutboundCall(self, call, number)
        self.calls.add(bridged)
        self.spawn(bridged.start())

    def _on_sip_invite(self, sip: SipCall, info: IncomingCall) -> None:
        account = info.to_user
        if (
            not is_valid_name(account)
            or _NUMBER.fullmatch(account)
            or account == self.config.account
            or not self._inbound_pattern.fullmatch(account)
        ):
            log.info("inbound INVITE for unknown account %r: 404", account)
            sip.reject(404)
            return
        if self.session is None or not self.session.is_online():
            sip.reject(503)
            return
        bridged = InboundCall(self, sip, info)
        self.calls.add(bridged)
        self.spawn(bridged.start())

    # --- Helpers -------------------------------------------------------------------------------

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("gateway task failed", exc_info=task.exception())

    def finished(self, call: OutboundCall | InboundCall) -> None:
        if call in self.calls:
            self.calls.discard(call)
            self.served += 1

    def trunk_uri(self, number: str) -> str | None:
        trunk = self.config.trunk
        if trunk is None:
            return None
        scheme, _, rest = trunk.partition(":")
        return f"{scheme}:{number}@{rest}"

    def from_uri(self, user: str) -> str:
        trunk = self.config.trunk
        domain = self.config.from_domain or (
            uri_host(trunk) if trunk and self.config.credentials else self.config.host
        )
        shown = user.replace("\\", "").replace('"', "")
        return f'"{shown}" <sip:{user}@{domain}>'


class _Bridged:
    """What both directions share: the media bridge, DTMF and the end of both legs."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.bridge = MediaBridge(gateway.media, gateway.stack.bridge_rate)
        self.sip: SipCall | None = None
        self.call: Call | None = None
        self.over = False

    async def _sigphone_msg(self, extra: str) -> None:
        msg = read_call_message(extra)
        if isinstance(msg, DtmfMessage) and self.sip is not None and not self.sip.ended:
            digits = "".join(d for d in msg.digits.upper() if d in _DTMF)
            if digits:
                try:
                    method = self.sip.send_digits(digits)
                except RuntimeError as exc:  # e.g. before the far end answered
                    log.info("DTMF %r not sent: %s", digits, exc)
                    return
                log.info("DTMF %r to SIP as %s", digits, method)

    def on_dtmf(self, digit: str) -> None:
        call = self.call
        if call is not None and not self.over and digit.upper() in _DTMF:
            self.gw.spawn(_quietly(call.channel_invite_dtmf(digit.upper())))

    async def _release(self) -> None:
        if self.over:
            return
        self.over = True
        await self.bridge.close()
        self.gw.finished(self)  # type: ignore[arg-type]

    async def shutdown(self) -> None:
        """The gateway is closing: end both legs."""
        if self.sip is not None:
            self.sip.hangup(503 if not self.sip.confirmed else 0)
        if self.call is not None and self.call.state != "ended":
            await _quietly(self.call.channel_invite_end(encode_sip_reason(503, "gateway closing")))
        await self._release()


class OutboundCall(_Bridged):
    """A Sigphone user calls a number: ``call`` is the gateway's (callee) side of it."""

    def __init__(self, gateway: Gateway, call: Call, number: str) -> None:
        super().__init__(gateway)
        self.call = call
        self.number = number
        self.answer_sdp: str | None = None
        self.confirmed_ringing = False
        self.timed_out = False
        self._timer: asyncio.TimerHandle | None = None
        call.on_invite_end_by_peer = self._caller_ended
        call.on_invite_msg = self._sigphone_msg

    async def start(self) -> None:
        call = self.call
        assert call is not None
        invite = read_invite_extra(call.extra)
        dest = self.gw.trunk_uri(self.number)
        if dest is None or not self.gw.stack.verify_uri(dest):
            await self._fail_sigphone(404, "no SIP trunk for this number")
            return
        if invite.sdp is not None:
            try:
                self.answer_sdp = await self.bridge.engine.accept_offer(invite.sdp)
            except Exception as exc:
                log.warning("bad WebRTC offer from %s: %s", call.peer, exc)
                await self._fail_sigphone(488, "bad media offer")
                return
        if self.over:  # the caller gave up meanwhile
            return
        from_user = invite.src_num or call.peer
        try:
            self.sip = self.gw.stack.make_call(dest, self.gw.from_uri(from_user), self)
        except RuntimeError as exc:
            log.warning("%s", exc)
            await self._fail_sigphone(503, "SIP call could not be placed")
            return
        self.sip.pipe = self.bridge
        log.info("%s -> %s: INVITE %s as %s", call.peer, self.number, dest, from_user)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.gw.config.no_answer_timeout, self._no_answer)

    def _no_answer(self) -> None:
        if self.sip is not None and not self.sip.confirmed and not self.sip.ended:
            self.timed_out = True
            self.sip.hangup()  # CANCEL; its 487 ends the call as a timeout (704)

    # --- SIP side ---------------------------------------------------------------------

    def on_progress(self, status: int) -> None:
        if not self.confirmed_ringing and self.call is not None and not self.over:
            self.confirmed_ringing = True
            self.gw.spawn(_quietly(self.call.confirm()))

    def on_confirmed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.call is not None and not self.over:
            extra = encode_accept_extra(self.answer_sdp)
            self.gw.spawn(_quietly(self.call.channel_invite_accept(extra)))

    def on_disconnected(self, status: int, reason: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.gw.spawn(self._sip_ended(status, reason))

    async def _sip_ended(self, status: int, reason: str) -> None:
        call = self.call
        if self.over or call is None:
            return
        sip = self.sip
        if sip is not None and sip.confirmed:
            await _quietly(call.channel_invite_end(encode_sip_reason(status, reason)))
        else:
            outcome = outbound_outcome(status, timed_out=self.timed_out)
            extra = encode_sip_reason(status, reason, outcome.ecode)
            log.info(
                "%s: SIP %d %s -> %s %s",
                self.number,
                status,
                reason,
                outcome.what,
                outcome.ecode or "",
            )
            await _quietly(call.channel_invite_refuse(extra))
        await self._release()

    async def _fail_sigphone(self, status: int, reason: str) -> None:
        outcome = outbound_outcome(status)
        if self.call is not None:
            extra = encode_sip_reason(status, reason, outcome.ecode)
            await _quietly(self.call.channel_invite_refuse(extra))
        await self._release()

    # --- Sigphone side -------------------------------------------------------------------

    async def _caller_ended(self, extra: str) -> None:
        if self.sip is not None:
            self.sip.hangup()  # CANCEL while ringing, BYE once answered
        await self._release()

    async def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await super()._release()


class InboundCall(_Bridged):
    """A SIP phone calls a Sigphone user: ``call`` is the gateway's (caller) side of it."""

    def __init__(self, gateway: Gateway, sip: SipCall, info: IncomingCall) -> None:
        super().__init__(gateway)
        self.sip = sip
        self.info = info
        sip.handler = self
        sip.pipe = self.bridge

    async def start(self) -> None:
        session = self.gw.session
        assert session is not None and self.sip is not None
        offer = await self.bridge.engine.create_offer()
        if self.sip.ended:
            await self._release()
            return
        extra = InviteExtra(
            src_num=self.info.from_user or None, sdp=offer, require_peer_online=True
        ).encode()
        channel = f"sip-{secrets.token_hex(8)}"
        try:
            call = await session.channel_invite_user2(channel, self.info.to_user, extra)
        except SignalError as exc:
            log.warning("inbound call to %s: %s", self.info.to_user, exc)
            self.sip.reject(404 if exc.code == 1004 else 500)
            await self._release()
            return
        self.call = call
        call.on_invite_received_by_peer = self._ringing
        call.on_invite_accepted_by_peer = self._accepted
        call.on_invite_refused_by_peer = self._refused
        call.on_invite_failed = self._failed
        call.on_invite_end_by_peer = self._callee_ended
        call.on_invite_msg = self._sigphone_msg
        log.info("SIP %s -> %s: ringing on Sigphone", self.info.from_user, self.info.to_user)
        if self.sip.ended:  # the SIP caller gave up while we invited
            await _quietly(call.channel_invite_end())
            await self._release()

    # --- Sigphone side ---------------------------------------------------------------------

    def _ringing(self, _extra: str) -> None:
        if self.sip is not None:
            self.sip.ring(180)

    async def _accepted(self, extra: str) -> None:
        answer = read_accept_sdp(extra)
        if answer is not None:
            try:
                await self.bridge.engine.accept_answer(answer)
            except Exception as exc:
                log.warning("bad WebRTC answer from %s: %s", self.info.to_user, exc)
        if self.sip is not None:
            self.sip.accept()

    async def _refused(self, _extra: str) -> None:
        if self.sip is not None:
            self.sip.reject(603)
        await self._release()

    async def _failed(self, extra: str) -> None:
        if self.sip is not None:
            self.sip.reject(inbound_status(read_end_reason(extra)))
        await self._release()

    async def _callee_ended(self, _extra: str) -> None:
        if self.sip is not None:
            self.sip.hangup(603 if not self.sip.confirmed else 0)
        await self._release()

    # --- SIP side ----------------------------------------------------------------------------

    def on_progress(self, status: int) -> None:
        pass

    def on_confirmed(self) -> None:
        pass

    def on_disconnected(self, status: int, reason: str) -> None:
        self.gw.spawn(self._sip_ended())

    async def _sip_ended(self) -> None:
        if self.call is not None and not self.over and self.call.state != "ended":
            await _quietly(self.call.channel_invite_end())
        await self._release()


async def _quietly(coro: Any) -> None:
    """A Sigphone request whose failure only means the call ended meanwhile."""
    try:
        await coro
    except SignalError as exc:
        log.info("call request failed (the call may have ended): %s", exc)
