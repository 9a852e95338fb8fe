"""In-memory dense search over the vectors of the SQLite store.

Vectors live in the database (the source of truth); this index mirrors them as one contiguous
float32 matrix, loaded on first search and topped up incrementally: each `write_vectors` batch gets a
sequence number, so a refresh reads only the batches it has not seen. A deletion forces a full reload.
Exact search is a single matrix-vector product, fast to a few hundred thousand chunks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

DIM = 384


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores)
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


class VectorIndex:
    def __init__(
        self, connect: Callable[[], sqlite3.Connection], db_path: Path, ann_threshold: int = 200_000
    ) -> None:
        self._connect = connect
        self.db_path = db_path
        self.ann_threshold = ann_threshold
        self._lock = threading.Lock()
        self.ids = np.empty(0, dtype=np.int64)
        self.articles = np.empty(0, dtype=np.int64)
        self.matrix = np.empty((0, DIM), dtype=np.float32)
        self._seq = -1
        self._deletions = -1

    def __len__(self) -> int:
        return len(self.ids)

    def refresh(self) -> None:
        """Bring the mirror up to date with the database; cheap when nothing changed."""
        conn = self._connect()
        with self._lock:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta["vec_deletions"] != self._deletions:
                self._load(conn, after_seq=None)
            elif meta["vec_seq"] != self._seq:
                self._load(conn, after_seq=self._seq)
            self._seq, self._deletions = meta["vec_seq"], meta["vec_deletions"]

    def _load(self, conn: sqlite3.Connection, after_seq: int | None) -> None:
        sql = "SELECT id, article_rowid, vec FROM chunks WHERE vec IS NOT NULL"
        args: tuple = ()
        if after_seq is not None:
            sql += " AND vec_seq > ?"
            args = (after_seq,)
        rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        arts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), DIM)
        if after_seq is None:
            self.ids, self.articles, self.matrix = ids, arts, np.ascontiguousarray(mat)
        elif len(rows):
            # A re-embedded chunk appears again with a newer sequence: drop its old row first.
            keep = ~np.isin(self.ids, ids)
            self.ids = np.concatenate([self.ids[keep], ids])
            self.articles = np.concatenate([self.articles[keep], arts])
            self.matrix = np.ascontiguousarray(np.concatenate([self.matrix[keep], mat]))

    def search(self, query: np.ndarray, k: int, allowed_articles: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest chunks, optionally only within the given article rowids."""
        self.refresh()
        ids, matrix = self.ids, self.matrix
        if not len(ids):
            return []
        scores = matrix @ query.astype(np.float32)
        if allowed_articles is not None:
            mask = np.isin(self.articles, np.asarray(allowed_articles, dtype=np.int64))
            scores = np.where(mask, scores, -np.inf)
            k = min(k, int(mask.sum()))
        best = top_k(scores, k)
        return [(int(ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]
