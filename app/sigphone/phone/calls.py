"""The call controller: every call of the phone, its phase, its media and its history.

One controller, one call in the foreground (``current``). A second incoming call during a
call rings as a *waiting* call: answering it puts the first on hold (``parked``) and the
far side is told; declining it answers busy. Do-not-disturb answers every call busy and
keeps it as a missed call.

The SDK ``Call`` is routed explicitly: its callbacks are set here, and the call's media
(``sigphone.media.CallAudio``) is given exactly what it needs: the SDP offer for the invite,
the answer from the accept, the renegotiation messages, and ``close`` on every end. Every
extra goes through ``sigphone.protocol.call_payloads``.

Timers: an unanswered outgoing call ends after ``no_answer_timeout`` (Settings, default 60 s)
with "No answer"; the callee then has a missed call. After the callee answers, the call is
the caller's to end (no timer).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..protocol.call_payloads import (
    DtmfMessage,
    HoldMessage,
    InviteExtra,
    SdpMessage,
    encode_accept_extra,
    encode_call_message,
    encode_refuse_extra,
    read_accept_sdp,
    read_call_message,
    read_end_reason,
    read_invite_extra,
    read_refuse_busy,
)
from ..sdk import Call, ErrorCode, Session, SignalError
from .events import (
    AudioStatus,
    CallState,
    CallStatsText,
    CallWaiting,
    DtmfReceived,
    ErrorText,
    EventBus,
    HistoryChanged,
    HoldChanged,
    IncomingCall,
    MissedChanged,
    MuteChanged,
    RemoteHoldChanged,
)
from .sound import Tones
from .store import UserStore
from .tasks import TaskSet
from .texts import call_end_text
from .uri import is_phone_number, normalize_target

__all__ = ["CallController", "CallPhase", "PhoneCall", "format_stats"]

log = logging.getLogger("sigphone.phone")

#: Default no-answer timeout (Settings "Ring for", seconds).
NO_ANSWER_SECONDS = 60.0


class CallPhase(StrEnum):
    """Where a call is. ``RINGING`` is the far phone ringing (caller side); ``INCOMING`` is
    our phone ringing."""

    IDLE = "idle"
    CALLING = "calling"
    RINGING = "ringing"
    INCOMING = "incoming"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass(eq=False)
class PhoneCall:
    """One call as the phone sees it."""

    call: Call
    peer: str
    number: str
    phase: CallPhase
    started: float = field(default_factory=time.time)
    connected_at: float | None = None
    media: Any = None
    muted: bool = False
    held: bool = False
    remote_held: bool = False
    closed: bool = False
    timed_out: bool = False
    timer: asyncio.TimerHandle | None = None
    stats: asyncio.Task[None] | None = None

    @property
    def outgoing(self) -> bool:
        return self.call.direction == "out"

    @property
    def answered(self) -> bool:
        return self.connected_at is not None

    def elapsed(self) -> float:
        return 0.0 if self.connected_at is None else time.time() - self.connected_at


class CallController:
    def __init__(
        self,
        bus: EventBus,
        tasks: TaskSet,
        store: UserStore,
        tones: Tones,
        me: Callable[[], str],
        no_answer_timeout: float = NO_ANSWER_SECONDS,
    ) -> None:
        self.bus = bus
        self.tasks = tasks
        self.store = store
        self.tones = tones
        self._me = me
        self.no_answer_timeout = no_answer_timeout
        self.session: Session | None = None
        #: The call in the foreground (the call view shows it).
        self.current: PhoneCall | None = None
        #: A second incoming call ringing during ``current``.
        self.waiting: PhoneCall | None = None
        #: The first call, on hold while the waiting call that was answered goes on.
        self.parked: PhoneCall | None = None
        #: Do-not-disturb: every incoming call is answered busy and kept as missed.
        self.dnd = False
        self.missed = 0
        self.audio_text = ""
        self.stats_text = ""
        #: With voice (``phone.voice.Voice``): each call gets a CallAudio from it.
        voice: Any = tones if hasattr(tones, "new_call") else None
        self.voice = voice
        if voice is not None:
            voice.on_audio_event = _weak(self._on_audio_event)

    # --- Read by views (through the adapter) ----------------------------------------------

    @property
    def phase(self) -> CallPhase:
        return self.current.phase if self.current is not None else CallPhase.IDLE

    @property
    def peer(self) -> str:
        return self.current.peer if self.current is not None else ""

    @property
    def media(self) -> Any:
        return self.current.media if self.current is not None else None

    @property
    def muted(self) -> bool:
        return self.current.muted if self.current is not None else False

    @property
    def held(self) -> bool:
        return self.current.held if self.current is not None else False

    @property
    def remote_held(self) -> bool:
        return self.current.remote_held if self.current is not None else False

    def elapsed(self) -> float:
        return self.current.elapsed() if self.current is not None else 0.0

    def redial_target(self) -> str | None:
        me = self._me()
        return self.store.last_dialed(me) if me else None

    # --- Session life -----------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self.session = session
        session.on_invite_received = self._on_invite_received

    def detach(self) -> None:
        """The session is over: every call with it (the SDK fires nothing more)."""
        for pc in (self.waiting, self.parked, self.current):
            if pc is not None:
                self._finish(pc, "Call ended: you were logged out. Log in and call again.")
        self.session = None

    async def shutdown(self) -> None:
        self.tones.stop()
        for pc in (self.waiting, self.parked, self.current):
            if pc is not None and pc.media is not None:
                await pc.media.close()
        if self.voice is not None:
            await self.voice.aclose()
            self.voice.on_audio_event = None

    # --- Dialling ---------------------------------------------------------------------------

    def check_target(self, text: str) -> tuple[str | None, str]:
        """``(target, "")`` or ``(None, sentence saying what is wrong and what to do)``."""
        target = normalize_target(text)
        if target is None:
            shown = text.strip()
            if not shown:
                return None, "Type an account name or a phone number to call."
            return None, (
                f"“{shown}” is not an account or a phone number. Account names have no "
                "spaces; numbers use digits, + * and #."
            )
        me = self._me()
        if me and target.lower() == me.lower():
            return None, "That is your own account: you cannot call yourself."
        return target, ""

    def dial(self, text: str) -> asyncio.Task[None] | None:
        target, problem = self.check_target(text)
        if target is None:
            self.bus.publish(ErrorText(problem))
            return None
        if self.current is not None:
            self.bus.publish(ErrorText("Hang up the current call before making another one."))
            return None
        if self.session is None:
            self.bus.publish(ErrorText("You are not logged in. Log in, then call again."))
            return None
        self.current = PhoneCall(_Placeholder(target), target, "", CallPhase.CALLING)  # type: ignore[arg-type]
        self._set_audio("")
        self._emit(self.current, CallPhase.CALLING, f"Calling {target}…")
        return self.tasks.spawn(self._dial(self.current), "Call")

    async def _dial(self, pc: PhoneCall) -> None:
        session = self.session
        assert session is not None
        media = self._new_media() if self.voice is not None else None
        sdp = None
        if media is not None:
            try:
                sdp = await media.offer()
            except Exception as exc:  # the engine could not start: call without voice
                log.warning("no voice for this call: %r", exc)
                await media.close()
                media = None
        try:
            extra = InviteExtra(src_num=self._me(), sdp=sdp).encode()
        except SignalError:  # the SDP does not fit a call's 8K extra (very many interfaces)
            self._set_audio(
                "Calling without sound: this computer has too many network addresses for "
                "one call (limit MediaConfig.host_addresses)."
            )
            if media is not None:
                await media.close()
            media = None
            extra = InviteExtra(src_num=self._me()).encode()
        if pc.closed:  # hung up while the offer was being made
            if media is not None:
                await media.close()
            return
        try:
            call = await session.channel_invite_user2(
                "call-" + secrets.token_hex(6), pc.peer, extra
            )
        except SignalError as exc:
            if media is not None:
                await media.close()
            code = int(exc.code)
            outcome = "offline" if code == ErrorCode.INVITE_E_PEEROFFLINE else "failed"
            pc.media = None
            self._finish(pc, call_end_text(code), outcome)
            return
        pc.call = call
        pc.media = media
        if pc.closed:  # hung up while the invite was on its way
            self.tasks.spawn(call.channel_invite_end(""), "Hang up")
            if media is not None:
                self.tasks.spawn(media.close(), "Stop audio")
            return
        self._route(pc)
        self._apply_media_state(pc)
        loop = asyncio.get_running_loop()
        pc.timer = loop.call_later(self.no_answer_timeout, self._no_answer, pc)

    def _no_answer(self, pc: PhoneCall) -> None:
        pc.timer = None
        if pc.closed or pc.answered:
            return
        pc.timed_out = True
        self.tasks.spawn(pc.call.channel_invite_end(""), "No answer")

    # --- Incoming ---------------------------------------------------------------------------

    def _on_invite_received(self, call: Call) -> None:
        invite = read_invite_extra(call.extra)
        number = invite.src_num or ""
        if self.dnd or (self.current is not None and self.waiting is not None):
            why = "do not disturb" if self.dnd else "busy"
            self.tasks.spawn(call.channel_invite_refuse(encode_refuse_extra(True)), "Busy")
            self._record(call.peer, "missed", why, time.time())
            self._add_missed()
            return
        pc = PhoneCall(call, call.peer, number, CallPhase.INCOMING)
        self._route(pc)
        if self.current is not None:
            self.waiting = pc
            self.tones.key("#")  # a short call-waiting beep, never the full ringtone
            self.bus.publish(CallWaiting(call.peer, number))
            return
        self.current = pc
        self._set_audio("")
        self.tones.ringtone(True)
        self._emit(pc, CallPhase.INCOMING, f"{call.peer} is calling")
        self.bus.publish(IncomingCall(call.peer, number))

    def accept(self) -> asyncio.Task[None] | None:
        """Answer: the ringing call, or the waiting call (the current one goes on hold)."""
        if self.waiting is not None:
            return self.answer_waiting()
        pc = self.current
        if pc is None or pc.outgoing or pc.answered or pc.closed:
            return None
        self.tones.ringtone(False)
        return self.tasks.spawn(self._accept(pc), "Answer")

    def answer_waiting(self) -> asyncio.Task[None] | None:
        pc, first = self.waiting, self.current
        if pc is None or pc.closed:
            return None
        self.waiting = None
        self.bus.publish(CallWaiting("", ""))
        if first is not None:
            self.set_held(True)
            self.parked = first
        self.current = pc
        self._set_audio("")
        self._emit(pc, CallPhase.INCOMING, f"Answering {pc.peer}…")
        return self.tasks.spawn(self._accept(pc), "Answer")

    def decline_waiting(self) -> asyncio.Task[None] | None:
        pc = self.waiting
        if pc is None:
            return None
        self.waiting = None
        self.bus.publish(CallWaiting("", ""))
        self._finish(pc, f"You declined {pc.peer}'s call.", "declined")
        return self.tasks.spawn(pc.call.channel_invite_refuse(encode_refuse_extra(True)), "Busy")

    async def _accept(self, pc: PhoneCall) -> None:
        media = self._new_media() if self.voice is not None else None
        pc.media = media
        answer = None
        if media is not None:
            try:
                answer = await media.answer(read_invite_extra(pc.call.extra).sdp)
            except Exception as exc:  # an offer we cannot answer: connect without voice
                log.warning("bad SDP offer: %r", exc)
                self._set_audio(f"No sound: the caller's audio offer could not be used ({exc}).")
                await media.close()
                pc.media = media = None
        try:
            await pc.call.channel_invite_accept(encode_accept_extra(answer))
        except SignalError as exc:
            self._finish(pc, call_end_text(int(exc.code)))
            return
        self._apply_media_state(pc)
        self._on_connected(pc)

    def refuse(self) -> asyncio.Task[None] | None:
        pc = self.current
        if pc is None or pc.outgoing or pc.answered or pc.closed:
            return None
        self.tones.ringtone(False)
        # The caller gets refused_by_peer; nothing fires here, so finish at once.
        self._finish(pc, "You declined the call.", "declined")
        return self.tasks.spawn(pc.call.channel_invite_refuse(""), "Decline")

    def hang_up(self) -> asyncio.Task[None] | None:
        pc = self.current
        if pc is None:
            return None
        if not pc.outgoing and not pc.answered:
            return self.refuse()
        if getattr(pc.call, "_placeholder", False):  # the invite is still being prepared
            self._finish(pc, "Call cancelled.", "cancelled")
            return None
        return self.tasks.spawn(pc.call.channel_invite_end(""), "Hang up")

    # --- During the call ----------------------------------------------------------------------

    def send_dtmf(self, digits: str) -> None:
        """Keys pressed during a connected call: heard here and at the far side (in-band,
        in the call's audio) and sent as signaling DTMF (what a gateway or an app reads)."""
        pc = self.current
        if pc is not None and pc.media is not None and pc.answered:
            pc.media.send_dtmf(digits)
        else:
            for digit in digits:
                self.tones.key(digit)
        if pc is not None and pc.answered and not pc.closed:
            self.tasks.spawn(pc.call.channel_invite_dtmf(digits), "DTMF")

    def set_muted(self, muted: bool) -> None:
        """Mute the microphone: the call's media keeps sending frames, of silence."""
        pc = self.current
        if pc is None:
            return
        pc.muted = muted
        if pc.media is not None:
            pc.media.mute(muted or pc.held)  # unmuting during hold must not send voice
        self.bus.publish(MuteChanged(muted))

    def set_held(self, held: bool) -> None:
        """Hold: silence out, nothing in, the connection stays up, and the far side is told
        (a ``HoldMessage``), so both phones show "On hold". Resuming keeps Mute."""
        pc = self.current
        if pc is None or held == pc.held or not pc.answered:
            return
        pc.held = held
        if pc.media is not None:
            pc.media.hold(held)
            if not held and pc.muted:
                pc.media.mute(True)
        message = encode_call_message(HoldMessage(held))
        self.tasks.spawn(pc.call.channel_invite_msg(message), "Hold")
        self.bus.publish(HoldChanged(held))
        self._emit(pc, pc.phase, self._connected_text(pc))

    def swap(self) -> None:
        """With a call on hold behind the current one: hold this one, resume that one."""
        first, other = self.current, self.parked
        if first is None or other is None:
            return
        self.set_held(True)
        self.current, self.parked = other, first
        self._emit(other, other.phase, self._connected_text(other))
        self.set_held(False)
        self.bus.publish(MuteChanged(other.muted))

    # --- Routing the SDK call -------------------------------------------------------------------

    def _route(self, pc: PhoneCall) -> None:
        call = pc.call
        if pc.outgoing:
            call.on_invite_received_by_peer = lambda _e: self._on_peer_ringing(pc)
            call.on_invite_accepted_by_peer = lambda e: self._on_accepted(pc, e)
            call.on_invite_refused_by_peer = lambda e: self._on_refused(pc, e)
            call.on_invite_failed = lambda e: self._on_failed(pc, e)
        call.on_invite_end_by_peer = lambda e: self._on_end_by_peer(pc, e)
        call.on_invite_end_by_myself = lambda _e: self._on_end_by_myself(pc)
        call.on_invite_msg = lambda e: self._on_message(pc, e)

    def _on_peer_ringing(self, pc: PhoneCall) -> None:
        if pc is self.current and not pc.closed and not pc.answered:
            self.tones.ringback(True)
            self._emit(pc, CallPhase.RINGING, f"Ringing at {pc.peer}…")

    async def _on_accepted(self, pc: PhoneCall, extra: str) -> None:
        if pc.closed:
            return
        if pc.media is not None:
            await pc.media.accept_answer(read_accept_sdp(extra))
        self._on_connected(pc)

    def _on_refused(self, pc: PhoneCall, extra: str) -> None:
        if read_refuse_busy(extra):
            self._finish(pc, f"{pc.peer} is busy. Try again later or send a message.", "busy")
        else:
            self._finish(pc, f"{pc.peer} declined the call.", "declined")

    def _on_failed(self, pc: PhoneCall, extra: str) -> None:
        code = read_end_reason(extra) or int(ErrorCode.INVITE_E_OTHER)
        outcome = "offline" if code == ErrorCode.INVITE_E_PEEROFFLINE else "failed"
        if code == ErrorCode.INVITE_E_PEEROFFLINE and is_phone_number(pc.peer):
            text = f"{pc.peer} cannot be reached: the phone gateway is offline. Try later."
        else:
            text = call_end_text(code)
        self._finish(pc, text, outcome)

    def _on_end_by_peer(self, pc: PhoneCall, extra: str) -> None:
        code = read_end_reason(extra)
        if code is not None:
            text = call_end_text(code)
        elif not pc.outgoing and not pc.answered:
            text = f"Missed call from {pc.peer}."
        else:
            text = f"{pc.peer} hung up."
        self._finish(pc, text)

    def _on_end_by_myself(self, pc: PhoneCall) -> None:
        if pc.timed_out:
            self._finish(
                pc, f"No answer from {pc.peer}. Try again later or send a message.", "no answer"
            )
        elif pc.outgoing and not pc.answered:
            self._finish(pc, "Call cancelled.", "cancelled")
        else:
            self._finish(pc, "Call ended.")

    async def _on_message(self, pc: PhoneCall, extra: str) -> None:
        msg = read_call_message(extra)
        if isinstance(msg, DtmfMessage):
            if pc is self.current:
                self.bus.publish(DtmfReceived(msg.digits))
        elif isinstance(msg, HoldMessage):
            pc.remote_held = msg.on
            if pc is self.current:
                self.bus.publish(RemoteHoldChanged(msg.on))
                self._emit(pc, pc.phase, self._connected_text(pc))
        elif isinstance(msg, SdpMessage) and pc.media is not None:
            reply = await pc.media.on_call_message(msg)
            if reply is not None:
                await pc.call.channel_invite_msg(encode_call_message(reply))
        else:
            log.info("call message from %s: %.80r", pc.peer, extra)

    def _on_connected(self, pc: PhoneCall) -> None:
        if pc.closed:
            return
        self._cancel_timer(pc)
        self.tones.ringback(False)
        self.tones.ringtone(False)
        pc.connected_at = time.time()
        self._emit(pc, CallPhase.CONNECTED, self._connected_text(pc))
        if pc.media is not None:
            pc.stats = self.tasks.spawn(self._poll_stats(pc), "Call stats")

    def _connected_text(self, pc: PhoneCall) -> str:
        if pc.phase != CallPhase.CONNECTED and not pc.answered:
            return {
                CallPhase.CALLING: f"Calling {pc.peer}…",
                CallPhase.RINGING: f"Ringing at {pc.peer}…",
                CallPhase.INCOMING: f"{pc.peer} is calling",
            }.get(pc.phase, "")
        if pc.held and pc.remote_held:
            return "On hold (both sides)"
        if pc.held:
            return f"On hold: {pc.peer} hears silence. Resume to talk."
        if pc.remote_held:
            return f"{pc.peer} put you on hold."
        return f"Connected to {pc.peer}"

    # --- The end -------------------------------------------------------------------------------

    def _finish(self, pc: PhoneCall, text: str, outcome: str | None = None) -> None:
        """A call is over (any path, once): stop tones, write history, tell the views."""
        if pc.closed:
            return
        pc.closed = True
        self._cancel_timer(pc)
        if pc.stats is not None:
            pc.stats.cancel()
            pc.stats = None
        if pc.media is not None:
            self.tasks.spawn(pc.media.close(), "Stop audio")
        if pc.outgoing:
            kind = "outgoing"
            outcome = "answered" if pc.answered else (outcome or "cancelled")
        elif pc.answered:
            kind, outcome = "incoming", "answered"
        elif outcome in ("declined",):
            kind = "incoming"
        else:
            kind, outcome = "missed", "missed" if outcome in (None, "busy") else outcome
            self._add_missed()
        self._record(pc.peer, kind, outcome or "", pc.started, pc.elapsed())
        if pc is self.waiting:
            self.waiting = None
            self.bus.publish(CallWaiting("", ""))
            return
        if pc is self.parked:
            self.parked = None
            return
        if pc is not self.current:
            return
        self.tones.ringback(False)
        self.tones.ringtone(False)
        pc.phase = CallPhase.ENDED
        self.current = None
        self.bus.publish(CallState(pc.peer, CallPhase.ENDED, text))
        if pc.held:
            self.bus.publish(HoldChanged(False))
        if pc.remote_held:
            self.bus.publish(RemoteHoldChanged(False))
        if pc.muted:
            self.bus.publish(MuteChanged(False))
        if self.parked is not None:  # back to the call that waited on hold
            back, self.parked = self.parked, None
            self.current = back
            self.bus.publish(HoldChanged(back.held))
            self.bus.publish(RemoteHoldChanged(back.remote_held))
            self.bus.publish(MuteChanged(back.muted))
            self._emit(back, back.phase, self._connected_text(back))

    def _cancel_timer(self, pc: PhoneCall) -> None:
        if pc.timer is not None:
            pc.timer.cancel()
            pc.timer = None

    # --- Voice -------------------------------------------------------------------------------

    def _new_media(self) -> Any:
        return self.voice.new_call(_weak(self._on_media_event))

    def _apply_media_state(self, pc: PhoneCall) -> None:
        if pc.media is None:
            return
        pc.media.mute(pc.muted or pc.held)
        if pc.held:
            pc.media.hold(True)

    def _on_media_event(self, event: Any) -> None:
        """CallAudio's events (on the loop): only the ones a user needs to read."""
        if event.kind == "no-audio-device":
            self._set_audio(_audio_sentence(event.message))
        elif event.kind == "failed":
            self._set_audio(f"No sound: {event.message}. Hang up and call again.")
        elif event.kind == "no-media":
            self._set_audio(f"No sound: {event.message}.")

    def _on_audio_event(self, kind: str, message: str) -> None:
        if self.current is None:
            return  # a tone outside a call: the Settings page and status bar say it
        if kind == "device-lost":
            self._set_audio(
                f"{_audio_sentence(message)} The call stays up; hang up and check Settings."
            )
        else:
            self._set_audio(_audio_sentence(message))

    def _set_audio(self, text: str) -> None:
        if text != self.audio_text:
            self.audio_text = text
            self.bus.publish(AudioStatus(text))

    async def _poll_stats(self, pc: PhoneCall, interval: float = 1.5) -> None:
        """RTT, loss and jitter for the call view while the call lasts."""
        while not pc.closed and pc.media is not None:
            try:
                stats = await pc.media.stats()
            except Exception as exc:  # the connection is closing: no numbers this round
                log.debug("stats: %r", exc)
            else:
                if pc is self.current:
                    self.stats_text = format_stats(stats)
                    self.bus.publish(CallStatsText(self.stats_text))
            await asyncio.sleep(interval)

    # --- History ----------------------------------------------------------------------------

    def _record(
        self, peer: str, kind: str, outcome: str, started: float, duration: float = 0.0
    ) -> None:
        me = self._me()
        if me:
            self.store.add_call(me, peer, kind, outcome, started, duration)
            self.bus.publish(HistoryChanged())

    def _add_missed(self) -> None:
        self.missed += 1
        self.bus.publish(MissedChanged(self.missed))

    def clear_missed(self) -> None:
        if self.missed:
            self.missed = 0
            self.bus.publish(MissedChanged(0))

    def _emit(self, pc: PhoneCall, phase: CallPhase, text: str) -> None:
        pc.phase = phase
        if pc is self.current:
            self.bus.publish(CallState(pc.peer, phase, text))


class _Placeholder:
    """Stands in for the SDK Call while the offer and the invite are on their way."""

    _placeholder = True
    direction = "out"
    extra = ""
    id = ""

    def __init__(self, peer: str) -> None:
        self.peer = peer


def _weak(method: Callable[..., Any]) -> Callable[..., None]:
    """A callback for the voice layer that does not keep the controller alive."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


def _audio_sentence(message: str) -> str:
    """media's lower-case messages ("no audio device: ...") as a sentence."""
    text = message[:1].upper() + message[1:]
    if text.startswith("No audio device") and "call" not in text:
        text += " (the call works, but without sound; check Settings)"
    return text if text.endswith(".") else text + "."


def format_stats(stats: Any) -> str:
    """One line for the call view from a ``CallStats``."""
    parts = []
    rtt = getattr(stats, "rtt_ms", None)
    parts.append(f"RTT {rtt:.0f} ms" if rtt is not None else "RTT –")
    lost = getattr(stats, "packets_lost", None)
    received = getattr(stats, "packets_received", None) or 0
    if lost is not None and received + lost > 0:
        parts.append(f"loss {100.0 * lost / (received + lost):.1f} %")
    else:
        parts.append("loss –")
    jitter = getattr(stats, "jitter_ms", None)
    parts.append(f"jitter {jitter:.0f} ms" if jitter is not None else "jitter –")
    return " · ".join(parts)
