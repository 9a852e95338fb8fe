"""A persistent cache of passage vectors, keyed by the model and a hash of the exact text embedded.

Embedding is what ingest waits for; the same text is often embedded again: an article re-ingested into a new
database, an edited article whose other chunks did not change, an index rebuilt. `CachedEmbedder` wraps any
embedder: it looks every passage up in a small SQLite file and embeds only the misses, in one call, then
stores them. Queries are not cached: each is embedded once, when asked. `put` fills it from elsewhere: vectors
imported from another machine (embed/transfer.py) make those texts cost nothing here.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from communique.embed import Embedder

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"
KEY_BYTES = 20


def open_cache_file(path: Path, schema: str) -> sqlite3.Connection:
    """A cache table in its own SQLite file (WAL, autocommit), shared by the threads of one process."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(schema)
    return conn


def model_id(embedder: Embedder) -> str:
    """What the cache keys an embedder's vectors by: its name (a remote one: the served model's)."""
    return getattr(embedder, "model_id", None) or getattr(embedder, "name", type(embedder).__name__)


def cache_key(model: str, text: str) -> bytes:
    """The model and the exact text: a vector is only ever reused for the same text by the same model."""
    return hashlib.sha256(f"{model}\0{text}".encode("utf-8", "surrogatepass")).digest()[:KEY_BYTES]


class CachedEmbedder:
    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.model_id = model_id(inner)
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_cache_file(self.path, _SCHEMA)
        self.hits = self.misses = 0

    @property
    def dim(self) -> int:
        """The inner embedder's, asked when needed: a remote one learns it from its first answer."""
        return self.inner.dim

    def _key(self, text: str) -> bytes:
        return cache_key(self.model_id, text)

    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Store vectors under ready-made keys (an import); a key already there is replaced."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                   [(bytes(k), v.tobytes()) for k, v in zip(keys, vectors, strict=True)])
            self._conn.execute("COMMIT")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.inner.embed_passages([])
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
            vectors = np.asarray(self.inner.embed_passages(missing), dtype=np.float32)
            fresh = [self._key(t) for t in missing]
            found.update(zip(fresh, vectors, strict=True))
            self.put(fresh, vectors)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([found[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def close(self) -> None:
        """Closes the cache file, and the inner embedder where it holds connections (a remote one)."""
        with self._lock:
            self._conn.close()
        if hasattr(self.inner, "close"):
            self.inner.close()
