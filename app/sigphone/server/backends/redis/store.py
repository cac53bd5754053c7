"""The store of a cluster: inboxes, user attributes and send marks in Redis (A5, A8).

The same contract as the SQLite store (backends/base.py): futures resolve in submission order,
a refusal is a SignalError with the same code. Durability is Redis's: with AOF and
``appendfsync always`` a reply means the write is on disk (docs/deployment.md, "Cluster").

Expiry: a message older than ``inbox_ttl`` is never handed out (filtered when loaded) and an
inbox or mark key expires ``inbox_ttl`` after its last write, so ``purge_expired`` has nothing
left to do.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_ATTRS_PER_USER, MAX_INBOX_PER_USER
from sigphone.server.backends.base import InboxRecord
from sigphone.server.backends.redis import quota_scripts as q
from sigphone.server.backends.redis import scripts as s
from sigphone.server.backends.redis.pipe import Pipe
from sigphone.server.core.quotas import Quotas

__all__ = ["RedisStore", "parse_record"]


def parse_record(member: bytes | str) -> tuple[InboxRecord, float]:
    """``iid|json`` of the inbox set -> (record, expires)."""
    text = member.decode() if isinstance(member, bytes) else member
    iid, _, body = text.partition("|")
    sender, msg, ts, expires = json.loads(body)
    return InboxRecord(int(iid), sender, msg, float(ts)), float(expires)


def _records(reply: list[bytes], now: float) -> list[InboxRecord]:
    out: list[InboxRecord] = []
    for member in reply:
        record, expires = parse_record(member)
        if expires > now:
            out.append(record)
    return out


class RedisStore:
    def __init__(self, pipe: Pipe, inbox_ttl: float, quotas: Quotas | None = None) -> None:
        self.pipe = pipe
        self.ttl = max(int(inbox_ttl), 1)
        self.quotas = quotas or Quotas()

    async def open(self) -> None:
        return None  # the backend starts the pipe

    async def close(self) -> None:
        return None

    # --- Inbox -----------------------------------------------------------------------

    def append_message(
        self,
        app: str,
        account: str,
        sender: str,
        msg: str,
        *,
        ts: float,
        expires: float,
        client_id: str,
        cseq: int,
        quota: bool = True,
    ) -> asyncio.Future[int]:
        """As the SQLite store's: the recipient's inbox limit and (``quota``) the per-sender
        quotas, counted in Redis (quota_scripts.py); the store's byte budget is Redis's
        ``maxmemory`` (docs/deployment.md, Cluster)."""
        record = json.dumps([sender, msg, ts, expires], ensure_ascii=False)
        # A send without a number (the Server API's) gets a once-token instead: the batch
        # may be sent twice after a broken connection, the message is stored once.
        once = "" if (client_id and cseq) else secrets.token_hex(12)
        keys = (
            s.key("inbox", app, account),
            s.key("mark", app, sender),
            s.key("pres", app, account),
        )
        seq = cseq if client_id else 0
        quotas = self.quotas
        args = (
            client_id, seq, MAX_INBOX_PER_USER, self.ttl, record, once, app, account,
            "1" if quota else "0", quotas.inbox_share_per_sender, quotas.undelivered_per_sender,
            ts, expires, sender,
        )  # fmt: skip

        def parse(reply: Any) -> int:
            iid = int(reply)
            if iid == q.SHARE_FULL:
                raise SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER,
                    f"quota: at most {quotas.inbox_share_per_sender} of your messages wait"
                    " for one recipient",
                )
            if iid == q.SENDER_FULL:
                raise SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER,
                    f"quota: at most {quotas.undelivered_per_sender} of your messages wait"
                    " undelivered",
                )
            if iid < 0:
                raise SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER, "the recipient's message queue is full"
                )
            return iid

        return self.pipe.submit(lambda p: self.pipe.script(p, q.APPEND, 3, *keys, *args), parse)

    def load_inbox(
        self, app: str, account: str, *, now: float, delete_upto: int = 0, after: int = 0
    ) -> asyncio.Future[list[InboxRecord]]:
        """Live messages with ids above ``after``, after dropping those <= ``delete_upto``."""
        inbox = s.key("inbox", app, account)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, q.LOAD, 1, inbox, delete_upto, after),
            lambda reply: _records(reply, now),
        )

    def delete_messages(self, app: str, account: str, iids: list[int]) -> asyncio.Future[None]:
        inbox = s.key("inbox", app, account)
        return self.pipe.submit(
            lambda p: self.pipe.script(p, q.DELETE, 1, inbox, *iids), lambda _: None
        )

    def sender_mark(self, app: str, account: str, client_id: str) -> asyncio.Future[int]:
        mark = s.key("mark", app, account)
        return self.pipe.submit(lambda p: p.hget(mark, client_id), lambda r: int(r or 0))

    def purge_expired(self, now: float, mark_ttl: float) -> asyncio.Future[int]:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        fut.set_result(0)  # Redis expires the keys itself (see the module's docstring)
        return fut

    # --- User attributes ---------------------------------------------------------------

    def set_user_attr(self, app: str, account: str, name: str, value: str) -> asyncio.Future[None]:
        attrs = s.key("attr", app, account)

        def parse(reply: Any) -> None:
            if int(reply) < 0:
                raise SignalError(
                    ErrorCode.GENERAL_E_LARGE_PARAM,
                    f"a user holds at most {MAX_ATTRS_PER_USER} attributes",
                )

        return self.pipe.submit(
            lambda p: self.pipe.script(p, s.ATTR_SET, 1, attrs, name, value, MAX_ATTRS_PER_USER),
            parse,
        )

    def get_user_attrs(self, app: str, account: str) -> asyncio.Future[dict[str, str]]:
        attrs = s.key("attr", app, account)
        return self.pipe.submit(
            lambda p: p.hgetall(attrs),
            lambda reply: {k.decode(): v.decode() for k, v in sorted(reply.items())},
        )
