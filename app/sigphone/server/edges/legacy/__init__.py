"""The second edge adapter: the vendor's unmodified 1.x client SDKs on our hub.

See docs/legacy-clients.md for the wire format, the mapping to the hub and what is not supported.
"""

from sigphone.server.edges.legacy.edge import LegacyEdge
from sigphone.server.edges.legacy.front import getaddr_body, getaddr_vid, is_legacy_frame

__all__ = ["LegacyEdge", "getaddr_body", "getaddr_vid", "is_legacy_frame"]
