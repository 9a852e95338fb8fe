"""The conversation log: off unless the owner turns it on, kept for a retention period, purged on demand.

Readers' questions are personal data. By default nothing of a question outlives its answer. With
`log_conversations` on, each answered question is kept (when, the question, the answer, whether it was
refused, the titles cited: never a header, key or address) in `conversations.db` beside the database, and
entries older than `conversation_retention_days` are deleted as new ones arrive. `communique purge --before
DATE` deletes entries older than a day at once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

_SCHEMA = """CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    refused INTEGER NOT NULL, cited TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_at ON conversations(at);"""
EXPIRE_EVERY = 100  # records between two deletions of expired entries


class ConversationLog:
    def __init__(self, path: Path, retention_days: int) -> None:
        self.path, self.retention_days = Path(path), retention_days
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._since_expiry = 0
        self.expire()

    def record(self, question: str, answer: str, refused: bool, cited: list[str]) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO conversations (at, question, answer, refused, cited) VALUES (?,?,?,?,?)",
                               (datetime.now(UTC).isoformat(timespec="seconds"), question, answer, int(refused),
                                json.dumps(cited, ensure_ascii=False)))
            self._since_expiry += 1
        if self._since_expiry >= EXPIRE_EVERY:
            self.expire()

    def expire(self) -> int:
        """Delete what is older than the retention period; returns how many entries went."""
        return self.purge((datetime.now(UTC) - timedelta(days=self.retention_days)).date())

    def purge(self, before: date) -> int:
        """Delete every entry from before `before`; returns how many went."""
        with self._lock:
            self._since_expiry = 0
            return self._conn.execute("DELETE FROM conversations WHERE at < ?", (before.isoformat(),)).rowcount

    def entries(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT at, question, answer, refused, cited FROM conversations ORDER BY id")
            return [{"at": a, "question": q, "answer": t, "refused": bool(r), "cited": json.loads(c)}
                    for a, q, t, r, c in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def log_path(db: Path) -> Path:
    return Path(db).parent / "conversations.db"
