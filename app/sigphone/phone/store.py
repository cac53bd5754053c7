"""Call history, contacts and chat conversations in one small SQLite file in the user data
directory.

One row per finished call, per contact and per chat message, written in autocommit: a
single-row insert on a local file takes well under a millisecond, so it stays on the GUI
thread rather than paying a thread hop per call.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CallRecord", "ChatLine", "UserStore"]

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
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    peer TEXT NOT NULL,
    mine INTEGER NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL,            -- Unix time
    msg_id TEXT NOT NULL,
    state TEXT NOT NULL,         -- sending, delivered, stored, failed, received
    unread INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_by_peer ON messages (owner, peer, id);
"""


@dataclass(frozen=True)
class CallRecord:
    peer: str
    kind: str
    outcome: str
    started: float
    duration: float
    id: int = 0


@dataclass
class ChatLine:
    """One chat bubble. ``state``: "sending"; "delivered" (the peer was online);
    "stored" (the peer is offline: the server keeps it until they log in); "failed";
    "received"."""

    peer: str
    mine: bool
    text: str
    at: float
    msg_id: str
    state: str
    unread: bool = False
    id: int = 0


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
            "SELECT peer, kind, outcome, started, duration, id FROM history WHERE owner = ?"
            " ORDER BY started DESC, id DESC LIMIT ?",
            (owner, limit),
        )
        return [CallRecord(*row) for row in rows]

    def delete_call(self, owner: str, record_id: int) -> None:
        self._db.execute("DELETE FROM history WHERE owner = ? AND id = ?", (owner, record_id))

    def clear_calls(self, owner: str) -> None:
        self._db.execute("DELETE FROM history WHERE owner = ?", (owner,))

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
            "SELECT account FROM contacts WHERE owner = ? ORDER BY account COLLATE NOCASE",
            (owner,),
        )
        return [row[0] for row in rows]

    # --- Chat ------------------------------------------------------------------------------

    def add_line(self, owner: str, line: ChatLine) -> None:
        cursor = self._db.execute(
            "INSERT INTO messages (owner, peer, mine, text, at, msg_id, state, unread)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (owner, line.peer, int(line.mine), line.text, line.at, line.msg_id, line.state,
             int(line.unread)),
        )  # fmt: skip
        line.id = int(cursor.lastrowid or 0)

    def set_state(self, owner: str, line: ChatLine) -> None:
        self._db.execute(
            "UPDATE messages SET state = ? WHERE owner = ? AND id = ?", (line.state, owner, line.id)
        )

    def lines(self, owner: str, limit_per_peer: int = 500) -> dict[str, list[ChatLine]]:
        """Every conversation of ``owner``: peer -> lines, oldest first."""
        rows = self._db.execute(
            "SELECT peer, mine, text, at, msg_id, state, unread, id FROM messages"
            " WHERE owner = ? ORDER BY id",
            (owner,),
        )
        chats: dict[str, list[ChatLine]] = {}
        for peer, mine, text, at, msg_id, state, unread, row_id in rows:
            chats.setdefault(peer, []).append(
                ChatLine(peer, bool(mine), text, at, msg_id, state, bool(unread), row_id)
            )
        return {peer: lines[-limit_per_peer:] for peer, lines in chats.items()}

    def mark_read(self, owner: str, peer: str) -> None:
        self._db.execute(
            "UPDATE messages SET unread = 0 WHERE owner = ? AND peer = ? AND unread = 1",
            (owner, peer),
        )
