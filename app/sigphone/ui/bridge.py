"""The one QObject between the views and the SDK (MISSION G8).

SDK callbacks become Qt signals; UI actions become SDK coroutines started as tracked tasks
(``TaskSet``), so a view never awaits, never imports the SDK, and never blocks the GUI
thread. Every failure ends as a signal with a human sentence (``texts``): it is logged and
shown, never swallowed.

A softphone has one call at a time: ``Bridge.call`` is it. A second incoming call while busy
is refused with ``{"busy":1}`` and recorded as missed.

Voice: when ``tones`` is a ``voice.Voice`` (the media extra is installed), each call gets a
``CallAudio`` (``Bridge.media``): the invite carries the SDP offer, the accept the answer,
mute sends silence, and every way a call ends closes its media. Without it the same calls
run signaling-only. Media events become ``audio_status`` sentences; stats are polled into
``call_stats`` while connected.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import urllib.parse
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..sdk import Call, ErrorCode, Session, SignalError
from ..sdk import Signal as SdkSignal
from .audio import Tones
from .channel_bridge import ChannelBridge
from .store import UserStore
from .tasks import TaskSet
from .texts import call_end_text, code_text, login_failure_text, logout_text
from .voice import Voice

__all__ = ["Bridge", "ChatLine"]

log = logging.getLogger("sigphone.ui")

SignalFactory = Callable[[str, str], SdkSignal]

# Call states the views show.
CALLING, RINGING, INCOMING = "calling", "ringing", "incoming"
CONNECTED, ENDED = "connected", "ended"


@dataclass
class ChatLine:
    """One chat bubble: ``state`` is "sent", "sending", "failed" or "received"."""

    peer: str
    mine: bool
    text: str
    at: float
    msg_id: str
    state: str


def _default_signal(app_id: str, server: str) -> SdkSignal:
    return SdkSignal(app_id, server=server)


def _ecode(extra: str) -> int | None:
    try:
        value = json.loads(extra).get("ecode") if extra else None
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


class Bridge(QObject):
    """Owns ``Signal``/``Session`` for one account; see the module docstring."""

    # --- Session ---------------------------------------------------------------------
    status_changed = Signal(str)  # "offline", "connecting", "online", "reconnecting"
    logged_in = Signal(str)  # account
    login_failed = Signal(int, str)  # code, sentence
    logged_out = Signal(int, str)  # code, sentence
    reconnecting = Signal(int)  # attempt 1, 2, ...
    reconnected = Signal()
    error = Signal(str)  # a sentence for the status bar / a message box
    # --- Chat and presence -----------------------------------------------------------
    chat_changed = Signal(str)  # peer whose conversation changed
    presence_changed = Signal(str, bool)  # account, online
    contacts_changed = Signal()
    # --- Calls -----------------------------------------------------------------------
    incoming_call = Signal(str, str)  # peer, caller number (srcNum or "")
    call_state = Signal(str, str, str)  # peer, state, detail sentence
    dtmf_received = Signal(str)  # digits from the other side
    mute_changed = Signal(bool)
    hold_changed = Signal(bool)
    audio_status = Signal(str)  # "" when sound works; else a sentence (no device, lost, ...)
    call_stats = Signal(str)  # "RTT 1 ms · loss 0.0 % · jitter 2 ms" while connected
    history_changed = Signal()
    missed_changed = Signal(int)  # missed calls not yet seen

    def __init__(
        self,
        store: UserStore,
        tones: Tones,
        signal_factory: SignalFactory = _default_signal,
        presence_interval: float = 5.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.tones = tones
        self.signal_factory = signal_factory
        self.presence_interval = presence_interval
        self.tasks = TaskSet(self._task_failed)
        self.sdk: SdkSignal | None = None
        self.session: Session | None = None
        self.account = ""
        self.status = "offline"
        self.call: Call | None = None
        self.call_peer = ""
        self.call_status = ""
        self.muted = False
        self.held = False
        #: The current call's media (None without the media extra or for a call without it).
        self.media: Any = None
        self.voice = tones if isinstance(tones, Voice) else None
        if self.voice is not None:
            self.voice.on_audio_event = _weak(self._on_audio_event)
        self.audio_text = ""
        self.stats_text = ""
        self._stats_task: asyncio.Task[None] | None = None
        self._call_started = 0.0
        self._connected_at: float | None = None
        self._call_closed: set[str] = set()
        self.chats: dict[str, list[ChatLine]] = {}
        self.presence: dict[str, bool] = {}
        self.missed = 0
        self._presence_task: asyncio.Task[None] | None = None
        #: The channel room: same session, same tasks, its own signals.
        self.room = ChannelBridge(self.tasks, self)

    # --- Plumbing ----------------------------------------------------------------------

    def _task_failed(self, what: str, exc: BaseException) -> None:
        text = code_text(int(exc.code)) if isinstance(exc, SignalError) else str(exc) or repr(exc)
        self.error.emit(f"{what}: {text}")

    def _set_status(self, status: str) -> None:
        self.status = status
        self.status_changed.emit(status)

    # --- Login and logout -------------------------------------------------------------------

    def login(self, server: str, app_id: str, account: str, token: str) -> asyncio.Task[None]:
        """Start logging in; ``token`` is a token or a token endpoint URL (http/https)."""
        return self.tasks.spawn(self._login(server, app_id, account, token), "Login")

    async def _login(self, server: str, app_id: str, account: str, token: str) -> None:
        if self.session is not None and self.session.get_status():
            self.login_failed.emit(208, login_failure_text(208))
            return
        self._set_status("connecting")
        try:
            if token.startswith(("http://", "https://")):
                token = await fetch_token(token, account, app_id)
            sdk = self.signal_factory(app_id, server)
            session = await sdk.login(account, token)
        except SignalError as exc:
            self._set_status("offline")
            self.login_failed.emit(int(exc.code), login_failure_text(int(exc.code)))
            return
        except TokenError as exc:
            self._set_status("offline")
            self.login_failed.emit(0, str(exc))
            return
        except Exception:
            self._set_status("offline")
            raise
        # Callbacks right after login, before the next await: the SDK holds the offline
        # inbox until then, so no message is missed.
        session.on_logout = self._on_logout
        session.on_reconnecting = self._on_reconnecting
        session.on_reconnected = self._on_reconnected
        session.on_error = self._on_sdk_error
        session.on_message_instant_receive = self._on_message
        session.on_invite_received = self._on_invite_received
        self.sdk, self.session, self.account = sdk, session, account
        self.room.attach(session)
        self.chats.clear()
        self.presence.clear()
        self._set_status("online")
        self.logged_in.emit(account)
        self.history_changed.emit()
        self.contacts_changed.emit()
        self._presence_task = self.tasks.spawn(self._poll_presence(), "Presence")

    def logout(self) -> asyncio.Task[None] | None:
        if self.session is None or not self.session.get_status():
            return None
        return self.tasks.spawn(self.session.logout(), "Logout")

    async def shutdown(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - bound, not a deadline
        """Quit: log out (bounded), stop sound, cancel every task this bridge started."""
        self.tones.stop()
        if self.media is not None:
            await self.media.close()
        session = self.session
        if session is not None and session.get_status():
            try:
                await asyncio.wait_for(session.logout(), timeout)
            except (TimeoutError, SignalError) as exc:
                log.warning("logout on quit: %r", exc)
        await self.tasks.cancel_all(timeout)
        if self.voice is not None:
            await self.voice.aclose()
            self.voice.on_audio_event = None

    def _on_logout(self, code: int) -> None:
        if self._presence_task is not None:
            self._presence_task.cancel()
            self._presence_task = None
        if self.call is not None:
            self._finish_call(self.call, "Call ended: you were logged out.")
        self.room.detach()
        self._set_status("offline")
        self.logged_out.emit(code, logout_text(code))

    def _on_reconnecting(self, attempt: int) -> None:
        self._set_status("reconnecting")
        self.reconnecting.emit(attempt)

    def _on_reconnected(self, _fd: int) -> None:
        self._set_status("online")
        self.reconnected.emit()

    def _on_sdk_error(self, exc: BaseException) -> None:
        log.error("SDK error: %r", exc)
        text = code_text(int(exc.code)) if isinstance(exc, SignalError) else str(exc)
        self.error.emit(text)

    # --- Point-to-point chat -------------------------------------------------------------

    def send_message(self, peer: str, text: str) -> str:
        """Show the line at once as "sending"; it turns "sent" or "failed" when the server
        answers (an offline peer's message is kept by the server: that is "sent")."""
        msg_id = secrets.token_hex(8)
        line = ChatLine(peer, True, text, time.time(), msg_id, "sending")
        self.chats.setdefault(peer, []).append(line)
        self.chat_changed.emit(peer)
        self.tasks.spawn(self._send(line), "Send message")
        return msg_id

    async def _send(self, line: ChatLine) -> None:
        try:
            if self.session is None:
                raise SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "not logged in")
            await self.session.message_instant_send(line.peer, line.text, line.msg_id)
            line.state = "sent"
        except SignalError as exc:
            line.state = "failed"
            self.error.emit(f"Message to {line.peer} failed: {code_text(int(exc.code))}")
        self.chat_changed.emit(line.peer)

    def _on_message(self, account: str, _uid: int, msg: str) -> None:
        line = ChatLine(account, False, msg, time.time(), "", "received")
        self.chats.setdefault(account, []).append(line)
        self.chat_changed.emit(account)

    # --- Contacts and presence -------------------------------------------------------------

    def contacts(self) -> list[str]:
        return self.store.contacts(self.account) if self.account else []

    def add_contact(self, account: str) -> None:
        account = account.strip()
        if not account or not self.account:
            return
        self.store.add_contact(self.account, account)
        self.contacts_changed.emit()
        self.tasks.spawn(self._query_presence([account]), "Presence")

    def remove_contact(self, account: str) -> None:
        self.store.remove_contact(self.account, account)
        self.presence.pop(account, None)
        self.contacts_changed.emit()

    async def _poll_presence(self) -> None:
        """The SDK has no presence push yet (A7 subscribe): poll the contacts' status."""
        while self.session is not None and self.session.get_status():
            await self._query_presence(self.contacts())
            await asyncio.sleep(self.presence_interval)

    async def _query_presence(self, accounts: list[str]) -> None:
        session = self.session
        for account in accounts:
            if session is None or session.get_status() != 2:
                return
            try:
                online = bool(await session.query_user_status(account))
            except SignalError as exc:
                log.info("presence of %s: %s", account, exc)
                continue
            if self.presence.get(account) != online:
                self.presence[account] = online
                self.presence_changed.emit(account, online)

    # --- Calls ---------------------------------------------------------------------------

    def dial(self, peer: str) -> asyncio.Task[None] | None:
        peer = peer.strip()
        if not peer:
            return None
        if self.call is not None:
            self.error.emit("Hang up the current call first.")
            return None
        return self.tasks.spawn(self._dial(peer), "Call")

    async def _dial(self, peer: str) -> None:
        if self.session is None:
            raise SignalError(ErrorCode.GENERAL_E_NOT_LOGIN, "not logged in")
        self._call_started = time.time()
        self._connected_at = None
        self.call_peer = peer
        self._set_audio("")
        self._emit_call(CALLING, f"Calling {peer}…")
        fields = {"srcNum": self.account}
        media = self.voice.new_call(_weak(self._on_media_event)) if self.voice is not None else None
        extra = json.dumps(fields)
        if media is not None:
            try:
                extra = await media.offer_extra(fields)
            except Exception as exc:  # e.g. an SDP too big for the extra: call without voice
                log.warning("no voice for this call: %s", exc)
                self._set_audio(f"Calling without sound: {exc}")
                await media.close()
                media = None
        try:
            call = await self.session.channel_invite_user2(
                "call-" + secrets.token_hex(6), peer, extra
            )
        except SignalError as exc:
            if media is not None:
                await media.close()
            self._record(peer, "outgoing", "failed")
            self._emit_call(ENDED, call_end_text(int(exc.code)))
            return
        self.call = call
        call.on_invite_received_by_peer = lambda _e: self._on_peer_ringing(call)
        call.on_invite_accepted_by_peer = lambda _e: self._on_connected(call)
        call.on_invite_refused_by_peer = lambda _e: self._finish_call(
            call, f"{peer} declined the call.", "declined"
        )
        call.on_invite_failed = lambda e: self._finish_call(
            call, call_end_text(_ecode(e) or 700), "failed"
        )
        call.on_invite_end_by_peer = lambda e: self._on_end_by_peer(call, e)
        call.on_invite_end_by_myself = lambda _e: self._finish_call(call, "Call ended.")
        call.on_invite_msg = self._on_invite_msg
        self._attach_media(call, media)

    def _on_peer_ringing(self, call: Call) -> None:
        if call is self.call and call.state == "ringing":
            self.tones.ringback(True)
            self._emit_call(RINGING, f"Ringing at {call.peer}…")

    def _on_invite_received(self, call: Call) -> None:
        if self.call is not None:
            self.tasks.spawn(call.channel_invite_refuse('{"busy":1}'), "Refuse (busy)")
            self._record(call.peer, "missed", "busy")
            self._add_missed()
            return
        self.call = call
        self.call_peer = call.peer
        self._call_started = time.time()
        self._connected_at = None
        call.on_invite_end_by_peer = lambda e: self._on_end_by_peer(call, e)
        call.on_invite_end_by_myself = lambda _e: self._finish_call(call, "Call ended.")
        call.on_invite_msg = self._on_invite_msg
        try:
            number = str(json.loads(call.extra).get("srcNum", "")) if call.extra else ""
        except (ValueError, AttributeError):
            number = ""
        self._set_audio("")
        media = self.voice.new_call(_weak(self._on_media_event)) if self.voice is not None else None
        self._attach_media(call, media)
        self.tones.ringtone(True)
        self._emit_call(INCOMING, f"{call.peer} is calling")
        self.incoming_call.emit(call.peer, number)

    def accept(self) -> asyncio.Task[None] | None:
        call = self.call
        if call is None or call.direction != "in" or self._connected_at is not None:
            return None
        self.tones.ringtone(False)
        return self.tasks.spawn(self._accept(call), "Answer")

    async def _accept(self, call: Call) -> None:
        try:
            if self.media is not None and self.media.call is call:
                await self.media.accept()  # the SDP answer inside the accept's extra
            else:
                await call.channel_invite_accept("")
        except SignalError as exc:
            self._finish_call(call, call_end_text(int(exc.code)))
            return
        self._on_connected(call)

    def refuse(self) -> asyncio.Task[None] | None:
        call = self.call
        if call is None or call.direction != "in" or self._connected_at is not None:
            return None
        self.tones.ringtone(False)
        # The caller gets refused_by_peer; nothing fires here, so finish at once.
        self._finish_call(call, "You declined the call.", "declined")
        return self.tasks.spawn(call.channel_invite_refuse(""), "Decline")

    def hang_up(self) -> asyncio.Task[None] | None:
        call = self.call
        if call is None:
            return None
        if call.direction == "in" and self._connected_at is None:
            return self.refuse()
        return self.tasks.spawn(call.channel_invite_end(""), "Hang up")

    def send_dtmf(self, digits: str) -> None:
        """A key pressed during a connected call: play it here and send it there."""
        for digit in digits:
            self.tones.key(digit)
        call = self.call
        if call is not None and self._connected_at is not None:
            self.tasks.spawn(call.channel_invite_dtmf(digits), "DTMF")

    def set_muted(self, muted: bool) -> None:
        """Mute the microphone: the call's media keeps sending frames, of silence (so the
        far side's jitter buffer and the stats stay alive and unmuting is instant)."""
        self.muted = muted
        if self.media is not None:
            self.media.mute(muted or self.held)  # unmuting during hold must not send voice
        self.mute_changed.emit(muted)

    def set_held(self, held: bool) -> None:
        """Hold the call locally: media sends silence and drops what arrives, the connection
        and the SDK call stay up (no re-INVITE: both ends are ours, so no round trip).
        Resuming keeps the microphone muted if the user had muted it."""
        if held == self.held:
            return
        self.held = held
        if self.media is not None:
            self.media.hold(held)
            if not held and self.muted:
                self.media.mute(True)
        self.hold_changed.emit(held)

    def call_elapsed(self) -> float:
        return 0.0 if self._connected_at is None else time.time() - self._connected_at

    def _on_connected(self, call: Call) -> None:
        if call is not self.call:
            return
        self.tones.ringback(False)
        self.tones.ringtone(False)
        self._connected_at = time.time()
        self._emit_call(CONNECTED, f"Connected to {call.peer}")
        if self.media is not None:
            self._stats_task = self.tasks.spawn(self._poll_stats(call, self.media), "Call stats")

    def _on_end_by_peer(self, call: Call, extra: str) -> None:
        code = _ecode(extra)
        if code is not None:
            text = call_end_text(code)
        elif call.direction == "in" and self._connected_at is None:
            text = f"{call.peer} hung up before you answered."
        else:
            text = f"{call.peer} hung up."
        self._finish_call(call, text)

    def _on_invite_msg(self, extra: str) -> None:
        try:
            data = json.loads(extra)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("type") == "dtmf":
            self.dtmf_received.emit(str(data.get("dtmf", "")))

    def _finish_call(self, call: Call, text: str, outcome: str | None = None) -> None:
        """The call is over (any path, once): stop tones, write history, tell the views."""
        if call is not self.call or call.id in self._call_closed:
            return
        self._call_closed.add(call.id)
        self.tones.ringback(False)
        self.tones.ringtone(False)
        answered = self._connected_at is not None
        duration = self.call_elapsed()
        if call.direction == "out":
            kind = "outgoing"
            outcome = "answered" if answered else (outcome or "no answer")
        elif answered:
            kind, outcome = "incoming", "answered"
        elif outcome == "declined":
            kind = "incoming"
        else:
            kind, outcome = "missed", "missed"
            self._add_missed()
        self._record(call.peer, kind, outcome, duration)
        self.call = None
        self._connected_at = None
        self.muted = False
        if self.held:
            self.held = False
            self.hold_changed.emit(False)
        if self._stats_task is not None:
            self._stats_task.cancel()
            self._stats_task = None
        media, self.media = self.media, None
        if media is not None:
            # Refusing, a failed invite, logout: close here too (idempotent with the
            # media's own end handling, which covers the end events).
            self.tasks.spawn(media.close(), "Stop audio")
        self._emit_call(ENDED, text)

    # --- Voice ----------------------------------------------------------------------------

    def _attach_media(self, call: Call, media: Any) -> None:
        """After the bridge's own callbacks are set: CallAudio chains onto them."""
        if media is None:
            return
        self.media = media
        media.attach(call)
        if self.muted:
            media.mute(True)
        if self.held:
            media.hold(True)

    def _on_media_event(self, event: Any) -> None:
        """CallAudio's events (on the loop): only the ones a user needs to read."""
        if event.kind == "no-audio-device":
            self._set_audio(_audio_sentence(event.message))
        elif event.kind in ("failed", "no-media"):
            self._set_audio(f"No sound: {event.message}.")

    def _on_audio_event(self, kind: str, message: str) -> None:
        if self.call is None:
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
            self.audio_status.emit(text)

    async def _poll_stats(self, call: Call, media: Any, interval: float = 1.5) -> None:
        """RTT, loss and jitter for the call view while the call lasts."""
        while call is self.call and media is self.media:
            try:
                stats = await media.stats()
            except Exception as exc:  # the connection is closing: no numbers this round
                log.debug("stats: %r", exc)
            else:
                self.stats_text = format_stats(stats)
                self.call_stats.emit(self.stats_text)
            await asyncio.sleep(interval)

    def _record(self, peer: str, kind: str, outcome: str, duration: float = 0.0) -> None:
        self.store.add_call(self.account, peer, kind, outcome, self._call_started, duration)
        self.history_changed.emit()

    def _add_missed(self) -> None:
        self.missed += 1
        self.missed_changed.emit(self.missed)

    def clear_missed(self) -> None:
        if self.missed:
            self.missed = 0
            self.missed_changed.emit(0)

    def _emit_call(self, state: str, text: str) -> None:
        self.call_status = state
        self.call_state.emit(self.call_peer, state, text)

    def redial_target(self) -> str | None:
        return self.store.last_dialed(self.account) if self.account else None


def _weak(method: Callable[..., Any]) -> Callable[..., None]:
    """A callback for the voice layer that does not keep the bridge alive: a strong one
    would put the bridge (a QObject) in a reference cycle, and the cyclic collector may
    then free it on whatever thread happens to allocate (a PortAudio or executor worker),
    which crashes Qt."""
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
        text += " (the call works, but without sound)"
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


class TokenError(Exception):
    """The token endpoint did not give a token; the message is the sentence to show."""


async def fetch_token(url: str, account: str, app_id: str) -> str:
    """GET a development token (``/api/token?account=..``, docs/server-api.md)."""
    import aiohttp  # only logins through a token URL need it (keeps start-up light)

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.setdefault("account", account)
    if app_id:
        query.setdefault("app_id", app_id)
    full = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(full) as reply,
        ):
            if reply.status != 200:
                raise TokenError(f"The token endpoint answered {reply.status}: {reply.reason}.")
            data = await reply.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise TokenError(f"Could not get a token from {parts.netloc or url}: {exc}") from exc
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError("The token endpoint's answer has no token.")
    return token
