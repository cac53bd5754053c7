"""This node's Redis channels, read in batches straight off the connection with hiredis.

redis-py's ``PubSub.get_message`` costs one coroutine round, one timeout and one dict per
message: 44 % of a receiving node's CPU under cross-node point-to-point load (py-spy,
docs/benchmarks.md "Cluster"). Here each read from the socket is parsed in one loop and
handed over as one batch. redis-py still opens the connection (TCP, TLS or a Unix socket,
AUTH, SELECT), so every URL the cluster accepts works the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

__all__ = ["Subscription"]

#: Bytes read per wake-up: a few hundred messages when the node is busy.
READ_SIZE = 256 * 1024


class Subscription:
    def __init__(self, client: Redis) -> None:
        self._conn: Any = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]  # redis-py: untyped
        self._reader = hiredis.Reader()
        self._early: list[tuple[bytes, bytes]] = []

    async def subscribe(self, *channels: str) -> None:
        """Connect and subscribe; returns once Redis confirmed every channel."""
        await self._conn.connect()
        # Written by redis-py, read by us only: nothing of it sits in redis-py's parser.
        await self._conn.send_command("SUBSCRIBE", *channels)
        confirmed = 0
        while confirmed < len(channels):
            for reply in await self._read():
                if reply[0] == b"subscribe":
                    confirmed += 1
                elif reply[0] == b"message":
                    self._early.append((reply[1], reply[2]))

    async def batches(self) -> AsyncIterator[list[tuple[bytes, bytes]]]:
        """(channel, data) of every message, one list per read; ends only by raising."""
        # Let what the caller started on subscribing run first: the broker's inbox reload
        # holds every session before its first await, and a message that came in during
        # the subscription and was pushed before that hold would raise the session's
        # highest id past messages lost in the gap, which the reload would then skip.
        await asyncio.sleep(0)
        if self._early:
            early, self._early = self._early, []
            yield early
        while True:
            yield [(r[1], r[2]) for r in await self._read() if r[0] == b"message"]

    async def _read(self) -> list[Any]:
        # redis-py's StreamReader (a private attribute: pyproject pins redis-py below 9).
        data = await self._conn._reader.read(READ_SIZE)
        if not data:
            raise RedisConnectionError("Redis closed the subscription")
        self._reader.feed(data)
        replies = []
        while (reply := self._reader.gets()) is not False:
            if isinstance(reply, hiredis.ReplyError):
                raise ResponseError(str(reply))
            replies.append(reply)
        return replies

    async def aclose(self) -> None:
        await self._conn.disconnect()
