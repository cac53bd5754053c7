"""Backends of the hub: ``embedded`` (SQLite, one process, the default) and ``redis``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sigphone.server.backends.base import Broker, Store

if TYPE_CHECKING:
    from sigphone.server.config import ServerConfig

__all__ = ["Broker", "Store", "make_backend"]


def make_backend(config: ServerConfig) -> tuple[Store, Broker]:
    """The store and broker ``config`` asks for: Redis with ``[cluster] redis``, else embedded."""
    if config.cluster.redis:
        from sigphone.server.backends.redis import RedisBackend  # only a cluster needs redis-py

        backend = RedisBackend(config.cluster, config.hub)
        return backend.store, backend.broker
    from sigphone.server.backends.embedded import LocalBroker, SqliteStore

    path = ":memory:" if config.data is None else config.data / "sigphone.sqlite3"
    return SqliteStore(path), LocalBroker()
