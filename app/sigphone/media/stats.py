"""Per-call quality numbers for the call view, taken from aiortc's getStats report.

A plain dataclass so the GUI (or a log line) needs no aiortc types. RTT needs the far side's
RTCP receiver reports, so it is None for the first second or so of a call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCStatsReport,
)

__all__ = ["CallStats", "from_report"]


@dataclass(frozen=True)
class CallStats:
    codec: str | None = None
    #: Round trip from RTCP (ms); None until the far side has sent a receiver report.
    rtt_ms: float | None = None
    packets_sent: int = 0
    packets_received: int = 0
    #: Packets we never received (from our inbound stream).
    packets_lost: int = 0
    #: Share of our packets the far side lost in its last report (0..1).
    remote_fraction_lost: float | None = None
    #: Interarrival jitter of what we receive (ms, RFC 3550).
    jitter_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_report(report: RTCStatsReport, codec: str | None, clock_rate: int = 48_000) -> CallStats:
    fields: dict[str, Any] = {"codec": codec}
    for stat in report.values():
        if isinstance(stat, RTCRemoteInboundRtpStreamStats):
            if stat.roundTripTime is not None:
                fields["rtt_ms"] = stat.roundTripTime * 1000.0
            fields["remote_fraction_lost"] = stat.fractionLost
        elif isinstance(stat, RTCInboundRtpStreamStats):
            fields["packets_received"] = stat.packetsReceived
            fields["packets_lost"] = max(stat.packetsLost, 0)
            if stat.jitter is not None:
                fields["jitter_ms"] = stat.jitter * 1000.0 / clock_rate
        elif isinstance(stat, RTCOutboundRtpStreamStats):
            fields["packets_sent"] = stat.packetsSent
    return CallStats(**fields)
