"""When a client acknowledges: the adaptive ack delay (sans-I/O, the clock is passed in).

Every ack frame costs the server a read, a WebSocket frame parse and a request; with a
fixed 20 ms delay a member of a busy channel (one event every 50 ms) acknowledged every
single event, which was most of the server's CPU per delivery (docs/benchmarks.md). The
rule here keeps acks fast when the connection is quiet and spaces them out under load:

- an ack is due ``delay`` after the event that makes one due (``delay`` = the SDK's
  ``ack_delay``, 20 ms): at low load every event is acknowledged within 20 ms;
- if that event came within ``delay_max`` of the previous ack (the connection is busy),
  the gap since the previous ack doubles, up to ``delay_max`` (1 s): under sustained load
  a connection sends at most ``1 / delay_max`` timed acks per second (measured: at 0.5 s the
  acks of a 1x1000 fan-out at 20k deliveries/s still took ~20% of the server's CPU);
- ``batch`` finished events (64) are acknowledged at once, whatever the clock;
- an event is therefore acknowledged within ``max(delay, delay_max)`` or ``batch`` events,
  which bounds the server's outbox and the replay of a resume.

Acks also ride free on any request the client sends (``ClientProtocol``); those do not
count here, only the frames this clock schedules.
"""

from __future__ import annotations

__all__ = ["ACK_BATCH", "ACK_DELAY", "ACK_DELAY_MAX", "AckClock"]

#: The SDK's defaults (``Signal.ack_batch`` and ``Signal.ack_delay``; the bound is fixed).
ACK_BATCH = 64
ACK_DELAY = 0.02
ACK_DELAY_MAX = 1.0


class AckClock:
    """Decides when the next ack frame goes out; its owner keeps the sequence numbers."""

    __slots__ = ("batch", "delay", "delay_max", "due", "gap", "last")

    def __init__(
        self, batch: int = ACK_BATCH, delay: float = ACK_DELAY, delay_max: float = ACK_DELAY_MAX
    ) -> None:
        self.batch = max(1, batch)
        self.delay = max(0.0, delay)
        self.delay_max = max(self.delay, delay_max)
        #: When the pending ack must go out (None: nothing pending).
        self.due: float | None = None
        #: The current spacing of timed acks: ``delay`` when quiet, doubling under load.
        self.gap = self.delay
        #: When the last ack frame went out (None: none yet on this clock).
        self.last: float | None = None

    def pending(self, unacked: int, now: float) -> bool:
        """``unacked`` finished events wait for an ack; True: send it now (a full batch)."""
        if unacked <= 0:
            return False
        if unacked >= self.batch:
            return True
        if self.due is None:
            last = self.last
            if last is None or now - last >= self.delay_max:
                self.gap = self.delay  # quiet: fast again
                self.due = now + self.delay
            else:
                self.gap = min(self.gap * 2, self.delay_max)
                self.due = max(now + self.delay, last + self.gap)
        return False

    def expired(self, now: float) -> bool:
        """Whether the pending ack is due at ``now``."""
        return self.due is not None and now >= self.due

    def sent(self, now: float) -> None:
        """An ack frame went out at ``now``."""
        self.due = None
        self.last = now

    def covered(self) -> None:
        """Everything was acknowledged without a frame of ours (piggybacked on a request)."""
        self.due = None

    def reset(self) -> None:
        """A new server session: start quiet."""
        self.due = None
        self.gap = self.delay
        self.last = None
