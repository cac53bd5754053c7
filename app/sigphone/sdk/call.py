"""Calls in the SDK (K1-K4): the ``Call`` object and the session's call methods.

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
from typing import TYPE_CHECKING, Any

from ..protocol import calls as c
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.names import check_name

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Call", "CallOps"]

log = logging.getLogger("sigphone.sdk")

RINGING = "ringing"
ACCEPTED = "accepted"
ENDED = "ended"

#: Events after which a call is over.
_TERMINAL = frozenset({"failed", "refused_by_peer", "end_by_peer", "end_by_myself"})


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
        self, session: Session, call_id: str, channel: str, peer: str, extra: str, direction: str
    ) -> None:
        self.session = session
        self.id = call_id
        self.channel = channel
        self.peer = peer
        self.extra = extra
        self.direction = direction
        self._state = RINGING
        self._over = False  # the call's last callback has been queued: ignore the rest
        self._released = asyncio.Event()  # set once the application holds this object

    @property
    def state(self) -> str:
        """ "ringing", "accepted" or "ended"; every call is "ended" once the session is over
        (after on_logout no call callback fires: the logout is the last word)."""
        return ENDED if self.session.get_status() == 0 else self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name.startswith("on_") and value is not None:
            self.session._callback_assigned()

    def __repr__(self) -> str:
        return f"<Call {self.direction} {self.peer!r} in {self.channel!r} {self.state} {self.id}>"

    async def channel_invite_accept(self, extra: str = "") -> None:
        """Accept (callee): the caller gets on_invite_accepted_by_peer(extra)."""
        c.check_extra(extra)
        await self.session._request(c.CallAccept(call=self.id, extra=extra))
        if self.state == RINGING:
            self.state = ACCEPTED

    async def channel_invite_refuse(self, extra: str = "") -> None:
        """Refuse (callee, while ringing): the caller gets on_invite_refused_by_peer(extra)."""
        c.check_extra(extra)
        await self.session._request(c.CallRefuse(call=self.id, extra=extra))
        self._close()

    async def channel_invite_end(self, extra: str = "") -> None:
        """End the call in any state (cancels a ringing one): on_invite_end_by_myself here,
        on_invite_end_by_peer there. Ending a call that is already over does nothing."""
        c.check_extra(extra)
        if self._over:
            return
        try:
            await self.session._request(c.CallEnd(call=self.id, extra=extra))
        except SignalError as exc:
            if exc.code != ErrorCode.INVITE_E_OTHER:
                raise
            return  # it ended meanwhile; its last event is on its way
        self.state = ENDED

    async def channel_invite_dtmf(self, dtmf: str) -> None:
        """Send DTMF digits (0-9 * # A-D); the other side gets on_invite_msg with the JSON
        ``{"type":"dtmf","dtmf":"<digits>"}``."""
        await self.session._request(c.CallDtmf(call=self.id, dtmf=c.check_dtmf(dtmf)))

    async def channel_invite_msg(self, extra: str) -> None:
        """Send free text (up to 8K) to the other side's on_invite_msg (SDP, app data)."""
        await self.session._request(c.CallMsg(call=self.id, extra=c.check_extra(extra)))

    def _close(self) -> None:
        self.state = ENDED
        self._over = True
        self.session._call_table().pop(self.id, None)


class CallOps:
    """The session's call methods and events: a base class of Session, using its request,
    callback and task plumbing (``_request``, ``_call``, ``_emit``, ``_tasks``)."""

    #: onInviteReceived(call): a call for me; set the Call's callbacks in here.
    on_invite_received: Callable[[Call], Any] | None = None

    def _call_table(self) -> dict[str, Call]:
        table: dict[str, Call] | None = self.__dict__.get("_calls_by_id")
        if table is None:
            table = self.__dict__["_calls_by_id"] = {}
            self.relogin_hooks.append(self._calls_lost)
        return table

    @property
    def calls(self) -> list[Call]:
        """Calls of this session that are not over."""
        return [call for call in self._call_table().values() if call.state != ENDED]

    async def channel_invite_user(self, channel: str, peer: str, uid: int = 0) -> Call:
        """channelInviteUser: a call without extra (``uid`` is obsolete, ignored)."""
        return await self.channel_invite_user2(channel, peer, "")

    async def channel_invite_user2(self, channel: str, peer: str, extra: str = "") -> Call:
        """Call ``peer`` into ``channel``; ``extra`` is "" or a JSON object up to 8K.

        Raises SignalError for bad parameters; everything else (701, 703, 704, refusals)
        arrives on the returned Call's callbacks.
        """
        check_name(channel, "channel")
        check_name(peer, "peer")
        c.parse_invite_extra(extra)
        call = Call(self, secrets.token_hex(16), channel, peer, extra, "out")
        table = self._call_table()
        table[call.id] = call
        frame = c.CallInvite(call=call.id, channel=channel, peer=peer, extra=extra)
        try:
            await self._request(frame, timeout_code=ErrorCode.INVITE_E_NET)
        except BaseException:
            call._close()
            call._released.set()
            raise
        # Release the call's events after the caller has had its turn to set callbacks.
        asyncio.get_running_loop().call_soon(call._released.set)
        return call

    # --- Events (called by Session._on_event, in order) ----------------------------------

    async def _on_CallIncoming(self, event: c.CallIncoming) -> None:
        table = self._call_table()
        if event.call in table:
            return
        call = Call(self, event.call, event.channel, event.account, event.extra, "in")
        call._released.set()
        table[call.id] = call
        task = asyncio.ensure_future(self._request(c.CallAck(call=call.id)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await self._call("on_invite_received", call)

    async def _on_CallEvent(self, event: c.CallEvent) -> None:
        call = self._call_table().get(event.call)
        if call is None or event.what not in c.CALL_EVENTS:
            return
        await call._released.wait()
        await self._call_event(call, event.what, event.extra)

    async def _call_event(self, call: Call, what: str, extra: str) -> None:
        if call._over:
            return
        if what in _TERMINAL:
            call._close()
        elif what == "accepted_by_peer":
            call.state = ACCEPTED
        name = "on_invite_" + what
        await self._hand(lambda: getattr(call, name), name, extra)

    async def _calls_lost(self) -> None:
        """The server restarted and forgot our calls: end them here, in event order."""
        lost = json.dumps({"ecode": int(ErrorCode.INVITE_E_NET)})
        for call in list(self._call_table().values()):
            what = "failed" if call.direction == "out" and call.state == RINGING else "end_by_peer"
            self._emit("_call_event", call, what, lost)
