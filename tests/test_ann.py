"""The SQLite store's ANN mode (store/ann.py behind store/vectors.py), with a low `ann_threshold`: agreement
with exact search, filters, deletions, switching modes, persistence of `<db>.usearch` and a crash mid-save.

Vectors are random but clustered by article (a chunk is near its article's centre), as embeddings of news
are; each test builds its own small store through `SQLiteStore.write` / `write_vectors`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from communique.models import Article, Chunk, Filters
from communique.store import ann as ann_module
from communique.store.ann import AnnIndex, sidecar_path
from communique.store.sqlite import SQLiteStore

DIM = 384
THRESHOLD = 500
PER_ARTICLE = 10


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Corpus:
    """Articles of PER_ARTICLE chunks, each with a vector near its article's centre."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.centres: dict[str, np.ndarray] = {}
        self.vectors: dict[int, np.ndarray] = {}  # chunk id -> vector, as stored
        self.article_of: dict[int, str] = {}
        self.n = 0

    def near(self, centre: np.ndarray, n: int) -> np.ndarray:
        return _unit(centre + 0.6 * _unit(self.rng.standard_normal((n, DIM))))

    def add(self, store: SQLiteStore, articles: int, embed: bool = True) -> list[int]:
        ids = []
        for _ in range(articles):
            aid = f"a{self.n}"
            self.n += 1
            text = " ".join(f"Sentence {i} of article {aid}." for i in range(PER_ARTICLE))
            chunks = [Chunk(aid, i, f"Sentence {i} of article {aid}.", 0, 1) for i in range(PER_ARTICLE)]
            store.write(Article(title=f"Article {aid}", text=text, id=aid, source=f"s{self.n % 7}"), chunks)
            self.centres[aid] = _unit(self.rng.standard_normal(DIM))
            cids = [c.id for c in store.chunks(aid)]
            vecs = self.near(self.centres[aid], len(cids))
            if embed:
                store.write_vectors(cids, vecs)
                for cid, v in zip(cids, vecs, strict=True):
                    self.vectors[cid], self.article_of[cid] = v, aid
            ids += cids
        return ids

    def delete(self, store: SQLiteStore, aid: str) -> None:
        assert store.delete(aid)
        for cid in [c for c, a in self.article_of.items() if a == aid]:
            del self.vectors[cid], self.article_of[cid]

    def exact(self, query: np.ndarray, k: int, articles: set[str] | None = None) -> list[int]:
        ids = [c for c in self.vectors if articles is None or self.article_of[c] in articles]
        scores = np.stack([self.vectors[c] for c in ids]) @ query
        return [ids[i] for i in np.argsort(-scores)[:k]]

    def queries(self, n: int, articles: list[str] | None = None) -> list[np.ndarray]:
        names = articles or list(self.centres)
        return [self.near(self.centres[names[self.rng.integers(len(names))]], 1)[0] for _ in range(n)]


def recall(store: SQLiteStore, corpus: Corpus, queries: list[np.ndarray], k: int = 10,
           articles: set[str] | None = None) -> float:
    allowed = None
    if articles is not None:
        conn = store._conn()
        allowed = [conn.execute("SELECT rowid FROM articles WHERE id = ?", (a,)).fetchone()[0] for a in articles]
    total = 0.0
    for q in queries:
        got = [cid for cid, _ in store.vectors.search(q, k, allowed)]
        if articles is not None:
            assert all(corpus.article_of[c] in articles for c in got)
        total += len(set(got) & set(corpus.exact(q, k, articles))) / k
    return total / len(queries)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Corpus]:
    """3,000 chunks in ANN mode, the index saved; tests copy the files before changing them."""
    path = tmp_path_factory.mktemp("ann") / "store.db"
    store, corpus = SQLiteStore(path, ann_threshold=THRESHOLD), Corpus()
    corpus.add(store, 300)
    store.vectors.refresh()
    assert store.vectors.ann_sync["built"] and len(store.vectors.ann) == 3000
    store.close()
    return path, corpus


def copy_store(built: tuple[Path, Corpus], tmp_path: Path) -> tuple[Path, Corpus]:
    src, corpus = built
    for p in src.parent.glob(src.name + "*"):
        if not p.name.endswith(".lock"):
            shutil.copy(p, tmp_path / p.name)
    fresh = Corpus(seed=1)
    fresh.centres, fresh.vectors, fresh.article_of, fresh.n = (
        dict(corpus.centres), dict(corpus.vectors), dict(corpus.article_of), corpus.n)
    return tmp_path / src.name, fresh


def test_ann_agrees_with_exact_search(built: tuple[Path, Corpus]) -> None:
    path, corpus = built
    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        queries = corpus.queries(60)
        assert recall(store, corpus, queries) >= 0.95
        index = store.vectors
        assert index.ann is not None and len(index.matrix) == 0  # no float32 mirror in ANN mode
        [(cid, score)] = index.search(corpus.vectors[next(iter(corpus.vectors))], 1)
        assert cid == next(iter(corpus.vectors)) and score == pytest.approx(1.0, abs=2e-3)
        # The store's own search goes through it too.
        hits = store.search_vector(queries[0], 10)
        assert [h.chunk_id for h in hits] == [c for c, _ in index.search(queries[0], 10)]
    finally:
        store.close()


def test_filters_are_respected(built: tuple[Path, Corpus]) -> None:
    path, corpus = built
    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        names = sorted(corpus.centres)
        wide = set(names[::3])  # a third of the store: over-fetch from the ANN index and filter
        assert recall(store, corpus, corpus.queries(30, sorted(wide)), articles=wide) >= 0.95
        assert recall(store, corpus, corpus.queries(10), articles=wide) >= 0.9  # queries far from the filter
        narrow = set(names[:3])  # 1% of the store: exact search over those rows
        assert recall(store, corpus, corpus.queries(10), articles=narrow) == 1.0
        # Through the store's filters, as hybrid search calls it.
        hits = store.search_vector(corpus.queries(1)[0], 10, Filters(article_ids=sorted(narrow)))
        assert len(hits) == 10 and {h.article_id for h in hits} <= narrow
    finally:
        store.close()


def test_changes_through_another_connection(built: tuple[Path, Corpus], tmp_path: Path) -> None:
    path, corpus = copy_store(built, tmp_path)
    reader, writer = SQLiteStore(path, ann_threshold=THRESHOLD), SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        reader.vectors.refresh()
        assert reader.vectors.ann_sync == {"loaded": True, "built": False, "added": 0, "removed": 0}
        # Added: picked up incrementally, by id.
        new = corpus.add(writer, 5)
        q = corpus.queries(1, [f"a{corpus.n - 1}"])[0]
        assert set(c for c, _ in reader.vectors.search(q, 10)) == set(new[-10:])
        assert len(reader.vectors.ann) == len(reader.vectors) == 3050
        # Re-embedded: replaced, not duplicated.
        writer.write_vectors(new[:1], q[None, :])
        assert reader.vectors.search(q, 1)[0][0] == new[0]
        assert len(reader.vectors.ann) == 3050
        # Deleted: removed from the ANN index by key, never returned again.
        victim = "a0"
        gone = {c for c, a in corpus.article_of.items() if a == victim}
        corpus.delete(writer, victim)
        q = corpus.queries(1, [victim])[0]
        found = [c for c, _ in reader.vectors.search(q, 20)]
        assert len(found) == 20 and not gone & set(found)
        assert len(reader.vectors.ann) == len(reader.vectors) == 3040
        assert reader.vectors.ann is not None  # still above the threshold
        # Chunks moved out by the Milvus backend (zero-length vectors) are skipped, not loaded.
        with writer._transaction() as conn:
            conn.execute("UPDATE chunks SET vec = x'', vec_seq = NULL WHERE id IN (SELECT id FROM chunks LIMIT 3)")
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'vec_deletions'")
        reader.vectors.search(q, 5)
        assert len(reader.vectors.ann) == 3037
    finally:
        reader.close()
        writer.close()


def test_threshold_is_crossed_both_ways(tmp_path: Path) -> None:
    store, corpus = SQLiteStore(tmp_path / "s.db", ann_threshold=THRESHOLD), Corpus()
    try:
        corpus.add(store, 45)
        store.vectors.refresh()
        assert store.vectors.ann is None and len(store.vectors.matrix) == 450  # exact below the threshold
        corpus.add(store, 10)
        q = corpus.queries(1)[0]
        assert [c for c, _ in store.vectors.search(q, 10)] == corpus.exact(q, 10)
        assert store.vectors.ann is not None and len(store.vectors.ann) == 550
        assert store.vectors.ann_sync["built"] and (tmp_path / "s.db.usearch").is_file()
        for name in ("a0", "a1", "a2", "a3", "a4", "a5"):
            corpus.delete(store, name)
        assert [c for c, _ in store.vectors.search(q, 10)] == corpus.exact(q, 10)
        assert store.vectors.ann is None and len(store.vectors.matrix) == 490  # back to exact
    finally:
        store.close()


class StubEmbedder:
    """Named fake: vectors from the test corpus's article centres, so that `embed_pending` runs without the model
    (the model itself is exercised by the ingest tests)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.corpus.near(self.corpus.centres[t.split("article ")[1].rstrip(".")], 1)[0]
                         for t in texts])


def test_embedding_past_the_threshold_builds_and_saves_the_index(tmp_path: Path) -> None:
    from communique.ingest import embed_pending

    store, corpus = SQLiteStore(tmp_path / "s.db", ann_threshold=THRESHOLD), Corpus()
    try:
        corpus.add(store, 60, embed=False)
        assert not (tmp_path / "s.db.usearch").exists()
        assert embed_pending(store, StubEmbedder(corpus), batch=128) == 600
        # No search has run: the ingest itself built the index and wrote it next to the database.
        assert store.vectors.ann is not None and len(store.vectors.ann) == 600
        loaded = AnnIndex.load(tmp_path / "s.db.usearch")
        assert loaded is not None and len(loaded) == 600
    finally:
        store.close()


def test_reopen_loads_the_index_and_adds_only_newer_vectors(built: tuple[Path, Corpus], tmp_path: Path) -> None:
    path, corpus = copy_store(built, tmp_path)
    saved = json.loads(sidecar_path(Path(str(path) + ".usearch")).read_text())
    assert saved["count"] == 3000 and saved["dtype"] == "f16"
    # While no process has the index open: 20 chunks added, one article (10 chunks) deleted.
    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    new = corpus.add(store, 2)
    corpus.delete(store, "a7")
    store.close()

    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        store.vectors.refresh()
        assert store.vectors.ann_sync == {"loaded": True, "built": False, "added": 20, "removed": 10}
        assert len(store.vectors.ann) == 3010
        q = corpus.queries(1, [f"a{corpus.n - 1}"])[0]
        found = {c for c, _ in store.vectors.search(q, 10)}
        assert len(found & set(new[-10:])) >= 8  # approximate search: the newest chunks are found
        assert recall(store, corpus, corpus.queries(20)) >= 0.95
    finally:
        store.close()
    # Saved after the catch-up: the next open has nothing to do.
    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        store.vectors.refresh()
        assert store.vectors.ann_sync == {"loaded": True, "built": False, "added": 0, "removed": 0}
    finally:
        store.close()


def test_a_crash_while_saving_keeps_the_previous_index(built: tuple[Path, Corpus], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, corpus = copy_store(built, tmp_path)
    target = Path(str(path) + ".usearch")
    before = target.read_bytes(), sidecar_path(target).read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        store.vectors.refresh()
        monkeypatch.setattr(ann_module.os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            store.vectors.save(force=True)
    finally:
        store.close()
    monkeypatch.undo()
    assert (target.read_bytes(), sidecar_path(target).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp-" in p.name) == []
    loaded = AnnIndex.load(target)
    assert loaded is not None and len(loaded) == 3000

    # A torn or foreign file is not trusted: the index is rebuilt from the database.
    target.write_bytes(before[0][: len(before[0]) // 3])
    assert AnnIndex.load(target) is None
    store = SQLiteStore(path, ann_threshold=THRESHOLD)
    try:
        assert recall(store, corpus, corpus.queries(10)) >= 0.95
        assert store.vectors.ann_sync["built"] and store.vectors.ann_sync["added"] == 3000
    finally:
        store.close()
    assert AnnIndex.load(target) is not None


def test_an_index_of_other_parameters_is_rebuilt(built: tuple[Path, Corpus], tmp_path: Path) -> None:
    path, _ = copy_store(built, tmp_path)
    side = sidecar_path(Path(str(path) + ".usearch"))
    side.write_text(json.dumps({**json.loads(side.read_text()), "dtype": "i8"}))
    assert AnnIndex.load(Path(str(path) + ".usearch")) is None
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM chunks WHERE length(vec) > 0").fetchone()[0] == 3000
