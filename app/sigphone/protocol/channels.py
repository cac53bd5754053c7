"""Channel frames, event kinds and the rules server and SDK share (sans-I/O).

Every channel event is pushed through the session's sequenced, acknowledged outbox, so the
delivery guarantees of the foundation (in order, once, across a resume) hold for channels
without a second mechanism. See docs/channels.md.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .base import Event, Request, Seq
from .errors import ErrorCode, SignalError

__all__ = [
    "AUTO_NUM_ATTRS",
    "BUILTIN_ATTRS",
    "INVOKE_PREFIX",
    "READ_ONLY_ATTRS",
    "SPECIAL_CHANNELS",
    "ChannelActivity",
    "ChannelAttrUpdated",
    "ChannelClearAttr",
    "ChannelDelAttr",
    "ChannelGap",
    "ChannelJoin",
    "ChannelJoined",
    "ChannelLeave",
    "ChannelLeft",
    "ChannelMessage",
    "ChannelSend",
    "ChannelSetAttr",
    "ChannelUserJoined",
    "ChannelUserLeft",
    "Invoke",
    "UserOnline",
    "check_builtin_value",
    "is_newer",
    "leave_code",
]

#: Channels fed by the server with every login/logout and every join/leave of the app (C8).
USER_ONLINE_CHANNEL = "_agora_user_online"
CHANNEL_EVENT_CHANNEL = "_agora_channel_event"
SPECIAL_CHANNELS = frozenset({USER_ONLINE_CHANNEL, CHANNEL_EVENT_CHANNEL})

#: Prefix of every invoke() function name of the Web API seed.
INVOKE_PREFIX = "io.agora.signal."

# Built-in channel attributes (Web API seed, channelSetAttr): name -> (lowest, highest)
# integer value a client may write. Values are kept in the attribute table as the decimal
# text the client wrote, so every member sees the setting.
BUILTIN_ATTRS: dict[str, tuple[int, int]] = {
    "_userNotification": (0, 1),
    "_channel_ttl": (0, 30 * 24 * 3600),
    "_auto_update_num": (0, 24 * 3600),
    "_auto_update_total_num": (0, 24 * 3600),
    "_sendmsg_limit": (0, 100_000),
    "_setattr_limit": (0, 100_000),
}
#: Maintained by the server (when their _auto_update_* is set); clients may not write them.
AUTO_NUM_ATTRS = {"_member_num": "_auto_update_num", "_total_member_num": "_auto_update_total_num"}
READ_ONLY_ATTRS = frozenset(AUTO_NUM_ATTRS)


def check_builtin_value(name: str, value: str) -> int | None:
    """The integer setting of a writable built-in attribute (None for ordinary ones).

    Raises 1004 for a read-only built-in or a value that is not a decimal in range, so a
    typo cannot silently switch a channel's limits off.
    """
    if name in READ_ONLY_ATTRS:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{name} is maintained by the server")
    bounds = BUILTIN_ATTRS.get(name)
    if bounds is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{name} must be a whole number")
    number = int(value)
    low, high = bounds
    if not low <= number <= high:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{name} must be {low}..{high}")
    return number


def is_newer(off: str, last: str) -> bool:
    """True unless ``off`` is at or before ``last`` in the same history (both are a cluster's
    ``epoch/ms-seq`` offsets; "" on the embedded server, where nothing is skipped). A rejoin's
    replay can overlap events the client had already received: the client skips those."""
    if not off or not last:
        return True
    epoch, _, at = off.rpartition("/")
    last_epoch, _, last_at = last.rpartition("/")
    if epoch != last_epoch:
        return True
    a_ms, _, a_seq = at.partition("-")
    b_ms, _, b_seq = last_at.partition("-")
    try:
        return (int(a_ms), int(a_seq or 0)) > (int(b_ms), int(b_seq or 0))
    except ValueError:
        return True


def leave_code(logout_code: int) -> ErrorCode:
    """onChannelLeaved reason for a session that ended with ``logout_code``.

    Network loss past the reconnect window is 604, a login on another device (103) is 601
    (the account was kicked, LEAVECHANNEL_E_KICKED), an unexplained end is 600 and every
    other logout (by the user, token expired) is 603.
    """
    if logout_code == ErrorCode.LOGOUT_E_NET:
        return ErrorCode.LEAVECHANNEL_E_DISCONN
    if logout_code == ErrorCode.LOGOUT_E_KICKED:
        return ErrorCode.LEAVECHANNEL_E_KICKED
    if logout_code == ErrorCode.LOGOUT_E_OTHER:
        return ErrorCode.LEAVECHANNEL_E_OTHER
    return ErrorCode.LEAVECHANNEL_E_LOGOUT


# --- Client -> server ---------------------------------------------------------------


class ChannelJoin(Request, tag="ch_join"):
    """Join ``channel``, leaving the one the session is in (one channel at a time).

    ``since`` (a cluster, C7 across a node's death): the ``off`` of the last channel event the
    client finished with. The server then replays what came after it instead of a snapshot,
    or, if its history no longer reaches back that far, sends a snapshot with ``gap`` set.
    """

    channel: str
    since: str = ""


class ChannelLeave(Request, tag="ch_leave"):
    """Leave ``channel``; leaving a channel one is not in is a no-op (safe to resend)."""

    channel: str


class ChannelSend(Request, tag="ch_send"):
    channel: str
    msg: str
    msg_id: str = ""
    #: The same per-client send number as point-to-point sends: a resend is applied once.
    cseq: Seq = 0


class ChannelSetAttr(Request, tag="ch_set_attr"):
    channel: str
    name: str
    value: str


class ChannelDelAttr(Request, tag="ch_del_attr"):
    channel: str
    name: str


class ChannelClearAttr(Request, tag="ch_clear_attr"):
    channel: str


class Invoke(Request, tag="invoke"):
    """Web API ``invoke(func, args)``; the reply's data is ``{"resp": ...}``."""

    func: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)


# --- Server -> client (events) ---------------------------------------------------------


class ChannelJoined(Event, tag="ch_joined", frozen=True):
    """To the joiner: the channel's state at the join. ``users`` is None in large channels."""

    channel: str
    num: int
    attrs: dict[str, str]
    users: list[str] | None = None
    #: The channel's offset at this snapshot ("" on the embedded server; see ChannelJoin).
    off: str = ""
    #: True: a rejoin whose missed events are gone from the history; this snapshot replaces
    #: the client's state (the gap signal).
    gap: bool = False


class ChannelLeft(Event, tag="ch_left", frozen=True):
    """To the leaver: it is out of ``channel`` (602 by user, or when joining another)."""

    channel: str
    code: int


class ChannelUserJoined(Event, tag="ch_user_joined", frozen=True):
    channel: str
    account: str
    off: str = ""  # the event's offset in the channel's history (a cluster), see ChannelJoin


class ChannelUserLeft(Event, tag="ch_user_left", frozen=True):
    channel: str
    account: str
    off: str = ""


class ChannelAttrUpdated(Event, tag="ch_attr", frozen=True):
    """``type`` is "update", "del" or "clear" (name and value empty for "clear")."""

    channel: str
    name: str
    value: str
    type: str
    off: str = ""


class ChannelMessage(Event, tag="ch_msg", frozen=True):
    channel: str
    account: str
    msg: str
    off: str = ""


class ChannelGap(Event, tag="ch_gap", frozen=True):
    """To one member: ``dropped`` events of ``channel`` were not kept for it (its queue was
    full, e.g. others flooded the channel during its reconnect window). A fresh
    ``ch_joined`` snapshot follows at once: the member list and attributes start over from
    it; the channel messages in the gap are lost for this member, and only them."""

    channel: str
    dropped: int


class UserOnline(Event, tag="user_online", frozen=True):
    """Feed of ``_agora_user_online``: ``online`` 1 at login, 0 at the end (``code``)."""

    account: str
    online: int
    code: int = 0


class ChannelActivity(Event, tag="ch_event", frozen=True):
    """Feed of ``_agora_channel_event``: ``action`` is "join" or "leave" (with its code)."""

    channel: str
    account: str
    action: str
    code: int = 0
