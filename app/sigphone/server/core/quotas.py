"""What one user (or one app) may make the server keep: the quotas of ``[limits]``.

Each bounds what a hostile but authenticated user could otherwise pile up for weeks: channels
created by attribute calls from outside, undelivered messages on disk, another user's inbox.
Exceeding one is refused with the request's own seed code (400 for a message, 1001 for a
channel attribute) and a reason that names the quota. A cluster counts them in Redis, for
every node together (backends/redis/quota_scripts.py, channel_scripts.ATTR). See
docs/deployment.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigphone.protocol.errors import ErrorCode, SignalError

__all__ = ["Quotas"]


@dataclass(slots=True)
class Quotas:
    #: Channels a user may create without joining them (channel_set_attr through invoke):
    #: they live up to their _channel_ttl (30 days at most) with no member.
    attr_channels_per_user: int = 100
    #: The same for a whole app (its users and its Server API together).
    attr_channels_per_app: int = 10_000
    #: Undelivered point-to-point messages one sender may have waiting in all inboxes.
    undelivered_per_sender: int = 2_000
    #: How much of one recipient's inbox (10,000 messages) one sender may fill, so that no
    #: sender can lock everyone else out of it.
    inbox_share_per_sender: int = 1_000
    #: Bytes of undelivered messages in the whole store (message text, UTF-8).
    store_bytes: int = 2 * 1024**3

    def app_channels_full(self) -> SignalError:
        """The refusal of a channel created from outside past ``attr_channels_per_app``
        (the same text on one server and on a cluster)."""
        return SignalError(
            ErrorCode.GENERAL_E_FAILED,
            f"quota: this app has {self.attr_channels_per_app} channels without members",
        )

    def user_channels_full(self) -> SignalError:
        return SignalError(
            ErrorCode.GENERAL_E_FAILED,
            f"quota: you created {self.attr_channels_per_user} channels without joining them",
        )
