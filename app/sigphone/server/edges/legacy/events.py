"""The hub's event structs as the 1.x clients expect them: queue lines and channel notifies.

The old clients know two kinds of pushes. Point-to-point messages and every call event
(``voip_*``) sit in a versioned per-user queue the client pulls with ``user_getmsg`` after
a ``["notify", ["msg", ver]]`` nudge; channel events arrive directly as ``channel2``
notifies. Which kind a hub event is, and its text, is decided here and nowhere else.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import msgspec

from sigphone.protocol import calls as k
from sigphone.protocol import channels as c
from sigphone.protocol import frames as f
from sigphone.protocol import legacy as w

__all__ = ["QUEUED", "LegacyState", "channel_notify", "queue_line"]

#: Hub events the old clients pull from their message queue (the others are pushed).
QUEUED: tuple[type[msgspec.Struct], ...] = (f.MsgEvent, k.CallIncoming, k.CallEvent)

#: CallEvent.what -> the queue line kind both clients dispatch on (``voip_<kind>``).
_CALL_KINDS = {
    "received_by_peer": "voip_invite_ack",
    "accepted_by_peer": "voip_invite_accept",
    "refused_by_peer": "voip_invite_refuse",
    "failed": "voip_invite_failed",
    "end_by_peer": "voip_invite_bye",
    "msg": "voip_invite_msg",
}

#: A line kind neither client acts on: keeps the queue's versions without a callback
#: (end_by_myself, which the old clients raise themselves, or a call we cannot name).
NOOP_KIND = "sigphone_noop"

#: Calls remembered per session; older ones are forgotten first (their events go silent).
MAX_CALLS = 256


@dataclass(slots=True)
class LegacyState:
    """What the adapter keeps for one legacy session beyond the hub's session."""

    app: str
    account: str
    token: str
    #: Queue lines carry ids (``msg-v3``) for the JS clients, which drop repeats by id; the
    #: Python client reads only ``msg-v2``. Ids are unique: ``<session id>.<seq>``, or the
    #: durable inbox id of a message, the same when a later session delivers it again.
    line_ids: str = ""
    #: Highest queue version the client has said it processed (``user_getmsg`` ver_clear).
    ver_clear: int = 0
    #: Highest event sequence handed to a live connection (channel notifies go out once).
    live_upto: int = 0
    #: The old clients name a call by (channel, peer); the hub by call id.
    calls: dict[tuple[str, str], str] = field(default_factory=dict)
    call_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The state a channel_join pushed, read back into its call2 reply.
    joined: c.ChannelJoined | None = None

    def remember_call(self, call: str, channel: str, peer: str) -> None:
        old = self.calls.get((channel, peer))
        if old is not None:
            self.call_keys.pop(old, None)
        self.calls[(channel, peer)] = call
        self.call_keys[call] = (channel, peer)
        while len(self.call_keys) > MAX_CALLS:
            first = next(iter(self.call_keys))
            self.calls.pop(self.call_keys.pop(first), None)


def _call_content(channel: str, peer: str, extra: str) -> str:
    return w.content({"channel": channel, "peer": peer, "extra": extra, "peeruid": 0})


def legacy_extra(extra: str) -> str:
    """Our DTMF payload in the form the 1.x clients send (``{"msgtype": "dtmf", ...}``)."""
    if not extra.startswith('{"type":"dtmf"'):
        return extra
    try:
        obj = json.loads(extra)
    except ValueError:
        return extra
    if isinstance(obj, dict) and obj.get("type") == "dtmf" and isinstance(obj.get("dtmf"), str):
        return w.content({"msgtype": "dtmf", "msgdata": obj["dtmf"]})
    return extra


def queue_line(seq: int, event: msgspec.Struct, state: LegacyState) -> str:
    """The queue line of a QUEUED event (learning the call names it introduces)."""
    me = state.account
    msgid = f"{state.line_ids}.{seq}" if state.line_ids else ""
    if isinstance(event, f.MsgEvent):
        if msgid and event.iid:
            msgid = f"inbox.{event.iid}"
        ts = event.ts or time.time()
        return w.msg_line(event.account, me, "instant", ts, event.msg, msgid=msgid)
    now = time.time()
    if isinstance(event, k.CallIncoming):
        state.remember_call(event.call, event.channel, event.account)
        body = _call_content(event.channel, event.account, event.extra)
        return w.msg_line(event.account, me, "voip_invite", now, body, msgid=msgid)
    assert isinstance(event, k.CallEvent)
    key = state.call_keys.get(event.call)
    kind = _CALL_KINDS.get(event.what)
    if key is None or kind is None:
        return w.msg_line("-", me, NOOP_KIND, now, "{}", msgid=msgid)
    channel, peer = key
    extra = legacy_extra(event.extra) if event.what == "msg" else event.extra
    return w.msg_line(peer, me, kind, now, _call_content(channel, peer, extra), msgid=msgid)


#: The line of the last channel event: a fan-out hands one frozen event to every member
#: in a row, so each legacy member reuses it (only the msgid differs per session).
_last_line: tuple[msgspec.Struct, str] | None = None


def channel_notify(seq: int, event: msgspec.Struct) -> bytes | None:
    """The ``channel2`` notify of a channel event, or None for events the clients lack."""
    global _last_line
    last = _last_line
    if last is not None and last[0] is event:
        return w.notify_channel(event.channel, seq, last[1])  # type: ignore[attr-defined]
    line = _channel_line(event)
    if line is None:
        return None
    _last_line = (event, line)
    return w.notify_channel(event.channel, seq, line)  # type: ignore[attr-defined]


def _channel_line(event: msgspec.Struct) -> str | None:
    now = time.time()
    if isinstance(event, c.ChannelMessage):
        body = {"channel": event.channel, "account": event.account, "uid": 0, "msg": event.msg}
        kind, src = "channel_msg", event.account
    elif isinstance(event, c.ChannelUserJoined):
        body = {"channel": event.channel, "account": event.account, "uid": 0}
        kind, src = "channel_user_join", event.account
    elif isinstance(event, c.ChannelUserLeft):
        body = {"channel": event.channel, "account": event.account, "uid": 0}
        kind, src = "channel_user_leave", event.account
    elif isinstance(event, c.ChannelAttrUpdated):
        body = {
            "channel": event.channel,
            "account": "",
            "uid": 0,
            "name": event.name,
            "value": event.value,
            "type": event.type,
        }
        kind, src = "channel_attr_update", "-"
    else:
        return None
    return w.msg_line(src, event.channel, kind, now, w.content(body))
