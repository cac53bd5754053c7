"""The Redis backend: several server nodes sharing one Redis are one system (D3).

Needs ``redis-py`` with ``hiredis`` (``pip install 'sigphone[cluster]'``); the embedded backend
never imports this package. See docs/deployment.md, "Cluster".
"""

from __future__ import annotations

import secrets
import socket

from sigphone.server.backends.base import ClusterConfig
from sigphone.server.backends.redis.broker import RedisBroker
from sigphone.server.backends.redis.pipe import Pipe
from sigphone.server.backends.redis.store import RedisStore
from sigphone.server.core.hub import HubConfig
from sigphone.server.core.quotas import Quotas

__all__ = ["RedisBackend", "RedisBroker", "RedisStore", "make_node_id"]


def make_node_id() -> str:
    """The host name and a random suffix: unique even for two nodes on one machine."""
    host = "".join(ch for ch in socket.gethostname() if ch.isalnum() or ch in "-.")[:40]
    return f"{host or 'node'}-{secrets.token_hex(3)}"


class RedisBackend:
    """One pipe (ordered commands) shared by the store and the broker, so a login's presence
    claim runs before its inbox load and a message's store before its acknowledgement."""

    def __init__(
        self, cluster: ClusterConfig, hub: HubConfig, quotas: Quotas | None = None
    ) -> None:
        node_id = cluster.node_id or make_node_id()
        if not node_id or any(ch.isspace() for ch in node_id):
            raise ValueError(f"node id {node_id!r}: visible characters only, no spaces")
        self.pipe = Pipe(cluster.redis, cluster.op_timeout)
        self.store = RedisStore(self.pipe, hub.inbox_ttl, quotas)
        self.broker = RedisBroker(self.pipe, self.store, cluster, node_id, cluster.redis)
