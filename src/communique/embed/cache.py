"""A persistent cache of passage vectors, keyed by the model and a hash of the exact text embedded.

Embedding is what ingest waits for; the same text is often embedded again: an article re-ingested into a new
database, an edited article whose other chunks did not change, an index rebuilt. `CachedEmbedder` wraps any
embedder: it looks every passage up in a small SQLite file and embeds only the misses, in one call, then
stores them. Queries are not cached: each is embedded once, when asked.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from communique.embed import Embedder

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"


class CachedEmbedder:
    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.model_id = getattr(inner, "name", type(inner).__name__)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self.hits = self.misses = 0

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(f"{self.model_id}\0{text}".encode("utf-8", "surrogatepass")).digest()[:20]

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):  # SQLite's limit on bound parameters
                part = list(dict.fromkeys(keys[start:start + 500]))
                rows = self._conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                          part).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            vectors = self.inner.embed_passages(missing)
            fresh = [(self._key(t), np.asarray(v, dtype=np.float32)) for t, v in zip(missing, vectors, strict=True)]
            found.update(fresh)
            with self._lock:
                self._conn.execute("BEGIN")
                self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                       [(k, v.tobytes()) for k, v in fresh])
                self._conn.execute("COMMIT")
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([found[k] for k in keys]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
