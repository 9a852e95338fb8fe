"""The SQLite store beyond the shared contract (which test_store_contract.py runs on SQLite and Milvus):
FTS rows, migrations, the in-memory vector mirror kept in step with other connections, and resumable
embedding through the service."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from builders import SHORT_STORIES, digest
from communique.errors import BadInput
from communique.models import Article, Chunk, Filters
from communique.store.schema import MIGRATIONS
from communique.store.sqlite import SQLiteStore
from store_contract import ALL, GENEVA, NAIROBI, UNDATED, embed_all, put, unit


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def fts_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]


def chunk_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM chunks").fetchone()[0]


def test_schema_is_migrated_once(db_path: Path) -> None:
    SQLiteStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store = SQLiteStore(db_path)  # opening again must not re-run (and fail on) the migrations
    assert store.stats().articles == 0
    store.close()


def test_a_version_1_database_is_migrated_with_its_data(db_path: Path) -> None:
    """Version 2 rebuilt the FTS index with each chunk's article: a v1 file keeps its rows and filters work."""
    with sqlite3.connect(db_path) as conn:
        conn.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
        conn.execute("INSERT INTO articles (rowid, id, title, text, published, published_day, content_hash)"
                     " VALUES (7, 'old', 'Lumaro harbour', 'The Lumaro harbour reopened.', '2026-11-02', ?, 'h')",
                     (date(2026, 11, 2).toordinal(),))
        conn.execute("INSERT INTO chunks (id, article_rowid, seq, text, start, end)"
                     " VALUES (3, 7, 0, 'The Lumaro harbour reopened.', 0, 28)")
        conn.execute("INSERT INTO chunks_fts (rowid, title, text)"
                     " VALUES (3, 'Lumaro harbour', 'The Lumaro harbour reopened.')")
    store = SQLiteStore(db_path)
    try:
        assert [h.article_id for h in store.search_text("Lumaro harbour", 5)] == ["old"]
        assert [h.article_id for h in store.search_text("Lumaro", 5, Filters(since=date(2026, 11, 1)))] == ["old"]
        assert store.search_text("Lumaro", 5, Filters(since=date(2026, 11, 3))) == []
    finally:
        store.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT article_rowid FROM chunks_fts WHERE rowid = 3").fetchone()[0] == 7


def test_data_survives_reopening(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    aid = put(store, GENEVA).article_id
    embed_all(store)
    store.close()
    again = SQLiteStore(db_path)
    assert again.get(aid).text == GENEVA.text
    assert again.stats().embedded == again.stats().chunks > 0
    assert again.search_vector(unit(0), 1)[0].article_id == aid
    again.close()


def test_write_needs_an_id(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    with pytest.raises(BadInput):
        store.write(Article(title="t", text="x"), [Chunk("", 0, "x", 0, 1)])
    assert store.stats().articles == 0
    store.close()


def test_update_and_delete_leave_no_orphan_index_rows(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    ids = [put(store, a).article_id for a in ALL]
    embed_all(store)
    assert fts_rows(db_path) == chunk_rows(db_path) == store.stats().chunks
    long = dataclasses.replace(GENEVA, text="\n\n".join([GENEVA.text] * 10))
    assert put(store, long, chunk_tokens=60).outcome == "updated"
    assert fts_rows(db_path) == chunk_rows(db_path) == store.stats().chunks
    short = dataclasses.replace(GENEVA, text="Envoys met.")
    assert put(store, short).outcome == "updated"
    assert fts_rows(db_path) == chunk_rows(db_path) == store.stats().chunks
    store.delete(ids[1])
    assert fts_rows(db_path) == chunk_rows(db_path) == store.stats().chunks == len(store.chunks(ids[0])) + len(
        store.chunks(ids[2]))
    store.close()


# -- the in-memory vector mirror ---------------------------------------------------------------------------
def test_vector_index_follows_another_connection(db_path: Path) -> None:
    reader, writer = SQLiteStore(db_path), SQLiteStore(db_path)
    try:
        g = put(writer, GENEVA).article_id
        gc = [c.id for c in writer.chunks(g)]
        writer.write_vectors(gc, np.stack([unit(1)] * len(gc)))
        assert [h.article_id for h in reader.search_vector(unit(1), 1)] == [g]
        size = len(reader.vectors)

        # Added through the other instance: picked up incrementally.
        n = put(writer, NAIROBI).article_id
        nc = [c.id for c in writer.chunks(n)]
        writer.write_vectors(nc, np.stack([unit(2)] * len(nc)))
        assert [h.article_id for h in reader.search_vector(unit(2), 1)] == [n]
        assert len(reader.vectors) == size + len(nc)

        # Re-embedded through the other instance: replaced, not duplicated.
        writer.write_vectors(nc, np.stack([unit(3)] * len(nc)))
        [hit] = reader.search_vector(unit(3), 1)
        assert hit.article_id == n and hit.score == pytest.approx(1.0, abs=1e-6)
        assert len(reader.vectors) == size + len(nc)

        # Deleted through the other instance: gone from the mirror, so k=1 still finds a live chunk.
        assert writer.delete(n)
        hits = reader.search_vector(unit(3), 1)
        assert [h.article_id for h in hits] == [g]
        assert len(reader.vectors) == size

        # Edited through the other instance: the old vectors go, the new chunks wait for theirs.
        assert put(writer, dataclasses.replace(GENEVA, text="Envoys met again in Geneva.")).outcome == "updated"
        assert reader.search_vector(unit(1), 5) == []
        assert len(reader.vectors) == 0
        embed_all(writer, unit(4))
        assert [h.text for h in reader.search_vector(unit(4), 5)] == ["Envoys met again in Geneva."]
    finally:
        reader.close()
        writer.close()


def test_mirror_grows_in_place_across_many_small_batches(db_path: Path) -> None:
    """The server tops the mirror up a few rows at a time: past its spare capacity it must still hold every
    vector, in step with its ids."""
    rng = np.random.default_rng(0)
    store = SQLiteStore(db_path)
    try:
        ids = []
        for i in range(11):
            lines = [f"Line {i}.{j}." for j in range(100)]
            store.write(Article(title=f"Story {i}", text=" ".join(lines), id=f"s{i}"),
                        [Chunk(f"s{i}", j, line, 0, 1) for j, line in enumerate(lines)])
            ids += [c.id for c in store.chunks(f"s{i}")]
        assert len(ids) > 1024  # more than the first allocation
        vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for start in range(0, len(ids), 97):
            store.write_vectors(ids[start:start + 97], vectors[start:start + 97])
            probe = min(start + 50, len(ids) - 1)
            [hit] = store.search_vector(vectors[probe], 1)
            assert hit.chunk_id == ids[probe]
        by_id = dict(zip(store.vectors.ids.tolist(), store.vectors.matrix, strict=True))
        assert len(by_id) == len(ids)
        assert all(np.array_equal(by_id[cid], v) for cid, v in zip(ids, vectors, strict=True))
    finally:
        store.close()


def test_vector_filters_see_other_connection_writes(db_path: Path) -> None:
    reader, writer = SQLiteStore(db_path), SQLiteStore(db_path)
    try:
        assert reader.search_vector(unit(0), 5) == []
        put(writer, UNDATED)
        embed_all(writer)
        from communique.models import Filters

        hits = reader.search_vector(unit(0), 5, Filters(sources=["Geneva Wire"]))
        assert {h.title for h in hits} == {UNDATED.title}
    finally:
        reader.close()
        writer.close()


# -- resumable embedding through the service, with the real model -----------------------------------------
@pytest.mark.slow
def test_ingest_without_embedding_then_resume(make_service, tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(SHORT_STORIES), encoding="utf-8")
    svc = make_service()
    report = svc.ingest([str(path)], embed=False)
    assert len(report.added) == 3 and report.embedded == 0
    stats = svc.stats()
    assert stats.embedded == 0 and stats.pending == stats.chunks >= 3
    assert svc.store.search_text("subsea cable Lagos", 5)  # keyword search works before any vector exists

    done = svc.embed()
    assert done == stats.chunks
    assert svc.embed() == 0
    assert svc.stats().pending == 0

    # Re-ingesting the same digest changes nothing and embeds nothing.
    again = svc.ingest([str(path)])
    assert (len(again.added), len(again.updated), len(again.unchanged), again.embedded) == (0, 0, 3, 0)
    assert svc.stats().articles == 3 and svc.stats().chunks == stats.chunks


@pytest.mark.slow
def test_interrupted_embedding_resumes_where_it_stopped(make_service, tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(SHORT_STORIES), encoding="utf-8")
    svc = make_service(embed_batch=2)
    svc.ingest([str(path)], embed=False)
    total = svc.stats().chunks

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(n: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        svc.embed(stop_after_first_batch)
    assert svc.stats().embedded == 2
    batches: list[int] = []
    assert svc.embed(batches.append) == total - 2
    assert sum(batches) == total - 2 and max(batches) <= 2
    assert svc.stats().pending == 0


@pytest.mark.slow
def test_reingest_of_sample_digest_is_unchanged(sample_copy, sample_dir: Path) -> None:
    before = sample_copy.stats()
    path = sample_dir / "digest-2026-11-02.txt"
    report = sample_copy.ingest([str(path)], source="Geneva Wire")
    assert (len(report.added), len(report.updated), len(report.unchanged)) == (0, 0, 10)
    assert report.embedded == 0
    after = sample_copy.stats()
    assert (after.articles, after.chunks, after.embedded) == (before.articles, before.chunks, before.embedded)
    assert len({a.id for a in sample_copy.articles(page_size=200).articles}) == 30


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    """A server's worker threads come and go: each thread's connection must not outlive it."""
    import threading

    store = SQLiteStore(tmp_path / "threads.db")
    try:
        for _ in range(5):
            workers = [threading.Thread(target=store.stats) for _ in range(8)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        last = threading.Thread(target=store.stats)  # its new connection closes those of the ended threads
        last.start()
        last.join()
        assert len(store._connections) == 2, len(store._connections)  # this thread's and the last one's
    finally:
        store.close()
