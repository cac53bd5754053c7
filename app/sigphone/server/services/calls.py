"""The call system (K1-K4): the server owns every call's state, from invite to its end.

A call is (caller, callee, channel) in one app, known by the id the caller's SDK chose. Its
states are ``ringing`` -> ``accepted`` -> ``ended`` (or ``ringing`` -> ``ended``). Every event
goes to the sessions through ``hub.push``, so calls ride the same sequence/ack/resume
machinery as everything else: a short network break loses or repeats nothing. A call is
bound to the sessions of its two sides; when one of them ends for good (logout, kick,
reconnect window over, token expired) the other side is told and the call is gone, so no
call is left dangling. Calls do not look at channel membership (K5: call then join, or join
then call). See docs/calls.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sigphone.protocol import calls as c
from sigphone.protocol.call_payloads import encode_end_reason, read_end_reason
from sigphone.protocol.call_state import CallState, transition
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.names import check_name
from sigphone.server.core.hub import Hub, ReplyData
from sigphone.server.core.session import ServerSession

__all__ = ["CallConfig", "Calls", "ServerCall"]

log = logging.getLogger("sigphone.server")

# The states and their table live in protocol.call_state, shared with the SDK.
RINGING = CallState.RINGING
ACCEPTED = CallState.ACCEPTED
ENDED = CallState.ENDED

CALLER = "caller"
CALLEE = "callee"


class Cancellable(Protocol):
    def cancel(self) -> None: ...


#: ``call_later(delay, fn)``: the timer factory (asyncio's by default; tests inject their own
#: to prove the default limits without waiting for them).
CallLater = Callable[[float, Callable[[], None]], Cancellable]
#: ``listener(app, event)``: every call event, for the Server API's event stream.
CallListener = Callable[[str, dict[str, Any]], None]


@dataclass(slots=True)
class CallConfig:
    #: K3: a call the callee's SDK has not confirmed (invite-received ack) in time fails 704.
    confirm_timeout: float = 30.0
    #: K1: with ``_require_peer_online`` 0, how long a call waits for an offline callee to
    #: log in before it fails with 703.
    offline_timeout: float = 20.0
    #: K6: the SIP gateway accounts per app (``[[apps]] gateway = "sipgw"`` or a list);
    #: invites whose peer matches ``number_pattern`` go to one of them (docs/sip-gateway.md).
    gateways: dict[str, list[str]] = field(default_factory=dict)
    #: What "looks like a phone number": an optional +, then 3 to 20 digits.
    number_pattern: str = r"\+?[0-9]{3,20}"

    def gateways_for(self, app: str, peer: str) -> list[str]:
        """The gateway accounts that may take a call to ``peer`` ([] unless it is a number)."""
        gateways = self.gateways.get(app)
        if not gateways or not re.fullmatch(self.number_pattern, peer):
            return []
        return gateways


@dataclass(eq=False, slots=True)
class ServerCall:
    id: str
    app: str
    channel: str
    caller: str
    callee: str
    extra: str
    #: None for a call made through the Server API (its events go to the API's stream).
    caller_session: ServerSession | None
    #: None until the invite has been pushed to the callee.
    callee_session: ServerSession | None = None
    state: CallState = RINGING
    confirmed: bool = False
    timer: Cancellable | None = None
    sessions: list[ServerSession] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Two calls with one key cannot be in flight together (701)."""
        return (self.app, self.caller, self.callee, self.channel)


def _ecode(code: int) -> str:
    return encode_end_reason(code)


def _logout(code: int) -> str:
    return json.dumps({"logout": int(code)})


def _asyncio_call_later(delay: float, fn: Callable[[], None]) -> Cancellable:
    return asyncio.get_running_loop().call_later(delay, fn)


class Calls:
    """The call service: construct it with the hub; it registers its handlers and hooks."""

    def __init__(
        self,
        hub: Hub,
        config: CallConfig | None = None,
        *,
        call_later: CallLater | None = None,
    ) -> None:
        self.hub = hub
        self.config = config or CallConfig()
        self.call_later: CallLater = call_later or _asyncio_call_later
        #: By (app, call id): ids are namespaced per app, so no app can probe, block or
        #: reach another app's calls by guessing or reusing their ids.
        self.calls: dict[tuple[str, str], ServerCall] = {}
        self.in_flight: dict[tuple[str, str, str, str], ServerCall] = {}
        self.by_session: dict[ServerSession, set[ServerCall]] = {}
        #: Calls waiting for their callee to log in, by (app, callee).
        self.waiting: dict[tuple[str, str], list[ServerCall]] = {}
        self.listeners: list[CallListener] = []
        hub.register(c.CallInvite, self._on_invite)
        hub.register(c.CallAck, self._on_ack)
        hub.register(c.CallAccept, self._on_accept)
        hub.register(c.CallRefuse, self._on_refuse)
        hub.register(c.CallEnd, self._on_end)
        hub.register(c.CallMsg, self._on_msg)
        hub.register(c.CallDtmf, self._on_dtmf)
        hub.on_session_start(self._session_started)
        hub.on_session_end(self._session_ended)

    @property
    def live(self) -> int:
        """Calls not yet ended (0 when nothing leaks)."""
        return len(self.calls)

    # --- Starting a call ---------------------------------------------------------------

    def invite(
        self,
        app: str,
        caller: str,
        callee: str,
        channel: str,
        extra: str = "",
        *,
        caller_session: ServerSession | None = None,
        call_id: str | None = None,
    ) -> str:
        """Start a call and return its id; failures (701, 703) arrive as ``failed`` events.

        ``caller_session`` None makes a Server API call: the caller side's events go only
        to the listeners. Raises SignalError for bad parameters.
        """
        channel = check_name(channel, "channel")
        callee = check_name(callee, "peer")
        caller = check_name(caller, "account")
        opts = c.parse_invite_extra(extra)
        if callee == caller:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "a user cannot call itself")
        cid = c.check_call_id(call_id) if call_id is not None else secrets.token_hex(16)
        existing = self.calls.get((app, cid))
        if existing is not None:
            if existing.caller_session is caller_session:
                return cid  # the SDK sent the invite again after a reconnect
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "call id in use")
        call = ServerCall(
            id=cid,
            app=app,
            channel=channel,
            caller=caller,
            callee=callee,
            extra=extra,
            caller_session=caller_session,
        )
        if call.key in self.in_flight:
            self._send(call, CALLER, "failed", _ecode(ErrorCode.INVITE_E_REINVITE))
            return cid
        gateways = self.config.gateways_for(app, callee)
        peer = self._gateway(app, gateways) if gateways else self.find_peer(app, callee)
        if peer is None and (opts.require_peer_online or gateways):
            # A number is never "offline": its gateway is (``_require_peer_online`` does
            # not apply to numbers, it fails at once).
            self._send(call, CALLER, "failed", _ecode(ErrorCode.INVITE_E_PEEROFFLINE))
            return cid
        self.calls[(app, cid)] = call
        self.in_flight[call.key] = call
        if caller_session is not None:
            self._bind(call, caller_session)
        if peer is not None:
            self._deliver(call, peer)
        else:
            self.waiting.setdefault((app, callee), []).append(call)
            call.timer = self.call_later(
                self.config.offline_timeout, lambda: self._offline_expired(call)
            )
        return cid

    def find_peer(self, app: str, callee: str) -> ServerSession | None:
        """The callee's live session (a cluster also finds one on another node)."""
        return self.hub.sessions.get((app, callee))

    def _gateway(self, app: str, accounts: list[str]) -> ServerSession | None:
        """The online gateway of ``app`` with the fewest calls (a process carries a few)."""
        online = [s for a in accounts if (s := self.hub.sessions.get((app, a))) is not None]
        return min(online, key=lambda s: len(self.by_session.get(s, ())), default=None)

    def _deliver(self, call: ServerCall, callee: ServerSession) -> None:
        call.callee_session = callee
        self._bind(call, callee)
        incoming = c.CallIncoming(
            call=call.id,
            channel=call.channel,
            account=call.caller,
            extra=call.extra,
            # Routed to the app's gateway: the number dialled.
            to=call.callee if callee.account != call.callee else "",
        )
        self.hub.push(callee, incoming)
        self._notify(call, CALLEE, "incoming", call.extra)
        call.timer = self.call_later(
            self.config.confirm_timeout, lambda: self._confirm_expired(call)
        )

    def _session_started(self, session: ServerSession) -> None:
        for call in self.waiting.pop(session.key, []):
            if call.state == RINGING and call.callee_session is None:
                self._cancel_timer(call)
                self._deliver(call, session)

    # --- Timers --------------------------------------------------------------------------

    def _offline_expired(self, call: ServerCall) -> None:
        if call.state == RINGING and call.callee_session is None:
            self._send(call, CALLER, "failed", _ecode(ErrorCode.INVITE_E_PEEROFFLINE))
            self._finish(call)

    def _confirm_expired(self, call: ServerCall) -> None:
        if call.state == RINGING and not call.confirmed:
            self._send(call, CALLER, "failed", _ecode(ErrorCode.INVITE_E_TIMEOUT))
            self._send(call, CALLEE, "end_by_peer", _ecode(ErrorCode.INVITE_E_TIMEOUT))
            self._finish(call)

    # --- Requests ------------------------------------------------------------------------

    def _on_invite(self, session: ServerSession, frame: c.CallInvite) -> ReplyData:
        cid = c.check_call_id(frame.call)
        self.invite(
            session.app,
            session.account,
            frame.peer,
            frame.channel,
            frame.extra,
            caller_session=session,
            call_id=cid,
        )
        return {"call": cid}

    def _mine(self, session: ServerSession, cid: str) -> tuple[ServerCall, str]:
        """The call and my side of it; other users' (and other apps') calls do not exist."""
        call = self.calls.get((session.app, c.check_call_id(cid)))
        if call is not None:
            if call.caller_session is session:
                return call, CALLER
            if call.callee_session is session:
                return call, CALLEE
        raise SignalError(ErrorCode.INVITE_E_OTHER, "no such call (it may have ended)")

    def _callee_call(self, session: ServerSession, cid: str) -> ServerCall:
        call, side = self._mine(session, cid)
        if side != CALLEE:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "only the callee can do this")
        return call

    def _on_ack(self, session: ServerSession, frame: c.CallAck) -> ReplyData:
        self._confirm(self._callee_call(session, frame.call))
        return {}

    def _confirm(self, call: ServerCall) -> None:
        if call.state == RINGING and not call.confirmed:
            call.confirmed = True
            self._cancel_timer(call)  # K3: from now on the caller decides when to give up
            self._send(call, CALLER, "received_by_peer", "")

    def _on_accept(self, session: ServerSession, frame: c.CallAccept) -> ReplyData:
        extra = c.check_extra(frame.extra)
        call = self._callee_call(session, frame.call)
        if call.state == ACCEPTED:
            return {}  # sent again after a reconnect
        self._confirm(call)
        call.state = _step(call, "accepted_by_peer")
        self._send(call, CALLER, "accepted_by_peer", extra)
        return {}

    def _on_refuse(self, session: ServerSession, frame: c.CallRefuse) -> ReplyData:
        extra = c.check_extra(frame.extra)
        call = self._callee_call(session, frame.call)
        if transition(call.state, "refused_by_peer") is None:
            raise SignalError(ErrorCode.INVITE_E_OTHER, "the call is accepted: end it instead")
        if session.account != call.callee and read_end_reason(extra) is not None:
            # The gateway's way of saying a SIP call failed (404, 408 ...): docs/sip-gateway.md.
            self._send(call, CALLER, "failed", extra)
        else:
            self._send(call, CALLER, "refused_by_peer", extra)
        self._finish(call)
        return {}

    def _on_end(self, session: ServerSession, frame: c.CallEnd) -> ReplyData:
        extra = c.check_extra(frame.extra)
        call, side = self._mine(session, frame.call)
        self.end(call, side, extra)
        return {}

    def end(self, call: ServerCall, side: str, extra: str = "") -> None:
        """``side`` hangs up (or cancels a ringing call): both sides are told."""
        if call.state == ENDED:
            return
        self._send(call, side, "end_by_myself", extra)
        self._send(call, _other(side), "end_by_peer", extra)
        self._finish(call)

    def _on_msg(self, session: ServerSession, frame: c.CallMsg) -> ReplyData:
        extra = c.check_extra(frame.extra)
        call, side = self._mine(session, frame.call)
        self._message(call, side, extra)
        return {}

    def _on_dtmf(self, session: ServerSession, frame: c.CallDtmf) -> ReplyData:
        digits = c.check_dtmf(frame.dtmf)
        call, side = self._mine(session, frame.call)
        self._message(call, side, c.dtmf_payload(digits))
        return {}

    def _message(self, call: ServerCall, side: str, extra: str) -> None:
        if call.callee_session is None:
            raise SignalError(ErrorCode.INVITE_E_OTHER, "the callee has not got the call yet")
        self._send(call, _other(side), "msg", extra)

    # --- Sessions ending -------------------------------------------------------------------

    def _session_ended(self, session: ServerSession, code: ErrorCode) -> None:
        for call in list(self.by_session.pop(session, ())):
            if call.state == ENDED:
                continue
            if call.caller_session is session:
                self._send(call, CALLEE, "end_by_peer", _logout(code))
            elif call.state == RINGING:
                lost = ErrorCode.INVITE_E_NET if code == ErrorCode.LOGOUT_E_NET else None
                self._send(call, CALLER, "failed", _ecode(lost or ErrorCode.INVITE_E_PEEROFFLINE))
            else:
                self._send(call, CALLER, "end_by_peer", _logout(code))
            self._finish(call)

    # --- Plumbing ----------------------------------------------------------------------------

    def _send(self, call: ServerCall, side: str, what: str, extra: str) -> None:
        """Push ``on_invite_<what>(extra)`` to one side (if it has the call) and listeners."""
        session = call.caller_session if side == CALLER else call.callee_session
        if session is not None:
            self.hub.push(session, c.CallEvent(call=call.id, what=what, extra=extra))
        elif side == CALLEE:
            return  # the callee never got this call: nothing to tell it
        self._notify(call, side, what, extra)

    def _notify(self, call: ServerCall, side: str, what: str, extra: str) -> None:
        if not self.listeners:
            return
        event = {
            "type": "call",
            "call": call.id,
            "channel": call.channel,
            "caller": call.caller,
            "callee": call.callee,
            "to": side,
            "event": what,
            "extra": extra,
        }
        for listener in list(self.listeners):
            try:
                listener(call.app, event)
            except Exception:
                log.exception("call listener failed")

    def _bind(self, call: ServerCall, session: ServerSession) -> None:
        self.by_session.setdefault(session, set()).add(call)
        call.sessions.append(session)

    def _cancel_timer(self, call: ServerCall) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    def _finish(self, call: ServerCall) -> None:
        call.state = ENDED
        self._cancel_timer(call)
        self.calls.pop((call.app, call.id), None)
        if self.in_flight.get(call.key) is call:
            del self.in_flight[call.key]
        for session in call.sessions:
            bound = self.by_session.get(session)
            if bound is not None:
                bound.discard(call)
                if not bound:
                    del self.by_session[session]
        waiting = self.waiting.get((call.app, call.callee))
        if waiting is not None and call in waiting:
            waiting.remove(call)
            if not waiting:
                del self.waiting[(call.app, call.callee)]


def _other(side: str) -> str:
    return CALLEE if side == CALLER else CALLER


def _step(call: ServerCall, event: str) -> CallState:
    """The call's state after ``event`` (the shared table); 700 when not allowed."""
    state = transition(call.state, event)
    if state is None:
        raise SignalError(ErrorCode.INVITE_E_OTHER, f"not possible in a {call.state} call")
    return state
