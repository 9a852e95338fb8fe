"""Approximate nearest-neighbour search for the SQLite store: a usearch HNSW graph keyed by chunk id.

`VectorIndex` (store/vectors.py) switches to it once the store holds `ann_threshold` vectors. The index keeps
the only in-memory copy of the vectors, as float16 (half the float32 matrix of exact search); the database
keeps the float32 originals. It is persisted next to the database and topped up from there on restart:

    <db>.usearch        the usearch file (graph and float16 vectors)
    <db>.usearch.json   sidecar: the `vec_seq` and `vec_deletions` of the database that the file covers,
                        and the index parameters (a file built with other ones is rebuilt, not loaded)

Both are written to a temporary file and moved into place with `os.replace` (the index first, then the
sidecar), under an advisory lock where the platform has one, so a crash mid-save leaves the previous pair.
A sidecar older than its index only makes the next load re-add vectors it already has, which `add` treats
as an update.

Parameters: cosine metric; float16, because int8 capped recall@10 near 0.95 even at expansion 256 on
100k e5-like vectors (the near neighbours of a news chunk differ by less than int8's quantisation error);
connectivity 16, expansion 128 when adding. Searching uses expansion 2048: on 1M vectors derived from real
e5 embeddings, searched with real e5 query embeddings on 2 cores (benchmarks/bench_backends.py
--real-vectors), recall@10 was 0.65 at 128, 0.84 at 512, 0.94 at 1024 and 0.96 at 2048, for a p95 of 16 ms
(exact search: 122 ms). Below 1M it costs less and recalls more. Building 1M vectors took 5.5 minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

DIM = 384
PARAMS = {"metric": "cos", "dtype": "f16", "connectivity": 16, "expansion_add": 128}
EXPANSION_SEARCH = 2048
FORMAT = 1

try:  # an advisory lock between processes saving or loading the same file (POSIX only)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


@contextlib.contextmanager
def _file_lock(path: Path, exclusive: bool):
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


class AnnIndex:
    """An HNSW index of unit vectors keyed by chunk id; scores are cosines. `seq` and `deletions` record the
    database state it covers (see the module docstring); its owner keeps them current."""

    def __init__(self, dim: int = DIM, expansion_search: int = EXPANSION_SEARCH, threads: int = 0) -> None:
        from usearch.index import Index

        self.dim, self.threads = dim, threads
        self._index = Index(ndim=dim, **PARAMS, expansion_search=expansion_search)
        self.seq = -1
        self.deletions = -1

    def __len__(self) -> int:
        return len(self._index)

    def keys(self) -> np.ndarray:
        return np.asarray(self._index.keys).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> int:
        """Add vectors (float32, one row per id); an id already present is replaced. Returns how many."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        present = np.asarray(self._index.contains(ids.astype(np.uint64)), dtype=bool).reshape(-1)
        if present.any():
            self._index.remove(ids[present].astype(np.uint64))
        self._index.add(ids.astype(np.uint64), np.ascontiguousarray(vectors, dtype=np.float32), threads=self.threads)
        return len(ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        return int(np.sum(self._index.remove(ids.astype(np.uint64))))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               max_fetch: int = 4096) -> list[tuple[int, float]] | None:
        """(chunk id, cosine) of the ~k nearest, best first. With `allowed` (a sorted array of chunk ids):
        over-fetch k*10, then 4× more each round, keeping allowed ids; None when `max_fetch` candidates still
        hold fewer than k allowed ones (the caller then searches the allowed rows exactly)."""
        size = len(self._index)
        if k <= 0 or not size:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if allowed is None:
            return self._matches(query, min(k, size))
        fetch = min(max(10 * k, 100), size)
        while True:
            found = self._matches(query, fetch)
            ids = np.fromiter((i for i, _ in found), dtype=np.int64, count=len(found))
            keep = np.isin(ids, allowed, assume_unique=True)
            if keep.sum() >= k or fetch >= size:
                return [found[i] for i in np.flatnonzero(keep)[:k]]
            if fetch >= max_fetch:
                return None
            fetch = min(fetch * 4, max_fetch, size)

    def _matches(self, query: np.ndarray, count: int) -> list[tuple[int, float]]:
        m = self._index.search(query, count, threads=1)
        return [(int(key), 1.0 - float(d)) for key, d in zip(m.keys, m.distances, strict=True)]

    # -- persistence ---------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write `path` and its sidecar atomically (temporary files, then `os.replace`, index first)."""
        path = Path(path)
        side = sidecar_path(path)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp_side = side.with_name(f"{side.name}.tmp-{os.getpid()}")
        meta = {"format": FORMAT, "dim": self.dim, **PARAMS, "vec_seq": int(self.seq),
                "vec_deletions": int(self.deletions), "count": len(self)}
        try:
            with _file_lock(path, exclusive=True):
                self._index.save(str(tmp))
                tmp_side.write_text(json.dumps(meta), encoding="utf-8")
                os.replace(tmp, path)
                os.replace(tmp_side, side)
        finally:
            for p in (tmp, tmp_side):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()

    @classmethod
    def load(cls, path: Path, dim: int = DIM, expansion_search: int = EXPANSION_SEARCH,
             threads: int = 0) -> AnnIndex | None:
        """The index saved at `path`, or None when there is none, it is unreadable or was built otherwise."""
        path = Path(path)
        side = sidecar_path(path)
        if not (path.is_file() and side.is_file()):
            return None
        try:
            with _file_lock(path, exclusive=False):
                meta = json.loads(side.read_text(encoding="utf-8"))
                wanted = {"format": FORMAT, "dim": dim, **PARAMS}
                if any(meta.get(key) != value for key, value in wanted.items()):
                    return None
                ann = cls(dim, expansion_search, threads)
                ann._index.load(str(path))
        except (OSError, ValueError, RuntimeError):
            return None
        ann.seq, ann.deletions = int(meta["vec_seq"]), int(meta["vec_deletions"])
        return ann
