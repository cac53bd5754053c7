"""``Signal``: the SDK's entry point (Web API ``Signal(appid)``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Sequence
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


def _server_list(server: str | Sequence[str]) -> list[str]:
    """One address or several (nodes of one system); at least one, each a ws:// or wss:// URL."""
    servers = [server] if isinstance(server, str) else list(server)
    if not servers or not all(isinstance(s, str) and s for s in servers):
        raise SignalError(ErrorCode.GENERAL_E_WRONG_PARAM, "server: a URL or a list of URLs")
    return servers


class Signal:
    """One app on one server: ``session = await Signal(app_id, server=url).login(...)``.

    ``server`` may also be a list of addresses of one system (the nodes of a cluster): login
    takes the first that answers, and after a connection loss the reconnect attempts rotate
    through the list (docs/sdk.md, "Several servers").

    Login callbacks live here because a session object exists only once login succeeded:
    ``on_login_success(uid)`` and ``on_login_failed(ecode)`` fire as well as ``login``
    returning or raising. ``on_log(line)`` receives SDK log lines after ``set_do_log(True)``.
    """

    on_login_success: Callable[[int], Any] | None = None
    on_login_failed: Callable[[int], Any] | None = None
    on_log: Callable[[str], Any] | None = None

    def __init__(self, app_id: str, server: str | Sequence[str] = "ws://127.0.0.1:9000") -> None:
        self.app_id = app_id
        #: Every address given, and the index of the one in use (or tried last).
        self.servers = _server_list(server)
        self.server_index = 0
        #: Tunables (seconds); the defaults suit real networks, tests shorten them.
        self.connect_timeout = 10.0
        self.request_timeout = 30.0
        self.ping_interval = 20.0
        self.reconnect_delay = 0.1
        self.reconnect_delay_max = 2.0
        self.ack_delay = 0.02
        self.ack_batch = 64
        #: How long (seconds), and how many, events wait for a callback not assigned yet.
        self.callback_wait = 10.0
        self.callback_backlog = 1000
        #: Confirm every incoming invite at once (the caller's on_invite_received_by_peer),
        #: as the seeds do. A gateway sets False and calls ``Call.confirm()`` when the far
        #: phone really rings (docs/sdk.md, "Additions to the seed").
        self.auto_confirm_invites = True
        #: TLS settings for a wss:// server (None: the system's default trust store).
        self.ssl: ssl.SSLContext | None = None
        self.session: Session | None = None
        self._log_handler: _OnLogHandler | None = None

    @property
    def server(self) -> str:
        """The address in use (or tried last)."""
        return self.servers[self.server_index]

    @server.setter
    def server(self, server: str | Sequence[str]) -> None:
        self.servers = _server_list(server)
        self.server_index = 0

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
        previous = self.session
        if previous is not None and previous.get_status() != Status.LOGGED_OUT:
            # A logout started just before (not awaited) may not have run yet: let it start,
            # then wait for it, as the seed allows a login "without having to wait".
            await asyncio.sleep(0)
            if previous.logging_out:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(previous._closed.wait(), self.connect_timeout)
        if previous is not None and previous.get_status() != Status.LOGGED_OUT:
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
        except asyncio.CancelledError:
            log.info("login cancelled")
            await invoke(self.on_login_failed, int(ErrorCode.LOGIN_E_CANCEL))
            raise
        log.info("logged in as %s", account)
        session._start()
        await invoke(self.on_login_success, 0)
        return session

    def get_status(self) -> Status:
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
