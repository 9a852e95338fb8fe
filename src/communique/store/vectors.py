"""In-memory dense search over the vectors of the SQLite store: exact below `ann_threshold`, ANN above.

Vectors live in the database (the source of truth); this index mirrors them, loaded on first search and
topped up incrementally: each `write_vectors` batch gets a sequence number, so a refresh reads only the
batches it has not seen. Zero-length vectors (chunks the Milvus backend moved out) are skipped.

Below `ann_threshold` vectors the mirror is one contiguous float32 matrix and search is exact, a single
matrix-vector product, fast to a few hundred thousand chunks; a deletion forces a full reload. From
`ann_threshold` on, the vectors live only in a usearch HNSW index as float16 (store/ann.py), persisted as
`<db>.usearch`: a restart loads it and adds only the newer vectors, a deletion removes its chunks by id.
Filters (allowed article rowids) over-fetch from the ANN index and filter; when the allowed chunks are few
(under `exact_fraction` of the store) or over-fetching finds too few, those rows are searched exactly with
their float32 vectors read from the database.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from communique.store.ann import AnnIndex

DIM = 384
_HAS_VEC = "vec IS NOT NULL AND length(vec) > 0"
_BATCH = 50_000  # rows read from the database at a time when building or topping up the ANN index


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores)
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


def _rows_to_arrays(rows: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    arts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    mat = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), DIM)
    return ids, arts, mat


def _vectors_after(after_seq: int | None) -> tuple[str, tuple]:
    """SQL and arguments for the chunks with a vector written after batch `after_seq` (all: None), by id."""
    if after_seq is None:
        return f"SELECT id, article_rowid, vec FROM chunks WHERE {_HAS_VEC} ORDER BY id", ()
    return f"SELECT id, article_rowid, vec FROM chunks WHERE {_HAS_VEC} AND vec_seq > ? ORDER BY id", (after_seq,)


class VectorIndex:
    def __init__(
        self, connect: Callable[[], sqlite3.Connection], db_path: Path, ann_threshold: int = 200_000,
        exact_fraction: float = 0.05,
    ) -> None:
        self._connect = connect
        self.db_path = Path(db_path)
        self.ann_threshold = ann_threshold
        self.exact_fraction = exact_fraction
        self.ann_path = self.db_path.with_name(self.db_path.name + ".usearch")
        self._lock = threading.Lock()
        self.ids = np.empty(0, dtype=np.int64)
        self.articles = np.empty(0, dtype=np.int64)
        self.matrix = np.empty((0, DIM), dtype=np.float32)  # exact mode only; empty while `ann` is in use
        self._rows = self.matrix  # `matrix` is a view of its first rows; the rest is spare capacity
        self.ann: AnnIndex | None = None
        self._seq = -1
        self._deletions = -1
        self._unsaved = 0  # ANN changes since the last save
        # What opening the ANN index did last: loaded from disk or built, vectors added and removed.
        self.ann_sync = {"loaded": False, "built": False, "added": 0, "removed": 0}

    def __len__(self) -> int:
        return len(self.ids)

    def refresh(self) -> None:
        """Bring the mirror up to date with the database; cheap when nothing changed."""
        conn = self._connect()
        with self._lock:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            seq, deletions = meta["vec_seq"], meta["vec_deletions"]
            if (seq, deletions) == (self._seq, self._deletions):
                return
            if self.ann is not None:
                self._update_ann(conn, seq, deletions)
            elif self._seq == -1 or deletions != self._deletions:
                count = conn.execute(f"SELECT count(*) FROM chunks WHERE {_HAS_VEC}").fetchone()[0]
                if count >= self.ann_threshold:
                    self._open_ann(conn, seq, deletions)
                else:
                    self._load(conn, after_seq=None)
            else:
                self._load(conn, after_seq=self._seq)
                if len(self.ids) >= self.ann_threshold:
                    self._open_ann(conn, seq, deletions)
            self._seq, self._deletions = seq, deletions

    # -- exact mode ----------------------------------------------------------------------------------------
    def _load(self, conn: sqlite3.Connection, after_seq: int | None) -> None:
        ids, arts, mat = _rows_to_arrays(conn.execute(*_vectors_after(after_seq)).fetchall())
        if after_seq is None:
            self.ids, self.articles, self.matrix = ids, arts, np.ascontiguousarray(mat)
            self._rows = self.matrix
        elif len(ids):
            self._append(ids, arts, mat)

    def _append(self, ids: np.ndarray, arts: np.ndarray, mat: np.ndarray) -> None:
        """Add rows in place, into spare capacity that doubles when full: a server embedding in the background
        tops the mirror up before every search, and copying the whole matrix each time cost more than the
        search. A search in flight keeps its own view; rows past it are not in that view."""
        keep = ~np.isin(self.ids, ids)
        if not keep.all():  # a re-embedded chunk appears again with a newer sequence: drop its old row first
            self.ids, self.articles = self.ids[keep], self.articles[keep]
            self._rows = np.ascontiguousarray(self.matrix[keep])
        n, need = len(self.ids), len(self.ids) + len(ids)
        if len(self._rows) < need:
            grown = np.empty((max(need, 2 * len(self._rows), 1024), DIM), dtype=np.float32)
            grown[:n] = self._rows[:n]
            self._rows = grown
        self._rows[n:need] = mat
        self.ids = np.concatenate([self.ids, ids])
        self.articles = np.concatenate([self.articles, arts])
        self.matrix = self._rows[:need]

    # -- ANN mode ------------------------------------------------------------------------------------------
    @staticmethod
    def _batches(conn: sqlite3.Connection, after_seq: int | None) -> Iterator[tuple[np.ndarray, ...]]:
        """(ids, article rowids, float32 vectors) of the chunks with a vector newer than `after_seq` (all: None),
        in batches."""
        cur = conn.execute(*_vectors_after(after_seq))
        while rows := cur.fetchmany(_BATCH):
            yield _rows_to_arrays(rows)

    def _listing(self, conn: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and article rowids of every chunk with a vector (the vectors themselves are not read)."""
        rows = conn.execute(f"SELECT id, article_rowid FROM chunks WHERE {_HAS_VEC} ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return ids, np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))

    def _open_ann(self, conn: sqlite3.Connection, seq: int, deletions: int) -> None:
        """Switch to ANN mode: load `<db>.usearch` and bring it up to date, or build it; then save it."""
        ann = AnnIndex.load(self.ann_path)
        sync = {"loaded": ann is not None, "built": ann is None, "added": 0, "removed": 0}
        ids, arts = self._listing(conn)
        if ann is None:
            ann = AnnIndex()
            if len(self.ids):  # crossing the threshold in this process: the float32 rows are at hand
                sync["added"] += ann.add(self.ids, self.matrix)
                after = seq
            else:
                after = None
        else:
            stale = np.setdiff1d(ann.keys(), ids, assume_unique=True)
            sync["removed"] = ann.remove(stale)
            after = ann.seq
        self.matrix = self._rows = np.empty((0, DIM), dtype=np.float32)
        for batch_ids, _, vecs in self._batches(conn, after):
            sync["added"] += ann.add(batch_ids, vecs)
        if len(ann) != len(ids):  # a file that does not match its sidecar: add what is missing
            missing = np.setdiff1d(ids, ann.keys(), assume_unique=True)
            sync["added"] += self._add_rows(conn, ann, missing)
        self.ids, self.articles, self.ann, self.ann_sync = ids, arts, ann, sync
        ann.seq, ann.deletions = seq, deletions
        self._unsaved = sync["added"] + sync["removed"]
        if self._unsaved:
            self.save()

    def _add_rows(self, conn: sqlite3.Connection, ann: AnnIndex, ids: np.ndarray) -> int:
        added = 0
        for i in range(0, len(ids), _BATCH):
            part, _, mat = self._read(conn, ids[i:i + _BATCH])
            added += ann.add(part, mat)
        return added

    @staticmethod
    def _read(conn: sqlite3.Connection, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, article rowids, float32 vectors) of these chunks, from the database."""
        rows = conn.execute(
            f"SELECT id, article_rowid, vec FROM chunks WHERE id IN (SELECT value FROM json_each(?)) AND {_HAS_VEC}",
            (json.dumps([int(i) for i in ids]),),
        ).fetchall()
        return _rows_to_arrays(rows)

    def _update_ann(self, conn: sqlite3.Connection, seq: int, deletions: int) -> None:
        ann = self.ann
        assert ann is not None
        if deletions != self._deletions:
            ids, arts = self._listing(conn)
            if len(ids) < self.ann_threshold:  # back below the threshold: exact search again
                self.ann, self._unsaved = None, 0
                self._load(conn, after_seq=None)
                return
            self._unsaved += ann.remove(np.setdiff1d(self.ids, ids, assume_unique=True))
            for batch_ids, _, vecs in self._batches(conn, self._seq):
                self._unsaved += ann.add(batch_ids, vecs)
            self.ids, self.articles = ids, arts
        else:
            for batch_ids, arts, vecs in self._batches(conn, self._seq):
                self._unsaved += ann.add(batch_ids, vecs)
                keep = ~np.isin(self.ids, batch_ids)  # a re-embedded chunk: its old row goes
                self.ids = np.concatenate([self.ids[keep], batch_ids])
                self.articles = np.concatenate([self.articles[keep], arts])
        ann.seq, ann.deletions = seq, deletions
        if self._unsaved >= max(10_000, len(self.ids) // 20):
            self.save()

    def save(self, force: bool = False) -> None:
        """Persist the ANN index if it changed since its last save, or `force`d (it is also saved after a build
        and every ~5% of changes)."""
        if self.ann is not None and (self._unsaved or force):
            self.ann.save(self.ann_path)
            self._unsaved = 0

    # -- search --------------------------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed_articles: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest chunks, optionally only within the given article rowids."""
        self.refresh()
        with self._lock:  # one consistent snapshot: another thread's refresh may be replacing these
            ann, ids, articles, matrix = self.ann, self.ids, self.articles, self.matrix
        if not len(ids):
            return []
        query = np.asarray(query, dtype=np.float32)
        if ann is not None:
            return self._search_ann(ann, query, k, ids, articles, allowed_articles)
        if allowed_articles is None:
            scores = matrix @ query
            return [(int(ids[i]), float(scores[i])) for i in top_k(scores, k)]
        rows = np.flatnonzero(np.isin(articles, np.asarray(allowed_articles, dtype=np.int64)))
        if len(rows) > len(ids) // 3:  # most rows allowed: one product over the whole matrix is cheaper
            scores = (matrix @ query)[rows]
        else:  # few rows: score only those
            scores = matrix[rows] @ query
        return [(int(ids[rows[i]]), float(scores[i])) for i in top_k(scores, k)]

    def _search_ann(self, ann: AnnIndex, query: np.ndarray, k: int, ids: np.ndarray, articles: np.ndarray,
                    allowed_articles: list[int] | None) -> list[tuple[int, float]]:
        if allowed_articles is None:
            return ann.search(query, k) or []
        allowed = np.sort(ids[np.isin(articles, np.asarray(allowed_articles, dtype=np.int64))])
        if not len(allowed):
            return []
        found = None
        if len(allowed) >= self.exact_fraction * len(ids):
            found = ann.search(query, k, allowed)
        if found is None:
            found = self._exact_rows(query, k, allowed)
        return found

    def _exact_rows(self, query: np.ndarray, k: int, chunk_ids: np.ndarray) -> list[tuple[int, float]]:
        """Exact search over a few chunks, with their float32 vectors read from the database."""
        conn = self._connect()
        best: list[tuple[int, float]] = []
        for i in range(0, len(chunk_ids), _BATCH):
            part, _, mat = self._read(conn, chunk_ids[i:i + _BATCH])
            scores = mat @ query
            best += [(int(part[j]), float(scores[j])) for j in top_k(scores, k)]
        return sorted(best, key=lambda p: -p[1])[:k]
