"""The embedded backend (the default): SQLite for durable state, this process for presence."""

from sigphone.server.backends.embedded.broker import LocalBroker
from sigphone.server.backends.embedded.sqlite_store import SqliteStore

__all__ = ["LocalBroker", "SqliteStore"]
