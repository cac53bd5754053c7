"""The one text rule of every edge: strings are valid Unicode, names are NFC, JSON is shallow.

JSON can carry a lone UTF-16 surrogate (``"\\ud800"``): Python's ``json`` decodes it into a
``str`` that can never be encoded again, so it breaks whatever later writes it (a SQLite
bind, a WebSocket frame, an event stream) far from the request that brought it in, and
often for other users. Every edge (native, legacy, Server API) therefore runs what it
decoded through this module before the hub sees it, and the hub's own name and text checks
(``names.check_name`` / ``check_text``) apply the same rule again: a string that is not
encodable as UTF-8 is refused with 1004 where it enters.

Names (accounts, channels) are compared after Unicode normalisation form C, so ``"é"``
typed as one code point and as ``e`` + combining accent is one account (docs/protocol.md).

No I/O here: server, SDK and tools share it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, TypeVar

import msgspec

from .errors import ErrorCode, SignalError
from .limits import MAX_JSON_DEPTH

__all__ = [
    "check_json",
    "check_utf8",
    "is_utf8",
    "loads",
    "nfc",
    "parse",
    "scrub",
    "scrub_struct",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


def is_utf8(text: str) -> bool:
    """True if ``text`` can be encoded as UTF-8 (it holds no lone surrogate)."""
    return text.isascii() or _SURROGATE.search(text) is None


def check_utf8(text: str, what: str = "text") -> str:
    """Return ``text``, or raise 1004 if it is not encodable as UTF-8."""
    if not is_utf8(text):
        raise SignalError(
            ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} is not valid Unicode (lone surrogate)"
        )
    return text


def nfc(name: str) -> str:
    """``name`` in Unicode normalisation form C (ASCII is returned as it is, at no cost)."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def check_json(value: Any, what: str = "frame", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Return a decoded JSON ``value`` after checking every string in it (keys too) with
    ``check_utf8`` and its nesting against ``max_depth``; raises 1004 otherwise.

    Iterative, so a hostile depth cannot exhaust the interpreter's stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                check_utf8(item, what)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise SignalError(
                    ErrorCode.GENERAL_E_WRONG_PARAM,
                    f"{what} is nested deeper than {max_depth} levels",
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    stack.append((key, depth))
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return value


def parse(data: bytes | str, what: str = "frame") -> Any:
    """Decode JSON from a client; every failure, a hostile nesting depth included, is a
    SignalError 1004 (never a RecursionError). The strings are not checked yet: callers
    that can name the request in their answer check them with ``check_json``."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"malformed JSON ({exc})") from None
    except RecursionError:
        raise SignalError(
            ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} is nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None


def loads(data: bytes | str, what: str = "frame") -> Any:
    """``parse`` and ``check_json`` in one: decoded client JSON that passed the text rule."""
    return check_json(parse(data, what), what)


def scrub(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (for output that must not fail)."""
    return text if is_utf8(text) else _SURROGATE.sub("\ufffd", text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {_scrub_value(k): _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v) for v in value]
    return value


S = TypeVar("S", bound=msgspec.Struct)


def scrub_struct(obj: S) -> S:
    """A copy of ``obj`` that encodes: what cannot be written is replaced, not lost.

    The edges refuse such strings, so this only runs if something slipped past them; a
    writer then sends the scrubbed copy rather than wedging its connection.
    """
    return msgspec.convert(_scrub_value(msgspec.to_builtins(obj)), type(obj))
