"""Validation of account, channel and attribute names, and of free text.

Names are compared in Unicode normalisation form C: ``check_name`` returns the NFC form,
and callers keep what it returns. Free text keeps its form but must be encodable as UTF-8
(``text.check_utf8``): the one text rule of every edge.
"""

from __future__ import annotations

from .errors import ErrorCode, SignalError
from .limits import MAX_NAME_CHARS
from .text import check_utf8, nfc

__all__ = ["check_name", "check_text", "is_valid_name"]


def is_visible(text: str) -> bool:
    """True when every character is printable and not white space.

    The only printable white-space character is the ASCII space (every other one is
    non-printable to ``str.isprintable``; tests/protocol/test_names.py checks all of
    Unicode), so two C-level scans do it: the generator over ``isspace`` it replaces was
    2-3% of the server's CPU at 5k P2P messages/s (docs/benchmarks.md, Round 3)."""
    return text.isprintable() and " " not in text


def is_valid_name(name: object, max_chars: int = MAX_NAME_CHARS) -> bool:
    return isinstance(name, str) and 0 < len(name) <= max_chars and is_visible(name)


def check_name(name: object, what: str = "name", max_chars: int = MAX_NAME_CHARS) -> str:
    """Return ``name`` in NFC if it is 1..max_chars visible characters, else raise
    SignalError.

    Too long gives 1005 (large parameter); empty, spaces, control characters or a lone
    surrogate give 1004.
    """
    if not isinstance(name, str) or not name:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} must be a non-empty string")
    name = nfc(check_utf8(name, what))
    if len(name) > max_chars:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM, f"{what} is longer than {max_chars} characters"
        )
    if not is_visible(name):
        raise SignalError(
            ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} may hold only visible characters, no spaces"
        )
    return name


def check_text(text: object, what: str, max_chars: int, *, allow_empty: bool = True) -> str:
    """Return ``text`` if it is a string within the limit (free text: spaces allowed)."""
    if not isinstance(text, str):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} must be a string")
    check_utf8(text, what)
    if not allow_empty and not text:
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, f"{what} must not be empty")
    if len(text) > max_chars:
        raise SignalError(
            ErrorCode.GENERAL_E_LARGE_PARAM, f"{what} is longer than {max_chars} characters"
        )
    return text
