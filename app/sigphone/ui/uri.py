"""``tel:`` and ``sigphone:`` links -> the number or account to dial (no Qt here)."""

from __future__ import annotations

import urllib.parse

__all__ = ["dial_target"]


def dial_target(uri: str) -> str | None:
    """``tel:+1-555-0100`` -> ``+15550100``; ``sigphone:bob``, ``sigphone://call/bob`` and
    ``sigphone://bob`` -> ``bob``; anything else -> None."""
    scheme, sep, rest = uri.strip().partition(":")
    if not sep:
        return None
    scheme = scheme.lower()
    rest = urllib.parse.unquote(rest.split("?", 1)[0].split(";", 1)[0])
    if scheme == "tel":
        target = "".join(ch for ch in rest if ch.isdigit() or ch in "+*#")
        return target or None
    if scheme == "sigphone":
        parts = [p for p in rest.split("/") if p]
        if parts and parts[0] == "call":
            parts = parts[1:]
        return parts[0] if parts else None
    return None
