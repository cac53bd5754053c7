"""What the embedded store's statements cost in SQLite alone (docs/benchmarks.md, Round 3).

``python -m bench.store_sql``: CPU time per deleted row, one DELETE per acknowledged row
(the store before Round 3) against one statement for 50 rows, and per send (insert and send
mark) with and without a savepoint around each. The store's own schema, WAL with
``synchronous=NORMAL``, 50 rows per transaction, files in a temporary folder.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from sigphone.server.backends.embedded.sqlite_store import SCHEMA

BATCH = 50
ACCOUNTS = 500
MSG = "x" * 125
INSERT = "INSERT INTO inbox (app, account, sender, msg, ts, expires) VALUES (?, ?, ?, ?, ?, ?)"


def _db(folder: Path, name: str) -> sqlite3.Connection:
    db = sqlite3.connect(folder / name, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


def deletes(folder: Path, *, batched: bool, n: int = 30_000) -> float:
    """Microseconds of CPU per deleted row."""
    db = _db(folder, f"del-{batched}.sqlite3")
    rows: list[tuple[int, str]] = []
    db.execute("BEGIN")
    for k in range(n):
        account = f"v{k % ACCOUNTS}"
        cur = db.execute(INSERT, ("bench", account, f"u{k % ACCOUNTS}", MSG, 1.0, 2.0))
        rows.append((int(cur.lastrowid or 0), account))
    db.execute("COMMIT")
    t0 = time.process_time()
    for start in range(0, n, BATCH):
        chunk = rows[start : start + BATCH]
        db.execute("BEGIN IMMEDIATE")
        if batched:
            db.execute(
                "DELETE FROM inbox WHERE iid IN (SELECT value FROM json_each(?))"
                " RETURNING app, account, sender, length(CAST(msg AS BLOB))",
                (json.dumps([iid for iid, _ in chunk]),),
            ).fetchall()
        else:
            for iid, account in chunk:
                db.execute(
                    "DELETE FROM inbox WHERE app=? AND account=? AND iid IN (?)"
                    " RETURNING sender, length(CAST(msg AS BLOB))",
                    ("bench", account, iid),
                ).fetchall()
        db.execute("COMMIT")
    return (time.process_time() - t0) / n * 1e6


def sends(folder: Path, *, savepoints: bool, n: int = 20_000) -> float:
    """Microseconds of CPU per send (inbox row and send mark)."""
    db = _db(folder, f"send-{savepoints}.sqlite3")
    t0 = time.process_time()
    for start in range(0, n, BATCH):
        db.execute("BEGIN IMMEDIATE")
        for k in range(start, start + BATCH):
            sender = f"u{k % ACCOUNTS}"
            if savepoints:
                db.execute("SAVEPOINT op")
            db.execute(INSERT, ("bench", f"v{k % ACCOUNTS}", sender, MSG, 1.0, 2.0))
            db.execute(
                "INSERT OR REPLACE INTO sender_mark VALUES (?, ?, ?, ?, ?)",
                ("bench", sender, "client", k, 1.0),
            )
            if savepoints:
                db.execute("RELEASE op")
        db.execute("COMMIT")
    return (time.process_time() - t0) / n * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rep in range(2):  # interleaved, twice: the machine may be shared
            print(f"repetition {rep + 1}")
            print(f"  delete, one statement per row:   {deletes(folder, batched=False):6.1f} us")
            print(f"  delete, one statement for {BATCH}:   {deletes(folder, batched=True):6.1f} us")
            print(f"  send, savepoint around each:     {sends(folder, savepoints=True):6.1f} us")
            print(f"  send, no savepoint:              {sends(folder, savepoints=False):6.1f} us")
            for file in folder.iterdir():
                file.unlink()


if __name__ == "__main__":
    main()
