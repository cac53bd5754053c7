"""The remembered token, in the operating system's keyring (never in the settings file).

``keyring`` picks the platform's store: Windows Credential Manager, macOS Keychain, the
Secret Service (GNOME Keyring, KWallet) on Linux. Where none exists (a server, a container,
a bare window manager) keyring's chosen backend is its ``fail`` (or ``null``) one: then the
token is simply not remembered, ``available`` is False, and ``problem`` says so in one
sentence that the login window shows. Nothing falls back to a plain file.

Tests pick a backend the way keyring documents it (``keyring.set_keyring``), never the
desktop's.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["NO_KEYRING", "TokenVault"]

log = logging.getLogger("sigphone.phone")

#: The service name entries are filed under (one entry per app ID and account).
SERVICE = "Sigphone"

NO_KEYRING = (
    "This computer has no keyring (password store), so the token is not remembered: "
    "enter it at each login."
)


def _backend() -> Any:
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken configuration: behave as if there were none
        log.warning("keyring unavailable: %r", exc)
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return None
    if module.startswith("keyring.backends.chainer") and not getattr(backend, "backends", None):
        return None
    return backend


class TokenVault:
    """``get``/``put``/``forget`` the token for (app ID, account)."""

    def __init__(self) -> None:
        self._backend = _backend()

    @property
    def available(self) -> bool:
        return self._backend is not None

    @property
    def problem(self) -> str | None:
        return None if self.available else NO_KEYRING

    @property
    def name(self) -> str:
        backend = self._backend
        return getattr(backend, "name", type(backend).__name__) if backend else "none"

    @staticmethod
    def _key(app_id: str, account: str) -> str:
        return f"{app_id}/{account}"

    def get(self, app_id: str, account: str) -> str:
        if self._backend is None or not account:
            return ""
        try:
            return self._backend.get_password(SERVICE, self._key(app_id, account)) or ""
        except Exception as exc:  # a locked or broken keyring: ask for the token instead
            log.warning("reading the keyring failed: %r", exc)
            return ""

    def put(self, app_id: str, account: str, token: str) -> bool:
        """True when the token is stored."""
        if self._backend is None or not account or not token:
            return False
        try:
            self._backend.set_password(SERVICE, self._key(app_id, account), token)
        except Exception as exc:
            log.warning("writing the keyring failed: %r", exc)
            return False
        return True

    def forget(self, app_id: str, account: str) -> None:
        if self._backend is None or not account:
            return
        try:
            self._backend.delete_password(SERVICE, self._key(app_id, account))
        except Exception as exc:  # not there (PasswordDeleteError) or broken: nothing to do
            log.debug("deleting from the keyring: %r", exc)
