"""Links, dial targets and server addresses as people type them (no Qt here)."""

from __future__ import annotations

import re
import urllib.parse

from ..protocol.names import is_valid_name

__all__ = [
    "dial_target",
    "is_phone_number",
    "normalize_target",
    "parse_servers",
    "server_url",
]

#: A phone number as typed: digits with an optional leading +, and the * and # keys.
_NUMBER = re.compile(r"^\+?[0-9*#]+$")
#: What people put between digits: spaces, dashes, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-.()/]")


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


def is_phone_number(text: str) -> bool:
    """Digits (with + * #): the server routes these to the SIP gateway."""
    return bool(_NUMBER.match(text))


def normalize_target(text: str) -> str | None:
    """What the dialer's field holds -> the account or number to call, or None.

    ``+49 30 1234-56`` -> ``+4930123456``; ``bob`` -> ``bob``; a link -> its target; empty
    or a name with spaces -> None.
    """
    text = text.strip()
    if not text:
        return None
    if text.lower().startswith(("tel:", "sigphone:")):
        return dial_target(text)
    compact = _SEPARATORS.sub("", text)
    if compact and is_phone_number(compact) and any(ch.isdigit() for ch in compact):
        return compact
    return text if is_valid_name(text) else None


def server_url(text: str) -> str:
    """``127.0.0.1:9000`` -> ``ws://127.0.0.1:9000``; ``https://h`` -> ``wss://h``; a
    ``ws://``/``wss://`` address unchanged."""
    text = text.strip().rstrip("/")
    lower = text.lower()
    if lower.startswith(("ws://", "wss://")):
        return text
    if lower.startswith("http://"):
        return "ws://" + text[7:]
    if lower.startswith("https://"):
        return "wss://" + text[8:]
    return "ws://" + text


def parse_servers(text: str) -> list[str]:
    """One address or several, separated by commas (or spaces): each as a ``ws(s)://`` URL,
    duplicates dropped, order kept."""
    urls: list[str] = []
    for part in re.split(r"[,\s]+", text):
        if part.strip():
            url = server_url(part)
            if url not in urls:
                urls.append(url)
    return urls
