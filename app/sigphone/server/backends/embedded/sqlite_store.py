"""Durable state of the hub: per-user inboxes, user attributes, send de-duplication marks.

SQLite from the standard library, on one dedicated thread so the event loop never blocks.
Operations queue in order and run in batches, one transaction per batch (group commit):
a write is acknowledged only after its batch committed, and a read sees every write queued
before it. WAL with ``synchronous=NORMAL`` survives a killed process (``kill -9``); only an
operating-system crash can lose the last batches.

Deletes of acknowledged messages are not operations of their own: they gather between
transactions and run as one statement at the start of the next, for every session (no
queued operation, future and callback per ack; in SQLite alone 15 us per deleted row
instead of 19-21, docs/benchmarks.md "Round 3").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.protocol.limits import MAX_ATTRS_PER_USER, MAX_INBOX_PER_USER
from sigphone.server.backends.base import InboxRecord
from sigphone.server.core.quotas import Quotas

__all__ = ["InboxRecord", "SqliteStore"]

T = TypeVar("T")

log = logging.getLogger("sigphone.server")

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    iid INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    account TEXT NOT NULL,
    sender TEXT NOT NULL,
    msg TEXT NOT NULL,
    ts REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox (app, account, iid);
CREATE INDEX IF NOT EXISTS inbox_by_sender ON inbox (app, sender, account);
CREATE TABLE IF NOT EXISTS user_attr (
    app TEXT NOT NULL,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (app, account, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sender_mark (
    app TEXT NOT NULL,
    account TEXT NOT NULL,
    client_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (app, account, client_id)
) WITHOUT ROWID;
"""


def _private(path: Path) -> None:
    """Messages are stored in clear: on POSIX the folder is 0700 and the files 0600 (the
    journal files SQLite makes later take the database file's mode). Windows relies on the
    folder's ACL: the default data folder, under %LOCALAPPDATA%, is the user's alone
    (docs/deployment.md)."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name != "posix":
        return
    os.chmod(folder, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chmod(file, 0o600)


Op = Callable[[sqlite3.Connection], Any]


class _Counts:
    """What the quotas count, read lazily from the tables and kept up to date by every
    insert and delete (on the store thread only; ``clear`` makes them read again)."""

    def __init__(self) -> None:
        self.inbox: dict[tuple[str, str], int] = {}  # (app, recipient)
        self.sender: dict[tuple[str, str], int] = {}  # (app, sender)
        self.pair: dict[tuple[str, str, str], int] = {}  # (app, recipient, sender)
        self.bytes: int | None = None

    def clear(self) -> None:
        self.inbox.clear()
        self.sender.clear()
        self.pair.clear()
        self.bytes = None

    def inbox_n(self, db: sqlite3.Connection, app: str, account: str) -> int:
        key = (app, account)
        n = self.inbox.get(key)
        if n is None:
            sql = "SELECT COUNT(*) FROM inbox WHERE app=? AND account=?"
            n = self.inbox[key] = db.execute(sql, key).fetchone()[0]
        return n

    def sender_n(self, db: sqlite3.Connection, app: str, sender: str) -> int:
        key = (app, sender)
        n = self.sender.get(key)
        if n is None:
            sql = "SELECT COUNT(*) FROM inbox WHERE app=? AND sender=?"
            n = self.sender[key] = db.execute(sql, key).fetchone()[0]
        return n

    def pair_n(self, db: sqlite3.Connection, app: str, account: str, sender: str) -> int:
        key = (app, account, sender)
        n = self.pair.get(key)
        if n is None:
            sql = "SELECT COUNT(*) FROM inbox WHERE app=? AND sender=? AND account=?"
            n = self.pair[key] = db.execute(sql, (app, sender, account)).fetchone()[0]
        return n

    def total_bytes(self, db: sqlite3.Connection) -> int:
        if self.bytes is None:
            sql = "SELECT COALESCE(SUM(length(CAST(msg AS BLOB))), 0) FROM inbox"
            self.bytes = int(db.execute(sql).fetchone()[0])
        return self.bytes

    def added(self, app: str, account: str, sender: str, size: int) -> None:
        self.inbox[(app, account)] = self.inbox.get((app, account), 0) + 1
        if (app, sender) in self.sender:
            self.sender[(app, sender)] += 1
        if (app, account, sender) in self.pair:
            self.pair[(app, account, sender)] += 1
        if self.bytes is not None:
            self.bytes += size

    def removed(self, app: str, account: str, rows: list[tuple[str, int]]) -> None:
        """``rows`` of (sender, size) just deleted from ``account``'s inbox."""
        for sender, size in rows:
            self.removed_one(app, account, sender, size)

    def removed_one(self, app: str, account: str, sender: str, size: int) -> None:
        """One message of ``sender`` (``size`` bytes) just deleted from ``account``'s inbox."""
        n = self.inbox.get((app, account))
        if n is not None:
            self.inbox[(app, account)] = max(0, n - 1)
        _decrement(self.sender, (app, sender))
        _decrement(self.pair, (app, account, sender))
        if self.bytes is not None:
            self.bytes = max(0, self.bytes - int(size or 0))


def _decrement(counts: dict[Any, int], key: Any) -> None:
    n = counts.get(key)
    if n is not None:
        if n <= 1:
            del counts[key]  # read again if needed: the dictionaries hold only live pairs
        else:
            counts[key] = n - 1


class SqliteStore:
    """The embedded store. ``path`` is a file, or ``":memory:"`` for a throwaway server."""

    def __init__(self, path: str | Path, quotas: Quotas | None = None) -> None:
        self._path = str(path)
        self.quotas = quotas or Quotas()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigphone-store")
        self._db: sqlite3.Connection | None = None
        self._queue: list[tuple[Op, asyncio.Future[Any]]] = []
        # Acknowledged inbox ids waiting for the next transaction, and the one future that
        # resolves once it committed (shared by every ``delete_messages`` call until then).
        self._deletes: list[int] = []
        self._deleted: asyncio.Future[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        # What the quotas count, kept on the store thread only.
        self._counts = _Counts()
        self._thread_id: int | None = None

    # --- Lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._open_sync)
        self._wakeup = asyncio.Event()
        self._flusher = asyncio.create_task(self._flush_loop(), name="sigphone-store-flusher")

    def _open_sync(self) -> None:
        self._thread_id = threading.get_ident()
        if self._path != ":memory:":
            _private(Path(self._path))
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._flusher is not None:
            # Let queued work finish first: nothing acknowledged is left behind.
            while self._queue or self._deletes:
                assert self._wakeup is not None
                self._wakeup.set()
                await asyncio.sleep(0)
                await asyncio.sleep(0.001)
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        loop = asyncio.get_running_loop()
        if self._db is not None:
            await loop.run_in_executor(self._executor, self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    # --- Batching --------------------------------------------------------------------

    def submit(self, op: Op) -> asyncio.Future[Any]:
        """Queue ``op`` (run on the store thread inside the next transaction)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((op, fut))
        assert self._wakeup is not None, "store not opened"
        self._wakeup.set()
        return fut

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._queue and not self._deletes:
                continue
            batch, self._queue = self._queue, []
            deletes, self._deletes = self._deletes, []
            deleted, self._deleted = self._deleted, None
            try:
                results = await loop.run_in_executor(
                    self._executor, self._run_batch, batch, deletes
                )
            except Exception as exc:  # the commit itself failed (disk full, I/O): all of it
                log.error("store transaction failed: %s", exc)
                failed = [fut for _, fut in batch]
                if deleted is not None:
                    failed.append(deleted)
                for fut in failed:
                    if not fut.done():
                        fut.set_exception(SignalError(ErrorCode.GENERAL_E_FAILED, "storage error"))
                continue
            if deleted is not None and not deleted.done():
                deleted.set_result(None)
            # Resolve in queue order: callbacks run in commit order (delivery order).
            for (_, fut), (ok, value) in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    def _run_batch(
        self, batch: list[tuple[Op, asyncio.Future[Any]]], deletes: list[int]
    ) -> list[tuple[bool, Any]]:
        """One transaction: the gathered deletes, then every operation in order.

        Each operation runs without a savepoint (two more statements per operation: 12.7 us
        per send in SQLite instead of 14.4-18.1): one that fails before it wrote anything (a quota
        refusal, the usual failure) is simply answered with its error. Only when a failed
        operation had written something is the transaction rolled back and the batch run
        again with a savepoint around each operation, so that only that one is undone.
        """
        db = self._db
        assert db is not None
        try:
            db.execute("BEGIN IMMEDIATE")
            self._delete_rows(db, deletes)
            results = self._run_ops(db, batch, savepoints=False)
            if results is None:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                self._counts.clear()
                db.execute("BEGIN IMMEDIATE")
                self._delete_rows(db, deletes)
                results = self._run_ops(db, batch, savepoints=True)
                assert results is not None
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._counts.clear()
            raise
        return results

    def _run_ops(
        self,
        db: sqlite3.Connection,
        batch: list[tuple[Op, asyncio.Future[Any]]],
        *,
        savepoints: bool,
    ) -> list[tuple[bool, Any]] | None:
        """Run the operations; None (without ``savepoints``) when one failed after writing."""
        results: list[tuple[bool, Any]] = []
        for op, _ in batch:
            if savepoints:
                db.execute("SAVEPOINT op")
            before = db.total_changes
            try:
                results.append((True, op(db)))
                if savepoints:
                    db.execute("RELEASE op")
            except Exception as exc:  # refused or failed: undo just this one
                if savepoints:
                    db.execute("ROLLBACK TO op")
                    db.execute("RELEASE op")
                elif db.total_changes != before or not db.in_transaction:
                    return None  # it had written: run the batch again with savepoints
                if not isinstance(exc, SignalError):
                    # Any failure of one operation fails only its own request; the
                    # cached counts may have moved before it failed, so recount.
                    self._forget_counts()
                    log.error("store operation failed (%s)", type(exc).__name__)
                    exc = SignalError(ErrorCode.GENERAL_E_FAILED, "storage error")
                results.append((False, exc))
        return results

    def _delete_rows(self, db: sqlite3.Connection, iids: list[int]) -> None:
        """Delete the acknowledged ``iids`` (of any users) in one statement, one prepared
        statement whatever their number (the ids go in as one JSON array)."""
        if not iids:
            return
        rows = db.execute(
            "DELETE FROM inbox WHERE iid IN (SELECT value FROM json_each(?))"
            " RETURNING app, account, sender, length(CAST(msg AS BLOB))",
            (json.dumps(iids),),
        ).fetchall()
        removed = self._counts.removed_one
        for app, account, sender, size in rows:
            removed(app, account, sender, size)

    def _forget_counts(self) -> None:
        """Drop the cached counts; they are read again from the tables when next needed."""
        self._counts.clear()

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
        """Store a message for ``account``; resolves to its inbox id after commit.

        Refused (400) when the recipient's inbox is full, the store's byte budget is used up,
        or (``quota``: a user's send, not the app's own server) the sender has used its share
        of the recipient's inbox or its undelivered-message quota.
        """

        def op(db: sqlite3.Connection) -> int:
            counts = self._counts
            size = len(msg.encode("utf-8"))
            if counts.inbox_n(db, app, account) >= MAX_INBOX_PER_USER:
                raise SignalError(
                    ErrorCode.SENDMESSAGE_E_OTHER, "the recipient's message queue is full"
                )
            quotas = self.quotas
            if quota:
                if counts.pair_n(db, app, account, sender) >= quotas.inbox_share_per_sender:
                    raise SignalError(
                        ErrorCode.SENDMESSAGE_E_OTHER,
                        f"quota: at most {quotas.inbox_share_per_sender} of your messages wait"
                        " for one recipient",
                    )
                if counts.sender_n(db, app, sender) >= quotas.undelivered_per_sender:
                    raise SignalError(
                        ErrorCode.SENDMESSAGE_E_OTHER,
                        f"quota: at most {quotas.undelivered_per_sender} of your messages wait"
                        " undelivered",
                    )
            if counts.total_bytes(db) + size > quotas.store_bytes:
                raise SignalError(ErrorCode.SENDMESSAGE_E_OTHER, "the message store is full")
            cur = db.execute(
                "INSERT INTO inbox (app, account, sender, msg, ts, expires)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (app, account, sender, msg, ts, expires),
            )
            if client_id and cseq:
                db.execute(
                    "INSERT OR REPLACE INTO sender_mark VALUES (?, ?, ?, ?, ?)",
                    (app, sender, client_id, cseq, ts),
                )
            counts.added(app, account, sender, size)
            return int(cur.lastrowid or 0)

        return self.submit(op)

    def load_inbox(
        self, app: str, account: str, *, now: float, delete_upto: int = 0
    ) -> asyncio.Future[list[InboxRecord]]:
        """All live messages for ``account`` in order, after dropping those <= delete_upto."""

        def op(db: sqlite3.Connection) -> list[InboxRecord]:
            if delete_upto:
                rows = db.execute(
                    "DELETE FROM inbox WHERE app=? AND account=? AND iid<=?"
                    " RETURNING sender, length(CAST(msg AS BLOB))",
                    (app, account, delete_upto),
                ).fetchall()
                self._counts.removed(app, account, rows)
            rows = db.execute(
                "SELECT iid, sender, msg, ts FROM inbox"
                " WHERE app=? AND account=? AND expires>? ORDER BY iid",
                (app, account, now),
            ).fetchall()
            return [InboxRecord(*row) for row in rows]

        return self.submit(op)

    def delete_messages(self, app: str, account: str, iids: list[int]) -> asyncio.Future[None]:
        """Forget delivered-and-acknowledged messages, in the next transaction.

        Inbox ids are unique across users and the hub passes only ids it pushed to
        ``account``, so the rows are found by id alone (one statement for every session's
        acks). Every call until that transaction returns the same future.
        """
        self._deletes.extend(iids)
        fut = self._deleted
        if fut is None:
            fut = self._deleted = asyncio.get_running_loop().create_future()
            assert self._wakeup is not None, "store not opened"
            self._wakeup.set()
        return fut

    def sender_mark(self, app: str, account: str, client_id: str) -> asyncio.Future[int]:
        """The highest send number already applied for this client (0 if none)."""

        def op(db: sqlite3.Connection) -> int:
            row = db.execute(
                "SELECT cseq FROM sender_mark WHERE app=? AND account=? AND client_id=?",
                (app, account, client_id),
            ).fetchone()
            return int(row[0]) if row else 0

        return self.submit(op)

    def purge_expired(self, now: float, mark_ttl: float) -> asyncio.Future[int]:
        """Drop expired messages and stale de-duplication marks; returns messages dropped."""

        def op(db: sqlite3.Connection) -> int:
            n = db.execute("DELETE FROM inbox WHERE expires<=?", (now,)).rowcount
            db.execute("DELETE FROM sender_mark WHERE updated<=?", (now - mark_ttl,))
            if n:
                self._counts.clear()
            return n

        return self.submit(op)

    # --- User attributes ---------------------------------------------------------------

    def set_user_attr(self, app: str, account: str, name: str, value: str) -> asyncio.Future[None]:
        """Set one attribute; an empty value deletes it."""

        def op(db: sqlite3.Connection) -> None:
            if not value:
                db.execute(
                    "DELETE FROM user_attr WHERE app=? AND account=? AND name=?",
                    (app, account, name),
                )
                return
            exists = db.execute(
                "SELECT 1 FROM user_attr WHERE app=? AND account=? AND name=?",
                (app, account, name),
            ).fetchone()
            if not exists:
                (n,) = db.execute(
                    "SELECT COUNT(*) FROM user_attr WHERE app=? AND account=?", (app, account)
                ).fetchone()
                if n >= MAX_ATTRS_PER_USER:
                    raise SignalError(
                        ErrorCode.GENERAL_E_LARGE_PARAM,
                        f"a user holds at most {MAX_ATTRS_PER_USER} attributes",
                    )
            db.execute(
                "INSERT OR REPLACE INTO user_attr VALUES (?, ?, ?, ?)", (app, account, name, value)
            )

        return self.submit(op)

    def get_user_attrs(self, app: str, account: str) -> asyncio.Future[dict[str, str]]:
        def op(db: sqlite3.Connection) -> dict[str, str]:
            rows = db.execute(
                "SELECT name, value FROM user_attr WHERE app=? AND account=? ORDER BY name",
                (app, account),
            )
            return dict(rows.fetchall())

        return self.submit(op)
