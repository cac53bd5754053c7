"""Every size, count and rate limit of the system, in one place (server and SDK share it).

Character limits count Unicode code points (``len(str)``), as the seeds speak of
"visible characters".
"""

from __future__ import annotations

__all__ = [
    "CHANNEL_RATE_LARGE",
    "LARGE_CHANNEL_MEMBERS",
    "MAX_ATTRS_PER_CHANNEL",
    "MAX_ATTRS_PER_USER",
    "MAX_CHANNEL_ATTR_NAME_CHARS",
    "MAX_CHANNEL_ATTR_VALUE_CHARS",
    "MAX_CHANNEL_MSG_CHARS",
    "MAX_CHANNEL_MSG_CHARS_LARGE",
    "MAX_FRAME_BYTES",
    "MAX_INBOX_PER_USER",
    "MAX_JSON_DEPTH",
    "MAX_MSG_ID_CHARS",
    "MAX_NAME_CHARS",
    "MAX_P2P_MSG_CHARS",
    "MAX_TOKEN_CHARS",
    "MAX_USERLIST_ALL",
    "MAX_USER_ATTR_NAME_CHARS",
    "MAX_USER_ATTR_VALUE_CHARS",
    "MAX_WIRE_BYTES",
    "USER_LIST_MAX",
    "USER_RATE_LARGE",
]

#: Account and channel names: 1..128 visible characters, no spaces (both seeds).
MAX_NAME_CHARS = 128
#: Point-to-point message body: 8K characters (both seeds).
MAX_P2P_MSG_CHARS = 8 * 1024
#: Message IDs are visible characters; the seeds give no length, we allow a name's length.
MAX_MSG_ID_CHARS = 128
#: User attributes (Windows manual: name <= 256, value <= 128).
MAX_USER_ATTR_NAME_CHARS = 256
MAX_USER_ATTR_VALUE_CHARS = 128
#: How many attributes one user may hold (ours: the seeds are silent; bounded everything).
MAX_ATTRS_PER_USER = 256
#: A token is "1:" + 32 + ":" + 10 + ":" + 32 characters; leave room for other apps' IDs.
MAX_TOKEN_CHARS = 512
#: Messages kept for one offline user before new ones are refused (sender gets 400).
MAX_INBOX_PER_USER = 10_000
#: One decoded frame. An 8K-character message is at most 48 KiB of JSON when every
#: character is escaped as \\uXXXX, so 64 KiB fits any legal frame with room to spare.
MAX_FRAME_BYTES = 64 * 1024
#: How deeply a client's JSON may nest (objects and arrays). No request of either wire
#: format needs more than a handful of levels; deeper ones get 1004 and the connection lives.
MAX_JSON_DEPTH = 32
#: What the WebSocket layer accepts at all; frames between the two get a 1005 reply and the
#: connection lives, larger ones close the connection (1009 message too big).
MAX_WIRE_BYTES = 1024 * 1024

# --- Channels (docs/channels.md) ---------------------------------------------------------
#: A channel with more members than this is "large" (seeds: "for example, over 200 people"):
#: no automatic user list, 1K messages, per-user and per-channel send rates.
LARGE_CHANNEL_MEMBERS = 200
#: onChannelUserList holds at most the latest 200 members (Web API).
USER_LIST_MAX = 200
#: channel_query_userlist_all answers at most this many (1,000*1,000 asked by default): a
#: reply must stay under MAX_WIRE_BYTES even with 128-character accounts.
MAX_USERLIST_ALL = 5_000
#: Channel attributes (Windows manual: name <= 128, value <= 1024).
MAX_CHANNEL_ATTR_NAME_CHARS = 128
MAX_CHANNEL_ATTR_VALUE_CHARS = 1024
#: Attributes one channel may hold (ours: bounded everything).
MAX_ATTRS_PER_CHANNEL = 256
#: Channel message body: 8K characters in small channels, 1K in large ones (Windows manual).
MAX_CHANNEL_MSG_CHARS = 8 * 1024
MAX_CHANNEL_MSG_CHARS_LARGE = 1024
#: Send rates in large channels, messages per second (Windows manual): per user, per channel.
USER_RATE_LARGE = 1.0
CHANNEL_RATE_LARGE = 100.0
