"""The SQLite store's group commit: acknowledged rows deleted in one statement for every
session, and operations run without savepoints unless one failed after writing.

A real store on a file in tmp_path, reopened where a restart matters; the statements the
store runs are counted with SQLite's trace callback.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sigphone.protocol.errors import ErrorCode, SignalError
from sigphone.server.backends.embedded.sqlite_store import SqliteStore
from sigphone.server.core.quotas import Quotas

APP = "app"


async def opened(path: Path, quotas: Quotas | None = None) -> SqliteStore:
    store = SqliteStore(path, quotas)
    await store.open()
    return store


def append(store: SqliteStore, account: str, sender: str, msg: str) -> asyncio.Future[int]:
    return store.append_message(
        APP, account, sender, msg, ts=1.0, expires=1e12, client_id="", cseq=0
    )


def traced(store: SqliteStore) -> list[str]:
    """Every statement the store's connection runs from now on."""
    statements: list[str] = []
    assert store._db is not None
    store._db.set_trace_callback(statements.append)
    return statements


async def inbox(store: SqliteStore, account: str) -> list[str]:
    return [rec.msg for rec in await store.load_inbox(APP, account, now=0.0)]


async def test_acks_of_several_sessions_delete_exactly_their_rows_in_one_statement(
    tmp_path: Path,
):
    store = await opened(tmp_path / "s.sqlite3")
    iids: dict[str, list[int]] = {}
    for account in ("bob", "carol", "dave"):
        iids[account] = [await append(store, account, "alice", f"{account}{i}") for i in range(4)]
    statements = traced(store)
    # Three sessions acknowledge in the same loop turn: one future, one DELETE.
    futs = [
        store.delete_messages(APP, "bob", iids["bob"][:2]),
        store.delete_messages(APP, "carol", iids["carol"][3:]),
        store.delete_messages(APP, "dave", iids["dave"]),
    ]
    assert futs[0] is futs[1] is futs[2]
    await futs[0]
    deletes = [s for s in statements if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 1, statements
    assert await inbox(store, "bob") == ["bob2", "bob3"]
    assert await inbox(store, "carol") == ["carol0", "carol1", "carol2"]
    assert await inbox(store, "dave") == []
    await store.close()

    # Across a restart: the deletes were committed, the rest is still there.
    store = await opened(tmp_path / "s.sqlite3")
    assert await inbox(store, "bob") == ["bob2", "bob3"]
    assert await inbox(store, "carol") == ["carol0", "carol1", "carol2"]
    assert await inbox(store, "dave") == []
    await store.close()


async def test_batched_deletes_give_the_sender_its_quota_back(tmp_path: Path):
    """The quota counts follow the batched deletes (they are kept on the store thread)."""
    store = await opened(tmp_path / "q.sqlite3", Quotas(inbox_share_per_sender=3))
    iids = [await append(store, "bob", "alice", f"m{i}") for i in range(3)]
    with pytest.raises(SignalError) as refused:
        await append(store, "bob", "alice", "one too many")
    assert refused.value.code == ErrorCode.SENDMESSAGE_E_OTHER
    # The delete and the next send in the same transaction: the delete runs first.
    deleted = store.delete_messages(APP, "bob", iids[:2])
    again = [append(store, "bob", "alice", "n0"), append(store, "bob", "alice", "n1")]
    await deleted
    assert all(await asyncio.gather(*again))
    assert await inbox(store, "bob") == ["m2", "n0", "n1"]
    await store.close()


async def test_refusal_in_a_batch_fails_only_itself_without_savepoints(tmp_path: Path):
    store = await opened(tmp_path / "r.sqlite3", Quotas(inbox_share_per_sender=2))
    statements = traced(store)
    futs = [append(store, "bob", "alice", f"m{i}") for i in range(3)]
    futs.append(append(store, "bob", "carol", "c0"))
    results = await asyncio.gather(*futs, return_exceptions=True)
    assert isinstance(results[2], SignalError)
    assert all(isinstance(r, int) and r > 0 for i, r in enumerate(results) if i != 2)
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert await inbox(store, "bob") == ["m0", "m1", "c0"]
    await store.close()


async def test_an_operation_failing_after_it_wrote_is_undone_alone(tmp_path: Path):
    """The batch runs again with a savepoint per operation: the others still commit."""
    store = await opened(tmp_path / "w.sqlite3")

    def half_written(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO inbox (app, account, sender, msg, ts, expires)"
            " VALUES ('app', 'bob', 'mallory', 'half', 1, 1e12)"
        )
        raise RuntimeError("failed after writing")

    statements = traced(store)
    before = append(store, "bob", "alice", "before")
    broken = store.submit(half_written)
    after = append(store, "bob", "alice", "after")
    results = await asyncio.gather(before, broken, after, return_exceptions=True)
    assert isinstance(results[1], SignalError)
    assert results[1].code == ErrorCode.GENERAL_E_FAILED
    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert any("ROLLBACK TO" in s.upper() for s in statements)  # the second, careful run
    await store.close()
    store = await opened(tmp_path / "w.sqlite3")
    assert await inbox(store, "bob") == ["before", "after"]
    await store.close()


async def test_a_read_in_a_batch_sees_the_writes_queued_before_it_only(tmp_path: Path):
    """An inbox load queued between two sends (one transaction) sees the first only."""
    store = await opened(tmp_path / "o.sqlite3")
    first = append(store, "bob", "alice", "first")
    loaded = store.load_inbox(APP, "bob", now=0.0)
    second = append(store, "bob", "alice", "second")
    assert [rec.msg for rec in await loaded] == ["first"]
    assert await first < await second
    assert await inbox(store, "bob") == ["first", "second"]
    await store.close()
