"""A persistent cache of sentence annotations, keyed by a hash of the exact text and of what annotating it depends
on (its language, its publication day, the annotation format), kept in the vector cache's file.

spaCy is about a third of a cold ingest's CPU, and nearly all of a re-ingest into a new database once the vectors
come from the vector cache: a database rebuilt from the same articles should pay for neither.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import date
from pathlib import Path

from communique import nlp
from communique.embed.cache import open_cache_file

_SCHEMA = "CREATE TABLE IF NOT EXISTS annotations (key BLOB PRIMARY KEY, notes TEXT NOT NULL) WITHOUT ROWID"


def notes_key(text: str, language: str | None, published: date | None) -> bytes:
    parts = (str(nlp.VERSION), nlp.model_version(language), language or "", published.isoformat() if published
             else "", text)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).digest()[:20]


class NotesCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_cache_file(self.path, _SCHEMA)
        self.hits = self.misses = 0

    def annotate(self, text: str, language: str | None, published: date | None) -> str | None:
        """The text's annotations: from the cache, else made by spaCy and kept."""
        key = notes_key(text, language, published)
        with self._lock:
            row = self._conn.execute("SELECT notes FROM annotations WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.hits += 1
            return row[0]
        self.misses += 1
        notes = nlp.annotate(text, language, published)
        if notes is not None:
            with self._lock:
                self._conn.execute("INSERT OR REPLACE INTO annotations VALUES (?, ?)", (key, notes))
        return notes

    def close(self) -> None:
        with self._lock:
            self._conn.close()
