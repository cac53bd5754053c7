"""Backends of the hub: ``embedded`` (SQLite, one process, the default) and ``redis``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sigphone.server.backends.base import Broker, Store

if TYPE_CHECKING:
    from sigphone.server.config import ServerConfig
    from sigphone.server.core.hub import Hub
    from sigphone.server.core.quotas import Quotas
    from sigphone.server.services.calls import CallConfig, Calls
    from sigphone.server.services.channels import Channels, ChannelsConfig

__all__ = ["Broker", "Store", "make_backend", "make_calls", "make_channels"]


def make_backend(config: ServerConfig) -> tuple[Store, Broker]:
    """The store and broker ``config`` asks for: Redis with ``[cluster] redis``, else embedded."""
    if config.cluster.redis:
        from sigphone.server.backends.redis import RedisBackend  # only a cluster needs redis-py

        backend = RedisBackend(config.cluster, config.hub, config.quotas)
        return backend.store, backend.broker
    from sigphone.server.backends.embedded import LocalBroker, SqliteStore

    path = ":memory:" if config.data is None else config.data / "sigphone.sqlite3"
    return SqliteStore(path, config.quotas), LocalBroker()


def make_channels(hub: Hub, config: ChannelsConfig, quotas: Quotas | None = None) -> Channels:
    """The channel service for the hub's backend: cluster-wide on Redis, else in memory."""
    from sigphone.server.backends.embedded import LocalBroker
    from sigphone.server.services.channels import Channels

    if isinstance(hub.broker, LocalBroker):
        return Channels(hub, config, quotas=quotas)
    from sigphone.server.backends.redis.broker import RedisBroker
    from sigphone.server.backends.redis.channels import ClusterChannels

    assert isinstance(hub.broker, RedisBroker)  # the only other backend
    return ClusterChannels(hub, hub.broker, config, quotas=quotas)


def make_calls(hub: Hub, config: CallConfig) -> Calls:
    """The call service: across nodes on Redis (a call lives on its caller's node)."""
    from sigphone.server.backends.embedded import LocalBroker
    from sigphone.server.services.calls import Calls

    if isinstance(hub.broker, LocalBroker):
        return Calls(hub, config)
    from sigphone.server.backends.redis.broker import RedisBroker
    from sigphone.server.backends.redis.calls import ClusterCalls

    assert isinstance(hub.broker, RedisBroker)  # the only other backend
    return ClusterCalls(hub, hub.broker, config)
