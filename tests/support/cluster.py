"""A cluster for tests: one real Redis and N real ``sigphone-server --redis`` node processes.

Each node reaches Redis through its own TCP proxy (tests/support/netfault.py), so a test can
cut one node off Redis; clients reach nodes through a proxy too when a test needs a "load
balancer" that moves them to a live node after a kill -9.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from .netfault import FaultyLink
from .procserver import ServerProcess
from .redisproc import RedisProcess


class Cluster:
    def __init__(
        self,
        folder: Path,
        apps: list[str],
        nodes: int = 2,
        *,
        durable: bool = False,
        extra: list[str] | None = None,
    ) -> None:
        """``extra``: more command-line flags for every node (``--config`` for [limits])."""
        self.folder = folder
        self.extra = extra or []
        self.redis = RedisProcess(folder / "redis", durable=durable)
        self.apps = apps
        self.count = nodes
        self.nodes: list[ServerProcess] = []
        self.redis_links: list[FaultyLink] = []

    async def start(self) -> None:
        await self.redis.start()
        for i in range(self.count):
            link = FaultyLink(self.redis.port)
            await link.start()
            self.redis_links.append(link)
            extra = ["--redis", f"redis://127.0.0.1:{link.port}/0", "--node-id", f"n{i + 1}"]
            extra += self.extra
            node = ServerProcess(self.folder / f"node{i + 1}", self.apps, extra=extra)
            await node.start()
            self.nodes.append(node)

    def url(self, i: int) -> str:
        return self.nodes[i].url

    async def health(self, i: int) -> tuple[int, dict[str, object]]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{self.nodes[i].port}/healthz") as resp,
        ):
            return resp.status, json.loads(await resp.text())

    async def restart_redis(self) -> None:
        """kill -9 Redis and start it again on the same port (and AOF, if durable)."""
        await self.redis.restart()
        for link in self.redis_links:
            link.target_port = self.redis.port

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()
        for link in self.redis_links:
            await link.close()
        await self.redis.stop()
