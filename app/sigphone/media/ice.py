"""Choosing which local addresses become ICE host candidates.

aioice offers every interface except 127.0.0.1 and has no option to pick interfaces. Tests
need the opposite (loopback only: the container's other addresses may not route to itself),
and users with VPN or Docker interfaces may want to leave some out. aioice looks its helper
``aioice.ice.get_host_addresses`` up at call time, so we wrap it once, and the wrapper reads
a ``ContextVar`` that ``host_addresses(...)`` sets only around our own gathering: other
peer connections in the process are unaffected, and nothing is patched per call.

If an aioice upgrade renames the helper, ``install`` raises at import of the engine and
tests/media/test_engine.py (only loopback candidates in the offer) fails, instead of a call
silently gathering the wrong addresses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

import aioice.ice

__all__ = ["LOOPBACK", "host_addresses", "install"]

#: Host candidates for tests and same-machine demos.
LOOPBACK = ("127.0.0.1",)

_override: ContextVar[tuple[str, ...] | None] = ContextVar("sigphone_ice_hosts", default=None)
_MARK = "_sigphone_filtered"


def install() -> None:
    """Wrap aioice's address helper (idempotent)."""
    original = aioice.ice.get_host_addresses
    if getattr(original, _MARK, False):
        return

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        chosen = _override.get()
        if chosen is None:
            return original(use_ipv4, use_ipv6)
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    setattr(get_host_addresses, _MARK, True)
    aioice.ice.get_host_addresses = get_host_addresses


@contextlib.contextmanager
def host_addresses(addresses: Sequence[str] | None) -> Iterator[None]:
    """Within this block (and tasks it starts) gather only ``addresses`` (None: aioice's
    own choice, every interface but loopback)."""
    install()
    token = _override.set(tuple(addresses) if addresses is not None else None)
    try:
        yield
    finally:
        _override.reset(token)
