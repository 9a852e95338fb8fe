"""The polling state of watched feeds, kept in the SQLite database beside the articles so a restart resumes.

Per feed: the validators of its last full fetch (ETag, Last-Modified), when it last succeeded, the last error,
how many polls in a row failed and when to poll it next; and the entries already ingested (key → version).
One poll's state is written in one transaction: a crash leaves the previous poll's state, never half of one.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from communique.errors import BackendUnavailable
from communique.store.schema import migrate

_COLS = "url, etag, last_modified, last_success_at, last_error, failures, next_poll_at"


@dataclass
class FeedState:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_success_at: float | None = None  # Unix seconds
    last_error: str | None = None
    failures: int = 0  # polls in a row that failed
    next_poll_at: float = 0.0  # Unix seconds; 0: due now


class FeedStates:
    """Reads and writes feed state through its own connection; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
            with self._lock:
                migrate(self._conn)
        except (OSError, sqlite3.Error) as exc:
            raise BackendUnavailable(f"cannot open the feed state in {self.path}: {exc}") from exc

    def load(self, url: str) -> FeedState:
        """The stored state of a feed, or a fresh one (due now) for a feed never polled."""
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLS} FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedState(*row) if row else FeedState(url)

    def seen(self, url: str) -> dict[str, str]:
        """The entries of a feed already ingested: key → version."""
        with self._lock:
            return dict(self._conn.execute("SELECT key, version FROM feed_entries WHERE feed_url = ?", (url,)))

    def save(self, state: FeedState, seen: dict[str, str] | None = None) -> None:
        """Write a feed's state and, when given, replace its seen entries by `seen`, in one transaction."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    f"INSERT INTO feeds ({_COLS}) VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET"
                    " etag = excluded.etag, last_modified = excluded.last_modified,"
                    " last_success_at = excluded.last_success_at, last_error = excluded.last_error,"
                    " failures = excluded.failures, next_poll_at = excluded.next_poll_at",
                    (state.url, state.etag, state.last_modified, state.last_success_at, state.last_error,
                     state.failures, state.next_poll_at),
                )
                if seen is not None:
                    conn.execute("DELETE FROM feed_entries WHERE feed_url = ?", (state.url,))
                    conn.executemany("INSERT INTO feed_entries (feed_url, key, version) VALUES (?,?,?)",
                                     [(state.url, k, v) for k, v in seen.items()])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
