"""Call history and contacts in one small SQLite file in the user data directory.

One row per finished call and one per contact, written in autocommit: a single-row insert
on a local file takes well under a millisecond, so it stays on the GUI thread rather than
paying a thread hop per call.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CallRecord", "UserStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    peer TEXT NOT NULL,
    kind TEXT NOT NULL,          -- outgoing, incoming, missed
    outcome TEXT NOT NULL,       -- answered, refused, no answer, failed: <reason>, ...
    started REAL NOT NULL,       -- Unix time
    duration REAL NOT NULL       -- seconds connected (0 if never)
);
CREATE TABLE IF NOT EXISTS contacts (
    owner TEXT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (owner, account)
);
"""


@dataclass(frozen=True)
class CallRecord:
    peer: str
    kind: str
    outcome: str
    started: float
    duration: float


class UserStore:
    """History and contacts, kept per logged-in account (``owner``) so two accounts used on
    one machine (or the demo's alice and bob) never see each other's rows."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # --- History -------------------------------------------------------------------------

    def add_call(
        self, owner: str, peer: str, kind: str, outcome: str, started: float, duration: float
    ) -> None:
        self._db.execute(
            "INSERT INTO history (owner, peer, kind, outcome, started, duration)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (owner, peer, kind, outcome, started, duration),
        )

    def calls(self, owner: str, limit: int = 500) -> list[CallRecord]:
        """Newest first."""
        rows = self._db.execute(
            "SELECT peer, kind, outcome, started, duration FROM history WHERE owner = ?"
            " ORDER BY started DESC, id DESC LIMIT ?",
            (owner, limit),
        )
        return [CallRecord(*row) for row in rows]

    def last_dialed(self, owner: str) -> str | None:
        row = self._db.execute(
            "SELECT peer FROM history WHERE owner = ? AND kind = 'outgoing'"
            " ORDER BY started DESC, id DESC LIMIT 1",
            (owner,),
        ).fetchone()
        return row[0] if row else None

    def missed_since(self, owner: str, since: float) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM history WHERE owner = ? AND kind = 'missed' AND started > ?",
            (owner, since),
        ).fetchone()
        return int(row[0])

    # --- Contacts ------------------------------------------------------------------------

    def add_contact(self, owner: str, account: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO contacts (owner, account) VALUES (?, ?)", (owner, account)
        )

    def remove_contact(self, owner: str, account: str) -> None:
        self._db.execute("DELETE FROM contacts WHERE owner = ? AND account = ?", (owner, account))

    def contacts(self, owner: str) -> list[str]:
        rows = self._db.execute(
            "SELECT account FROM contacts WHERE owner = ? ORDER BY account", (owner,)
        )
        return [row[0] for row in rows]
