"""Server API request signatures (MISSION S1): HMAC-SHA256 with the app certificate.

A server holding the app certificate signs each HTTP request; the certificate itself never
travels. The signed text binds the method, the path with its query, a Unix timestamp, a random nonce
and the body, so a signature is worthless for any other request; the server accepts a
timestamp only within a window around its clock and each signature only once (replays are
refused; the nonce lets two identical requests in one second both pass). No I/O
here: the server's API and the SDK's helper share this module. See docs/server-api.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict

from .errors import ErrorCode, SignalError

__all__ = [
    "APP_HEADER",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ReplayGuard",
    "sign",
    "signed_headers",
    "string_to_sign",
    "verify",
]

APP_HEADER = "X-Sigphone-App"
TIMESTAMP_HEADER = "X-Sigphone-Timestamp"
SIGNATURE_HEADER = "X-Sigphone-Signature"
NONCE_HEADER = "X-Sigphone-Nonce"
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")

#: Seconds a request's timestamp may differ from the server's clock.
DEFAULT_WINDOW = 300.0


def string_to_sign(method: str, path_qs: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\n/path?query\\ntimestamp\\nnonce\\nsha256-hex(body)`` (UTF-8)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path_qs}\n{timestamp}\n{nonce}\n{digest}".encode()


def sign(
    certificate: str, method: str, path_qs: str, timestamp: str, nonce: str, body: bytes = b""
) -> str:
    """Hex HMAC-SHA256 of string_to_sign, keyed with the certificate's text (UTF-8)."""
    text = string_to_sign(method, path_qs, timestamp, nonce, body)
    return hmac.new(certificate.encode(), text, hashlib.sha256).hexdigest()


def signed_headers(
    app_id: str,
    certificate: str,
    method: str,
    path_qs: str,
    body: bytes = b"",
    *,
    now: float | None = None,
) -> dict[str, str]:
    """The four headers that authenticate one request (what a customer's server sends)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(8)
    return {
        APP_HEADER: app_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(certificate, method, path_qs, timestamp, nonce, body),
    }


class ReplayGuard:
    """Remembers the signatures seen within the window, so each is accepted once."""

    def __init__(self, window: float = DEFAULT_WINDOW, max_entries: int = 1_000_000) -> None:
        self.window = window
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_use(self, signature: str, now: float) -> bool:
        while self._seen:
            oldest, until = next(iter(self._seen.items()))
            if until > now and len(self._seen) < self.max_entries:
                break
            del self._seen[oldest]
        if signature in self._seen:
            return False
        self._seen[signature] = now + 2 * self.window
        return True


def verify(
    *,
    certificate: str | None,
    method: str,
    path_qs: str,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    guard: ReplayGuard,
) -> None:
    """Raise SignalError unless the request is signed with ``certificate``, fresh and new.

    206 (token wrong): missing or bad signature, or an app without a certificate.
    204 (token expired): the timestamp is outside the window. 206 also for a replay.
    """
    wrong = ErrorCode.LOGIN_E_TOKENWRONG
    if certificate is None:
        raise SignalError(wrong, "this app has no certificate: the Server API needs one")
    if (
        not timestamp
        or not signature
        or not (timestamp.isascii() and timestamp.isdigit())  # int() reads other digits too
        or len(timestamp) > 12
        or not signature.isascii()  # hmac.compare_digest takes ASCII text only
    ):
        raise SignalError(wrong, "missing or malformed signature headers")
    if nonce is None or not _NONCE.fullmatch(nonce):
        raise SignalError(wrong, "missing or malformed nonce (8..64 of A-Za-z0-9_-)")
    expected = sign(certificate, method, path_qs, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignalError(wrong, "bad signature")
    if abs(now - int(timestamp)) > guard.window:
        raise SignalError(ErrorCode.LOGIN_E_TOKENEXPIRED, "timestamp outside the allowed window")
    if not guard.first_use(expected, now):
        raise SignalError(wrong, "replayed request")
