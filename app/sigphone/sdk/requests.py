"""The narrow interface the session gives its components (channels, calls, presence).

A component sends requests, queues callbacks behind the events already received, hands an
event's callback over (or parks it until the application assigns it) and runs background
tasks. It never reaches into the session for anything else, so components do not import
each other or the session (no import cycle, no shared state).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from ..protocol import frames as f
from ..protocol.errors import ErrorCode

__all__ = ["CallbackSource", "Handler", "Requests"]

#: Where an event's callback comes from: read at hand-over time, so a late assignment counts.
CallbackSource = Callable[[], Callable[..., Any] | None]
#: An event handler of the dispatch table.
Handler = Callable[[Any], Awaitable[None]]


class Requests(Protocol):
    @property
    def account(self) -> str: ...

    @property
    def request_timeout(self) -> float: ...

    @property
    def auto_confirm_invites(self) -> bool: ...

    def on_session(self, name: str) -> Callable[..., Any] | None:
        """The session's callback ``name`` (channel callbacks fall back to it)."""
        ...

    async def request(
        self, frame: f.Request, *, timeout_code: ErrorCode = ErrorCode.GENERAL_E_FAILED
    ) -> dict[str, Any]: ...

    def next_cseq(self) -> int: ...

    def emit(self, name: str, *args: Any) -> None:
        """Queue the session callback ``name`` behind the events already received."""
        ...

    def later(self, step: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Queue an internal step (it may hand callbacks over) behind the events received."""
        ...

    async def hand(self, source: CallbackSource, name: str, *args: Any) -> None:
        """Hand an event's callback over, or park it until the application assigns it."""
        ...

    def callback_assigned(self) -> None:
        """An ``on_*`` attribute was assigned (retry the callbacks that wait for one)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background (kept referenced; failures are logged)."""
        ...

    def in_dispatcher(self) -> bool:
        """Whether the caller runs inside a callback (on the dispatch task)."""
        ...

    def ended(self) -> bool: ...

    def on_end(self, hook: Callable[[ErrorCode], None]) -> None:
        """Call ``hook(code)`` when the session ends, before on_logout is queued."""
        ...

    def on_relogin(self, hook: Callable[[], Any]) -> None:
        """Run ``hook`` after a reconnect that could not resume (the server forgot us)."""
        ...
