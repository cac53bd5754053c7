"""``Signal``: the SDK's entry point (Web API ``Signal(appid)``)."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Any

from .. import __version__
from ..protocol.errors import ErrorCode, SignalError
from ..protocol.names import check_name
from .callbacks import invoke
from .session import Session, Status

__all__ = ["Signal"]

log = logging.getLogger("sigphone.sdk")

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}


class _OnLogHandler(logging.Handler):
    def __init__(self, signal: Signal) -> None:
        super().__init__()
        self.signal = signal
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        callback = self.signal.on_log
        if callback is not None:
            with contextlib.suppress(Exception):  # a log sink never breaks the SDK
                callback(self.format(record))


class Signal:
    """One app on one server: ``session = await Signal(app_id, server=url).login(...)``.

    Login callbacks live here because a session object exists only once login succeeded:
    ``on_login_success(uid)`` and ``on_login_failed(ecode)`` fire as well as ``login``
    returning or raising. ``on_log(line)`` receives SDK log lines after ``set_do_log(True)``.
    """

    on_login_success: Callable[[int], Any] | None = None
    on_login_failed: Callable[[int], Any] | None = None
    on_log: Callable[[str], Any] | None = None

    def __init__(self, app_id: str, server: str = "ws://127.0.0.1:9000") -> None:
        self.app_id = app_id
        self.server = server
        #: Tunables (seconds); the defaults suit real networks, tests shorten them.
        self.connect_timeout = 10.0
        self.request_timeout = 30.0
        self.ping_interval = 20.0
        self.reconnect_delay = 0.1
        self.reconnect_delay_max = 2.0
        self.ack_delay = 0.02
        self.ack_batch = 64
        #: TLS settings for a wss:// server (None: the system's default trust store).
        self.ssl: ssl.SSLContext | None = None
        self.session: Session | None = None
        self._log_handler: _OnLogHandler | None = None

    # --- Methods of the seeds -----------------------------------------------------------

    async def login(
        self,
        account: str,
        token: str,
        reconnect_count: int = 10,
        reconnect_time: float = 30.0,
    ) -> Session:
        """Log in and return the session; raises SignalError (and fires on_login_failed).

        ``token`` is a v1 Signaling Key, or ``_no_need_token`` for an app without a
        certificate. A second login while one is active raises 208 (already logged in).
        """
        if self.session is not None and self.session.get_status() != Status.LOGGED_OUT:
            error = SignalError(ErrorCode.LOGIN_E_ALREADY_LOGIN, "already logged in")
            await invoke(self.on_login_failed, int(error.code))
            raise error
        try:
            account = check_name(account, "account")  # NFC, as the server names it
            if reconnect_count < 0 or reconnect_time < 0:
                raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "reconnect limits must be >= 0")
            session = Session(self, account, token, reconnect_count, reconnect_time)
            self.session = session
            await session._first_login()
        except SignalError as exc:
            log.info("login failed: %s", exc)
            await invoke(self.on_login_failed, int(exc.code))
            raise
        log.info("logged in as %s", account)
        session._start()
        await invoke(self.on_login_success, 0)
        return session

    def get_status(self) -> int:
        """0 logged out, 1 connecting, 2 logged in."""
        return Status.LOGGED_OUT if self.session is None else self.session.get_status()

    def is_online(self) -> bool:
        return self.get_status() == Status.LOGGED_IN

    @staticmethod
    def get_sdk_version() -> str:
        return __version__

    def set_do_log(self, enabled: bool, level: str = "DEBUG") -> None:
        """Send SDK log lines at ``level`` (DEBUG, INFO, WARNING) and above to ``on_log``."""
        logger = logging.getLogger("sigphone.sdk")
        if self._log_handler is not None:
            logger.removeHandler(self._log_handler)
            self._log_handler = None
        if enabled:
            self._log_handler = _OnLogHandler(self)
            self._log_handler.setLevel(_LEVELS.get(level.upper(), logging.DEBUG))
            logger.addHandler(self._log_handler)
            if logger.getEffectiveLevel() > self._log_handler.level:
                logger.setLevel(self._log_handler.level)
