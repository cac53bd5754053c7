"""The account: login (with a token or a token URL), cancel, logout, status, reconnect.

Owns the SDK ``Signal`` and ``Session``. Right after ``login`` returns, before the next
``await``, it sets its own callbacks and hands the session to the other controllers
(``on_session`` hooks), so no SDK event that was waiting for the session is missed.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..sdk import Session, SignalError
from ..sdk import Signal as SdkSignal
from .events import (
    ErrorText,
    EventBus,
    LoggedIn,
    LoggedOut,
    LoginFailed,
    Reconnected,
    Reconnecting,
    StatusChanged,
)
from .tasks import TaskSet
from .texts import code_text, login_failure_text, logout_text
from .uri import parse_servers

__all__ = ["Account", "SignalFactory", "TokenError", "default_signal", "fetch_token"]

log = logging.getLogger("sigphone.phone")

#: ``(app_id, server)`` -> an SDK Signal; ``server`` is one URL or a list of them.
SignalFactory = Callable[[str, "str | list[str]"], SdkSignal]

CANCELLED = 203


def default_signal(app_id: str, server: str | list[str]) -> SdkSignal:
    return SdkSignal(app_id, server=server)


class TokenError(Exception):
    """The token endpoint did not give a token; the message is the sentence to show."""


class Account:
    """One account's session. ``status`` is "offline", "connecting", "online" or
    "reconnecting"."""

    def __init__(
        self, bus: EventBus, tasks: TaskSet, signal_factory: SignalFactory = default_signal
    ) -> None:
        self.bus = bus
        self.tasks = tasks
        self.signal_factory = signal_factory
        self.sdk: SdkSignal | None = None
        self.session: Session | None = None
        self.account = ""
        self.app_id = ""
        self.servers: list[str] = []
        self.status = "offline"
        #: Called with the new session right after login (set callbacks there, no await).
        self.on_session: list[Callable[[Session], None]] = []
        #: Called when the session is over (logout, kicked, lost).
        self.on_session_end: list[Callable[[], None]] = []
        self._login_task: asyncio.Task[None] | None = None

    @property
    def online(self) -> bool:
        return self.session is not None and self.session.get_status() == 2

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.bus.publish(StatusChanged(status))

    # --- Public methods --------------------------------------------------------------------

    def login(self, server: str, app_id: str, account: str, token: str) -> asyncio.Task[None]:
        """Start logging in. ``server`` is an address as typed (``host:port`` works; several
        separated by commas are tried in turn); ``token`` is a token or a token endpoint
        URL (http/https)."""
        task = self.tasks.spawn(self._login(server, app_id, account, token), "Login")
        self._login_task = task
        return task

    def cancel_login(self) -> bool:
        """Stop a login that is still connecting; True if there was one."""
        task = self._login_task
        if task is None or task.done() or self.status != "connecting":
            return False
        task.cancel()
        return True

    def logout(self) -> asyncio.Task[None] | None:
        if self.session is None or not self.session.get_status():
            return None
        return self.tasks.spawn(self.session.logout(), "Logout")

    async def shutdown(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - a bound
        session = self.session
        if session is not None and session.get_status():
            try:
                await asyncio.wait_for(session.logout(), timeout)
            except (TimeoutError, SignalError) as exc:
                log.warning("logout on quit: %r", exc)

    # --- Login ---------------------------------------------------------------------------

    async def _login(self, server: str, app_id: str, account: str, token: str) -> None:
        if self.session is not None and self.session.get_status():
            self.bus.publish(LoginFailed(208, login_failure_text(208)))
            return
        servers = parse_servers(server)
        if not servers:
            self.bus.publish(LoginFailed(201, "Type the server's address, e.g. 127.0.0.1:9000."))
            return
        self._set_status("connecting")
        try:
            if token.startswith(("http://", "https://")):
                token = await fetch_token(token, account, app_id)
            sdk = self.signal_factory(app_id, servers[0] if len(servers) == 1 else servers)
            session = await sdk.login(account, token)
        except asyncio.CancelledError:
            self._set_status("offline")
            self.bus.publish(LoginFailed(CANCELLED, login_failure_text(CANCELLED)))
            return  # the user cancelled: the task ends normally
        except SignalError as exc:
            self._set_status("offline")
            self.bus.publish(LoginFailed(int(exc.code), login_failure_text(int(exc.code))))
            return
        except TokenError as exc:
            self._set_status("offline")
            self.bus.publish(LoginFailed(0, str(exc)))
            return
        except Exception:
            self._set_status("offline")
            raise
        finally:
            self._login_task = None
        # Callbacks right after login, before the next await: the SDK holds the offline
        # inbox until then, so no message is missed.
        session.on_logout = self._on_logout
        session.on_reconnecting = self._on_reconnecting
        session.on_reconnected = self._on_reconnected
        session.on_error = self._on_sdk_error
        self.sdk, self.session, self.account, self.app_id = sdk, session, account, app_id
        self.servers = servers
        for hook in self.on_session:
            hook(session)
        self._set_status("online")
        self.bus.publish(LoggedIn(account))

    # --- SDK callbacks ----------------------------------------------------------------------

    def _on_logout(self, code: int) -> None:
        for hook in self.on_session_end:
            hook()
        self._set_status("offline")
        self.bus.publish(LoggedOut(code, logout_text(code)))

    def _on_reconnecting(self, attempt: int) -> None:
        self._set_status("reconnecting")
        self.bus.publish(Reconnecting(attempt))

    def _on_reconnected(self, _fd: int) -> None:
        self._set_status("online")
        self.bus.publish(Reconnected())

    def _on_sdk_error(self, exc: BaseException) -> None:
        log.error("SDK error: %r", exc)
        text = code_text(int(exc.code)) if isinstance(exc, SignalError) else str(exc)
        self.bus.publish(ErrorText(text))


async def fetch_token(url: str, account: str, app_id: str) -> str:
    """GET a development token (``/api/token?account=..``, docs/server-api.md)."""
    import aiohttp  # only logins through a token URL need it (keeps start-up light)

    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.setdefault("account", account)
    if app_id:
        query.setdefault("app_id", app_id)
    full = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(full) as reply,
        ):
            if reply.status != 200:
                raise TokenError(
                    f"The token endpoint answered {reply.status} ({reply.reason}). "
                    "Check the token URL."
                )
            data: Any = await reply.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise TokenError(
            f"Could not get a token from {parts.netloc or url}: {exc}. Check the token URL."
        ) from exc
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError("The token endpoint's answer has no token. Check the token URL.")
    return token
