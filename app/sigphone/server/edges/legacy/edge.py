"""The legacy edge adapter: the 1.x clients' wire format driving the same hub calls.

Every request becomes one of the native request structs and goes through ``hub.handle``,
so validation, limits, codes, delivery, channels and calls have one implementation. This
module only translates: argument names in, reply shapes out, and the clients' versioned
message queue onto the hub's sequenced outbox (see ``user_getmsg`` below and
docs/legacy-clients.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import msgspec

from sigphone.protocol import calls as k
from sigphone.protocol import channels as c
from sigphone.protocol import frames as f
from sigphone.protocol import legacy as w
from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.core.hub import Hub, ReplyData
from sigphone.server.core.session import ServerSession
from sigphone.server.edges.legacy.events import QUEUED, LegacyState, channel_notify, queue_line
from sigphone.server.edges.legacy.link import LegacyLink
from sigphone.server.edges.native import EdgeLimits, RateGuard
from sigphone.server.edges.wire import FrameQueue, Wire, WireClosed

__all__ = ["LegacyEdge"]

log = logging.getLogger("sigphone.server")

#: The most queue lines one user_getmsg returns (the clients ask for 30 and poll again
#: when they get exactly 30).
MAX_GETMSG = 30

#: How long the hub keeps a legacy session after its connection drops. The 1.4.0 client
#: reconnects with a fresh login; only ``line_login`` resumes within this window.
LEGACY_RECONNECT_TIME = 30.0

Reshape = Callable[[ReplyData], dict[str, Any] | None]


def _frame(cls: type[msgspec.Struct], **fields: Any) -> msgspec.Struct:
    """A request struct from client values, type-checked like a decoded native frame."""
    try:
        return msgspec.convert({k: v for k, v in fields.items() if v is not None}, cls)
    except msgspec.ValidationError as exc:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, str(exc)) from None


def _text_id(value: Any) -> str | None:
    """The clients' optional numeric message IDs, as our text msg_id."""
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, int | str) else None


class LegacyEdge:
    """Serves legacy connections on the server's hub; one per server."""

    def __init__(self, hub: Hub, limits: EdgeLimits) -> None:
        self.hub = hub
        self.limits = limits
        #: Keyed by session id (the clients' ``line``); dropped when the session ends.
        self.states: dict[str, LegacyState] = {}
        hub.on_session_end(lambda session, _code: self.states.pop(session.sid, None))

    # --- Events from the hub ----------------------------------------------------------

    def deliver(
        self, link: LegacyLink, session: ServerSession, seq: int, ev: msgspec.Struct
    ) -> None:
        state = self.states.get(session.sid)
        if state is None:
            return
        if isinstance(ev, QUEUED):
            link.send_frame(w.notify_msg(seq))
        else:
            if isinstance(ev, c.ChannelJoined):
                state.joined = ev
            data = channel_notify(seq, ev)
            if data is not None:
                link.send_frame(data)
            state.live_upto = seq
        self._settle(session, state)

    def replay(self, link: LegacyLink, session: ServerSession, after_seq: int) -> None:
        state = self.states.get(session.sid)
        if state is None:
            return
        newest = 0
        for entry in list(session.outbox):
            if isinstance(entry.event, QUEUED):
                newest = entry.seq
            elif entry.seq > after_seq:
                data = channel_notify(entry.seq, entry.event)
                if data is not None:
                    link.send_frame(data)
                state.live_upto = entry.seq
        if newest > state.ver_clear:
            link.send_frame(w.notify_msg(newest))
        self._settle(session, state)

    def _settle(self, session: ServerSession, state: LegacyState) -> None:
        """Acknowledge to the hub the longest outbox prefix the client is done with.

        Queue entries are done once the client's ver_clear passed them (then the durable
        inbox deletes the messages); pushed channel events once handed to a connection.
        """
        point = 0
        for entry in session.outbox:
            done_upto = state.ver_clear if isinstance(entry.event, QUEUED) else state.live_upto
            if entry.seq > done_upto:
                break
            point = entry.seq
        if point:
            self.hub.ack(session, point)

    # --- The connection ---------------------------------------------------------------

    async def serve(self, ws: Wire, pending: list[bytes]) -> None:
        """Run one legacy connection until it closes; ``pending`` holds the messages the
        front door has already read (the first one at least), in order."""
        link = LegacyLink(ws, self.limits.send_queue_bytes, self)
        guard = RateGuard(self.limits)
        frames = FrameQueue(ws, pending)
        try:
            while True:
                frame = await frames.get()
                allowed = guard.take()
                if allowed is None:
                    link.close(1008, "flooding")
                    break
                try:
                    command, payload = w.decode(frame)
                except SignalError as exc:
                    link.send_frame(_error_frame(exc))
                    continue
                if not allowed:
                    limited = SignalError(ErrorCode.GENERAL_E_FAILED, "rate limited: slow down")
                    if command == "call2":
                        link.send_frame(w.call2_error(w.callid_of(payload), limited))
                    continue
                await self._command(link, command, payload)
        except WireClosed:
            pass
        finally:
            ws.on_message = ws.on_close = None
            session = link.session
            if session is not None:
                self.hub.detach(session, link)
            await link.finish(6.0)  # a logout or last reply goes out before the close
            await link.stop()

    async def _command(self, link: LegacyLink, command: str, payload: Any) -> None:
        if command == "ping":
            link.send_frame(w.encode("pong", payload))
        elif command == "call2":
            self._call2(link, payload)
        elif command == "login":
            await self._login(link, payload)
        elif command == "line_login":
            await self._line_login(link, payload)
        elif command == "set_flag":
            pass  # the 1.4.0 client offers binary frames; text suits it as well
        else:
            reason = f"unknown command {command[:40]!r}"
            link.send_frame(_error_frame(SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, reason)))

    async def _login(self, link: LegacyLink, args: Any) -> None:
        if link.session is not None and not link.session.closed:
            exc = SignalError(ErrorCode.LOGIN_E_ALREADY_LOGIN, "already logged in")
            link.send_frame(w.login_error(exc))
            return
        try:
            if not isinstance(args, dict):
                raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "login args must be a dict")
            device = args.get("device")
            login = _frame(
                f.Login,
                app_id=args.get("vid"),
                account=args.get("account"),
                token=args.get("token"),
                client_id=secrets.token_hex(8),
                reconnect_time=LEGACY_RECONNECT_TIME,
                sdk=f"legacy-{device}"[:64] if isinstance(device, str) else "legacy",
            )
            assert isinstance(login, f.Login)
            session, _reply, after = await self.hub.login(login)
        except SignalError as exc:
            link.send_frame(w.login_error(exc))
            return
        state = LegacyState(session.app, session.account, login.token)
        if args.get("device") == "websdk":  # the JS clients (the Python one says "javasdk")
            state.line_ids = session.sid
        self.states[session.sid] = state
        link.session = session
        link.send_frame(w.login_ok(session.sid, 0))
        self.hub.attach(session, link, after)
        _logged_in(link)

    async def _line_login(self, link: LegacyLink, args: Any) -> None:
        """Re-attach to a session within its reconnect window (no reply on success)."""
        line = args.get("line") if isinstance(args, dict) else None
        if link.session is not None:
            exc = SignalError(ErrorCode.LOGIN_E_ALREADY_LOGIN, "already logged in")
            link.send_frame(_error_frame(exc))
            return
        state = self.states.get(line) if isinstance(line, str) else None
        if state is None:
            link.send_logout(int(ErrorCode.LOGOUT_E_NET), "the line has ended")
            return
        resume = f.Resume(session=line, seq=state.live_upto)  # type: ignore[arg-type]
        login = f.Login(app_id=state.app, account=state.account, token=state.token, resume=resume)
        try:
            session, _reply, after = await self.hub.login(login)
        except SignalError as exc:
            link.send_logout(int(exc.code), exc.reason)
            return
        link.session = session
        self.hub.attach(session, link, after)
        _logged_in(link)

    # --- call2 --------------------------------------------------------------------------

    def _call2(self, link: LegacyLink, payload: Any) -> None:
        try:
            call = w.parse_call2(payload)
        except SignalError as exc:
            link.send_frame(w.call2_error(w.callid_of(payload), exc))
            return
        session = link.session
        state = None if session is None else self.states.get(session.sid)
        if session is None or session.closed or state is None:
            refused = SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "log in first")
            link.send_frame(w.call2_error(call.callid, refused))
            return
        callid = call.callid
        try:
            if call.func == "user_getmsg":
                page, rest = self._getmsg(session, state, call.args)
                link.send_frame(w.call2_ok(callid, page))
                if rest:
                    # Both clients mean to poll again after a full page but skip it while
                    # their poll is still marked as running: a fresh nudge gets them going.
                    link.send_frame(w.notify_msg(rest))
                return
            frame, reshape = self._request(state, call.func, call.args)
            result = self.hub.handle(session, frame)
        except SignalError as exc:
            link.send_frame(w.call2_error(callid, exc))
            return
        except Exception:
            log.exception("legacy request %s failed", call.func)
            internal = SignalError(ErrorCode.GENERAL_E_UNKNOWN, "internal error")
            link.send_frame(w.call2_error(callid, internal))
            return
        if isinstance(frame, f.Logout):
            link.send_frame(w.call2_ok(callid, None))
            link.session = None
            link.close(1000, "logged out")
            return
        if not isinstance(result, asyncio.Future):
            link.send_frame(w.call2_ok(callid, reshape(result)))
            return

        def done(fut: asyncio.Future[ReplyData]) -> None:
            exc = SignalError(ErrorCode.GENERAL_E_FAILED, "cancelled")
            if not fut.cancelled():
                err = fut.exception()
                if err is None:
                    link.send_frame(w.call2_ok(callid, reshape(fut.result())))
                    return
                if isinstance(err, SignalError):
                    exc = err
                else:
                    log.error("legacy request %s failed: %r", call.func, err)
                    exc = SignalError(ErrorCode.GENERAL_E_UNKNOWN, "internal error")
            link.send_frame(w.call2_error(callid, exc))

        result.add_done_callback(done)

    def _getmsg(
        self, session: ServerSession, state: LegacyState, args: dict[str, Any]
    ) -> tuple[dict[str, Any], int]:
        """The client's queue after ``ver_clear`` (which it has processed: acknowledged),
        one page of it, and the newest version left for the next page (0: none)."""
        ver = args.get("ver_clear", 0)
        most = args.get("max", MAX_GETMSG)
        if isinstance(ver, str) and ver.isdigit():
            ver = int(ver)
        if not isinstance(ver, int) or isinstance(ver, bool) or ver < 0:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "ver_clear must be a number >= 0")
        if not isinstance(most, int) or isinstance(most, bool) or most < 1:
            most = MAX_GETMSG
        # A client cannot have processed what was never queued: clamp to the newest seq.
        state.ver_clear = max(state.ver_clear, min(ver, session.seq))
        self._settle(session, state)
        msgs: list[list[Any]] = []
        rest = 0
        for entry in session.outbox:
            if entry.seq <= ver or not isinstance(entry.event, QUEUED):
                continue
            if len(msgs) < min(most, MAX_GETMSG):
                msgs.append([entry.seq, queue_line(entry.seq, entry.event, state)])
            else:
                rest = entry.seq
        return {"ver_clear": ver, "msgs": msgs}, rest

    def _request(
        self, state: LegacyState, func: str, args: dict[str, Any]
    ) -> tuple[msgspec.Struct, Reshape]:
        """The hub request for one call2 function and how to shape its reply."""
        plain: Reshape = lambda _data: None  # noqa: E731
        if func == "user_sendmsg":
            frame = _frame(
                f.SendMsg,
                peer=args.get("peer"),
                msg=args.get("content"),
                msg_id=_text_id(args.get("messageID")),
            )
            return frame, plain
        if func == "user_logout":
            return f.Logout(), plain
        if func == "channel_join":
            return _frame(c.ChannelJoin, channel=args.get("name")), lambda _d: _joined(state)
        if func == "channel_leave":
            return _frame(c.ChannelLeave, channel=args.get("name")), plain
        if func == "channel_sendmsg":
            frame = _frame(
                c.ChannelSend,
                channel=args.get("name"),
                msg=args.get("msg"),
                msg_id=_text_id(args.get("msgID")),
            )
            return frame, plain
        if func.startswith("voip_"):
            return self._call_request(state, func, args), plain
        # Everything else is one of invoke()'s io.agora.signal.* functions (the clients
        # strip the prefix): the channel attribute calls of a Channel object land here too.
        fargs = {key: value for key, value in args.items() if key != "line"}
        frame = c.Invoke(func=c.INVOKE_PREFIX + func, args=fargs)
        return frame, _resp

    def _call_request(self, state: LegacyState, func: str, args: dict[str, Any]) -> msgspec.Struct:
        channel, peer, extra = args.get("channelName"), args.get("peer"), args.get("extra")
        if extra is None:
            extra = ""
        if func == "voip_invite":
            if not isinstance(channel, str) or not isinstance(peer, str):
                raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "channelName and peer")
            new_id = secrets.token_urlsafe(16)
            frame = _frame(k.CallInvite, call=new_id, channel=channel, peer=peer, extra=extra)
            state.remember_call(new_id, channel, peer)
            return frame
        named = isinstance(channel, str) and isinstance(peer, str)
        cid = state.calls.get((channel, peer)) if named else None  # type: ignore[arg-type]
        if cid is None:
            raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "no call with that channel and peer")
        if func == "voip_invite_ack":
            return _frame(k.CallAck, call=cid)
        if func == "voip_invite_accept":
            return _frame(k.CallAccept, call=cid, extra=extra)
        if func == "voip_invite_refuse":
            return _frame(k.CallRefuse, call=cid, extra=extra)
        if func == "voip_invite_bye":
            return _frame(k.CallEnd, call=cid, extra=extra)
        if func == "voip_invite_msg":
            digits = _dtmf_of(extra)
            if digits is not None:
                return _frame(k.CallDtmf, call=cid, dtmf=digits)
            return _frame(k.CallMsg, call=cid, extra=extra)
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"unknown function {func[:40]!r}")


def _logged_in(link: LegacyLink) -> None:
    """The login deadline and the caps on waiting connections no longer apply."""
    link.ws.logged_in()


def _error_frame(exc: SignalError) -> bytes:
    """A frame we could not take (neither client sends such frames, so none reads this)."""
    return w.encode("error", {"code": int(exc.code), "reason": exc.reason})


def _dtmf_of(extra: Any) -> str | None:
    """The digits of the 1.x clients' channelInviteDTMF (``{"msgtype": "dtmf", ...}``)."""
    if not isinstance(extra, str) or '"dtmf"' not in extra:
        return None
    try:
        obj = json.loads(extra)
    except (ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and obj.get("msgtype") == "dtmf":
        digits = obj.get("msgdata")
        return digits if isinstance(digits, str) else ""
    return None


def _joined(state: LegacyState) -> dict[str, Any]:
    """channel_join's reply: the member list and attributes the hub pushed at the join."""
    ev = state.joined
    if ev is None:
        return {"list": [], "attrs": {}, "num": 0}
    users = ev.users or []
    return {"list": [[account, 0] for account in users], "attrs": ev.attrs, "num": ev.num}


def _resp(data: ReplyData) -> dict[str, Any] | None:
    """invoke's ``{"resp": ...}`` as the flat JSON the old clients read fields from."""
    resp = (data or {}).get("resp")
    if isinstance(resp, dict):
        return resp
    return None if resp is None else {"resp": resp}
