"""Signaling Key v1: ``1:appId:expiredTime:md5(account + appId + appCertificate + expiredTime)``.

``expiredTime`` is a UTC Unix timestamp after which the key no longer logs in; ``0`` means the
key never expires (the seeds are silent on 0; we follow the vendor's later token formats).
Apps configured without a certificate accept only the literal token ``_no_need_token``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .errors import ErrorCode, SignalError
from .limits import MAX_TOKEN_CHARS
from .text import is_utf8

__all__ = ["NO_NEED_TOKEN", "TokenInfo", "make_token", "sign", "verify_token"]

NO_NEED_TOKEN = "_no_need_token"
TOKEN_VERSION = "1"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    app_id: str
    expired_time: int  # Unix seconds; 0 = never


def sign(account: str, app_id: str, app_certificate: str, expired_time: int | str) -> str:
    text = f"{account}{app_id}{app_certificate}{expired_time}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def make_token(account: str, app_id: str, app_certificate: str, expired_time: int) -> str:
    """Build a v1 Signaling Key (what the customer's own server hands to its clients)."""
    if expired_time < 0:
        raise ValueError("expired_time must be >= 0")
    return f"{TOKEN_VERSION}:{app_id}:{expired_time}:" + sign(
        account, app_id, app_certificate, expired_time
    )


def verify_token(
    token: str, *, account: str, app_id: str, app_certificate: str | None, now: float
) -> TokenInfo:
    """Check ``token`` for ``account`` in ``app_id``; raise SignalError(206/204) if it fails.

    The signature is compared in constant time and checked before the expiry, so a forged
    key is "wrong" (206) whatever time it claims, and only a genuine one can be "expired" (204).
    """
    wrong = SignalError(ErrorCode.LOGIN_E_TOKENWRONG, "the token is not valid for this account")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not is_utf8(token):
        raise wrong
    if app_certificate is None:
        if token == NO_NEED_TOKEN:
            return TokenInfo(app_id=app_id, expired_time=0)
        raise SignalError(
            ErrorCode.LOGIN_E_TOKENWRONG,
            f"this app has no certificate and accepts only the token {NO_NEED_TOKEN}",
        )
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION:
        raise wrong
    _, token_app, expired_text, given = parts
    if not expired_text.isascii() or not expired_text.isdigit() or len(expired_text) > 12:
        raise wrong
    expected = sign(account, app_id, app_certificate, expired_text)
    # Compare the app ID and the signature without an early exit on either.
    same_app = hmac.compare_digest(token_app.encode(), app_id.encode())
    same_sign = hmac.compare_digest(given.lower().encode(), expected.encode())
    if not (same_app and same_sign):
        raise wrong
    expired_time = int(expired_text)
    if expired_time and expired_time <= now:
        raise SignalError(ErrorCode.LOGIN_E_TOKENEXPIRED, "the token has expired")
    return TokenInfo(app_id=app_id, expired_time=expired_time)
