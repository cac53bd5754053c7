"""Calls in the SDK (K1-K4): the ``Call`` object and the ``Calls`` component of a session.

The server owns a call's state; a ``Call`` mirrors it from the events the server pushes
through the session's sequenced, acknowledged, resumable stream, so a short network break
neither loses nor repeats a call event. Each Call callback fires at most once per event and
nothing fires after the call's end (failed, refused, ended by either side).

Callbacks of a Call you make fire only after ``channel_invite_user2`` has returned, so set
them right after the ``await`` (before your next ``await``) and none is missed; on the callee
side set them inside ``on_invite_received``. See docs/calls.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ..protocol import calls as c
from ..protocol.call_state import CallState, is_terminal, transition
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.names import check_name
from .requests import Handler, Requests

__all__ = ["Call", "Calls"]

log = logging.getLogger("sigphone.sdk")

RINGING = CallState.RINGING
ACCEPTED = CallState.ACCEPTED
ENDED = CallState.ENDED

#: Invite failures the server reports by code (docs/calls.md); any other refusal is 700.
_FAILED_CODES = frozenset(
    {
        ErrorCode.INVITE_E_REINVITE,
        ErrorCode.INVITE_E_NET,
        ErrorCode.INVITE_E_PEEROFFLINE,
        ErrorCode.INVITE_E_TIMEOUT,
    }
)
#: Refusals that stay exceptions: bad parameters, not logged in, the session's end.
_RAISED = frozenset(
    {
        ErrorCode.GENERAL_E_WRONG_PARAM,
        ErrorCode.GENERAL_E_LARGE_PARAM,
        ErrorCode.GENERAL_E_NOT_LOGIN,
        ErrorCode.INVITE_E_NET,  # no answer in time (docs/calls.md)
    }
    | {code for code in ErrorCode if 100 <= code < 200}
)


class Call:
    """One call, made (``direction`` "out") or received ("in").

    ``state`` is "ringing", "accepted" or "ended". ``extra`` is the invite's extra (JSON text,
    "" when none): the callee reads ``srcNum``, ``destMediaUid`` and any key of its own there.
    """

    # --- Callbacks (seed name -> attribute): each gets the event's extra text -----------
    on_invite_received_by_peer: Callable[[str], Any] | None = None
    on_invite_accepted_by_peer: Callable[[str], Any] | None = None
    on_invite_refused_by_peer: Callable[[str], Any] | None = None
    #: extra is JSON holding the seed code, e.g. {"ecode": 704}.
    on_invite_failed: Callable[[str], Any] | None = None
    on_invite_end_by_peer: Callable[[str], Any] | None = None
    on_invite_end_by_myself: Callable[[str], Any] | None = None
    on_invite_msg: Callable[[str], Any] | None = None

    def __init__(
        self, calls: Calls, call_id: str, channel: str, peer: str, extra: str, direction: str
    ) -> None:
        self._calls = calls
        self._requests = calls.requests
        self.id = call_id
        self.channel = channel
        self.peer = peer
        self.extra = extra
        self.direction = direction
        self._state = RINGING
        self._over = False  # the call's last callback has been queued: ignore the rest
        self._released = asyncio.Event()  # set once the application holds this object
        self._confirmed = direction == "out"
        #: The number dialled, on a call the server routed to this app's SIP gateway
        #: (docs/sip-gateway.md); "" on every ordinary call.
        self.to = ""

    @property
    def state(self) -> CallState:
        """ "ringing", "accepted" or "ended"; every call is "ended" once the session is over
        (after on_logout no call callback fires: the logout is the last word)."""
        return ENDED if self._requests.ended() else self._state

    @state.setter
    def state(self, value: CallState) -> None:
        self._state = value

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name.startswith("on_") and value is not None:
            self._requests.callback_assigned()

    def __repr__(self) -> str:
        return f"<Call {self.direction} {self.peer!r} in {self.channel!r} {self.state} {self.id}>"

    async def confirm(self) -> None:
        """Tell the caller that this invite arrived (its on_invite_received_by_peer).

        The SDK does this by itself unless ``Signal.auto_confirm_invites`` is False (a
        gateway confirms once the far phone rings). Only the first call sends anything.
        """
        if self._confirmed:
            return
        self._confirmed = True
        await self._requests.request(c.CallAck(call=self.id))

    async def channel_invite_accept(self, extra: str = "") -> None:
        """Accept (callee): the caller gets on_invite_accepted_by_peer(extra)."""
        c.check_extra(extra)
        await self._requests.request(c.CallAccept(call=self.id, extra=extra))
        if self.state == RINGING:
            self.state = ACCEPTED

    async def channel_invite_refuse(self, extra: str = "") -> None:
        """Refuse (callee, while ringing): the caller gets on_invite_refused_by_peer(extra)."""
        c.check_extra(extra)
        await self._requests.request(c.CallRefuse(call=self.id, extra=extra))
        self._close()

    async def channel_invite_end(self, extra: str = "") -> None:
        """End the call in any state (cancels a ringing one): on_invite_end_by_myself here,
        on_invite_end_by_peer there. Ending a call that is already over does nothing."""
        c.check_extra(extra)
        if self._over:
            return
        try:
            await self._requests.request(c.CallEnd(call=self.id, extra=extra))
        except SignalError as exc:
            if exc.code != ErrorCode.INVITE_E_OTHER:
                raise
            return  # it ended meanwhile; its last event is on its way
        self.state = ENDED

    async def channel_invite_dtmf(self, dtmf: str) -> None:
        """Send DTMF digits (0-9 * # A-D); the other side gets on_invite_msg with the JSON
        ``{"type":"dtmf","dtmf":"<digits>"}``."""
        await self._requests.request(c.CallDtmf(call=self.id, dtmf=c.check_dtmf(dtmf)))

    async def channel_invite_msg(self, extra: str) -> None:
        """Send free text (up to 8K) to the other side's on_invite_msg (SDP, app data)."""
        await self._requests.request(c.CallMsg(call=self.id, extra=c.check_extra(extra)))

    def _close(self) -> None:
        self.state = ENDED
        self._over = True
        self._calls.table.pop(self.id, None)


class Calls:
    """The call side of a session (composition: it gets the session's ``Requests`` and
    registers its handlers in the dispatch table)."""

    def __init__(self, requests: Requests) -> None:
        self.requests = requests
        self.table: dict[str, Call] = {}
        requests.on_relogin(self._lost)

    def handlers(self) -> dict[type[Any], Handler]:
        return {c.CallIncoming: self._on_incoming, c.CallEvent: self._on_event}

    @property
    def calls(self) -> list[Call]:
        return [call for call in self.table.values() if call.state != ENDED]

    async def invite(self, channel: str, peer: str, extra: str) -> Call:
        check_name(channel, "channel")
        check_name(peer, "peer")
        c.parse_invite_extra(extra)
        call = Call(self, secrets.token_hex(16), channel, peer, extra, "out")
        self.table[call.id] = call
        frame = c.CallInvite(call=call.id, channel=channel, peer=peer, extra=extra)
        try:
            await self.requests.request(frame, timeout_code=ErrorCode.INVITE_E_NET)
        except SignalError as exc:
            if exc.code in _RAISED:
                call._close()
                call._released.set()
                raise
            # The server refused the call: it fails like any call (K2), 700 for "other".
            code = exc.code if exc.code in _FAILED_CODES else ErrorCode.INVITE_E_OTHER
            log.info("invite refused: %s", exc)
            self.requests.later(self._call_event, call, "failed", _ecode(code))
        except BaseException:
            call._close()
            call._released.set()
            raise
        # Release the call's events after the caller has had its turn to set callbacks.
        asyncio.get_running_loop().call_soon(call._released.set)
        return call

    # --- Events (in dispatch order) ------------------------------------------------------

    async def _on_incoming(self, event: c.CallIncoming) -> None:
        if event.call in self.table:
            return
        call = Call(self, event.call, event.channel, event.account, event.extra, "in")
        call.to = event.to
        call._released.set()
        self.table[call.id] = call
        if self.requests.auto_confirm_invites:
            self.requests.spawn(call.confirm())
        await self.requests.hand(
            lambda: self.requests.on_session("on_invite_received"), "on_invite_received", call
        )

    async def _on_event(self, event: c.CallEvent) -> None:
        call = self.table.get(event.call)
        if call is None or event.what not in c.CALL_EVENTS:
            return
        await call._released.wait()
        await self._call_event(call, event.what, event.extra)

    async def _call_event(self, call: Call, what: str, extra: str) -> None:
        if call._over:
            return
        state = transition(call._state, what)  # the table the server applies too
        if state is ENDED or (state is None and is_terminal(what)):
            call._close()
        elif state is not None:
            call.state = state
        name = "on_invite_" + what
        await self.requests.hand(lambda: getattr(call, name), name, extra)

    def _lost(self) -> None:
        """The server restarted and forgot our calls: end them here, in event order."""
        lost = _ecode(ErrorCode.INVITE_E_NET)
        for call in list(self.table.values()):
            what = "failed" if call.direction == "out" and call.state == RINGING else "end_by_peer"
            self.requests.later(self._call_event, call, what, lost)


def _ecode(code: int) -> str:
    return json.dumps({"ecode": int(code)})
