"""The Milvus store beyond the contract: over the network as to a cluster, through settings and the
service, Milvus' own hybrid search, migrations without re-embedding, and filter expressions.

The network path runs Milvus Lite's gRPC server (`python -m milvus_lite.cmdline server`, the `milvus-lite
server` command) in a child process on a free port of 127.0.0.1 and connects to `http://127.0.0.1:PORT`
exactly as to a Milvus standalone server or cluster.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from builders import LAGOS, QUITO, STORIES, digest
from communique.config import Settings
from communique.embed import Embedder, default_embedder
from communique.errors import BackendUnavailable, BadInput
from communique.ingest import embed_pending
from communique.models import Article, Filters
from communique.service import Communique
from communique.store import open_store
from communique.store.sqlite import SQLiteStore
from store_contract import ALL, GENEVA, NAIROBI, UNDATED, StoreContract, embed_all, put, unit

pytestmark = [
    pytest.mark.milvus,
    pytest.mark.skipif(
        not all(importlib.util.find_spec(n) for n in ("pymilvus", "milvus_lite")),
        reason="pymilvus and milvus-lite are not installed: pip install -e '.[milvus]'",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus Lite gRPC server in its own process; yields its URI."""
    data = tmp_path_factory.mktemp("milvus-server") / "data"
    port = _free_port()
    log = (data.parent / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite.cmdline", "server", "--data-dir", str(data), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (data.parent / "server.log").read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "milvus-lite server did not listen within 60 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return default_embedder(1)


def _server_store(uri: str, tmp_path: Path):
    from communique.store.milvus import MilvusStore

    name = f"t_{uuid.uuid4().hex[:12]}"  # one collection per test on the shared server
    return MilvusStore(uri, meta_path=tmp_path / f"{name}.articles.db", collection=name)


class TestMilvusServerStore(StoreContract):
    """The whole store contract again, against the server over gRPC."""

    @pytest.fixture
    def store(self, milvus_server: str, tmp_path: Path):
        store = _server_store(milvus_server, tmp_path)
        yield store
        store.client.drop_collection(store.collection)
        store.close()


# -- the service over the network --------------------------------------------------------------------------
def test_service_round_trip_over_grpc(milvus_server: str, tmp_path: Path, embedder: Embedder) -> None:
    name = f"svc_{uuid.uuid4().hex[:8]}"
    settings = Settings(store="milvus", milvus_uri=milvus_server, milvus_collection=name, db=tmp_path / "c.db")
    svc = Communique(settings, embedder=embedder)
    try:
        path = tmp_path / "digest-2026-11-09.txt"
        path.write_text(digest(STORIES), encoding="utf-8")
        report = svc.ingest([str(path)], source="Wire")
        assert report.ok and len(report.added) == 3 and report.embedded == svc.stats().chunks > 0
        stats = svc.stats()
        assert (stats.backend, stats.articles, stats.pending) == ("milvus", 3, 0)
        assert (tmp_path / f"{name}.articles.db").is_file()  # the side store sits next to the SQLite db

        hits = svc.search("Which landing station opened in Lagos?", k=3)
        assert hits[0].title == LAGOS.title and hits[0].source == "Wire" and hits[0].published == date(2026, 11, 9)
        fined = svc.search("fines for companies that break data protection rules", k=3)
        assert fined[0].title == QUITO.title
        assert svc.search("Lagos", k=3, filters=Filters(sources=["Elsewhere"])) == []

        quito = fined[0].article_id
        svc.delete(quito)
        assert QUITO.title not in {h.title for h in svc.search("data protection fines", k=5)}
        rows = svc.store.client.query(name, filter=f'article_id == "{quito}"', output_fields=["id"], limit=10)
        assert rows == []
    finally:
        svc.store.client.drop_collection(name)
        svc.close()


def test_hybrid_search_by_milvus(tmp_path: Path, embedder: Embedder) -> None:
    from communique.store.milvus import MilvusStore

    store = MilvusStore(str(tmp_path / "h.milvus.db"))
    try:
        ids = {a.title: put(store, a).article_id for a in ALL}
        embed_pending(store, embedder)
        question = "Why did Kenya suspend the Lumaro app?"
        hits = store.hybrid(question, embedder.embed_query(question), 3)
        assert hits[0].article_id == ids[NAIROBI.title]
        assert 0 < hits[-1].score <= hits[0].score <= 2 / 61 + 1e-9  # RRF(60) over two lists
        only = Filters(sources=["Geneva Wire"])
        assert {h.article_id for h in store.hybrid(question, embedder.embed_query(question), 5, only)} <= {
            ids[GENEVA.title], ids[UNDATED.title]}
        assert store.hybrid("what is the", embedder.embed_query("quantum"), 1)[0].article_id == ids[UNDATED.title]
    finally:
        store.close()


# -- settings, reopening, errors --------------------------------------------------------------------------
def test_open_store_from_settings_and_reopen(tmp_path: Path) -> None:
    from communique.store.milvus import MilvusStore

    uri = str(tmp_path / "data" / "communique.milvus.db")
    settings = Settings(store="milvus", milvus_uri=uri, db=tmp_path / "unused.db")
    store = open_store(settings)
    assert isinstance(store, MilvusStore)
    aid = put(store, GENEVA).article_id
    embed_all(store, unit(5))
    store.close()
    assert Path(uri + ".articles.db").is_file() and not (tmp_path / "unused.db").exists()

    store = open_store(settings)
    try:
        assert [h.article_id for h in store.search_vector(unit(5), 1)] == [aid]
        assert [h.article_id for h in store.search_text("submarine cable", 5)] == [aid]
        stats = store.stats()
        assert (stats.backend, stats.articles, stats.pending) == ("milvus", 1, 0) and stats.size_bytes > 0
    finally:
        store.close()


def test_bad_uris_and_unreachable_server(tmp_path: Path) -> None:
    from communique.store.milvus import MilvusStore

    with pytest.raises(BadInput, match=r"\.db"):
        MilvusStore(str(tmp_path / "index.milvus"))
    with pytest.raises(BadInput, match="meta_path"):
        MilvusStore("http://127.0.0.1:19530")
    store = MilvusStore(f"http://127.0.0.1:{_free_port()}", meta_path=tmp_path / "m.db", timeout_s=2)
    try:
        put(store, GENEVA)  # text goes to the side store: no Milvus needed yet
        with pytest.raises(BackendUnavailable, match="Milvus at http://127.0.0.1"):
            store.search_vector(unit(0), 3)
    finally:
        store.close()


def test_existing_collection_with_another_dimension(tmp_path: Path) -> None:
    from communique.store.milvus import MilvusStore

    uri = str(tmp_path / "dims.milvus.db")
    small = MilvusStore(uri, dim=8)
    small.search_vector(np.ones(8, dtype=np.float32), 1)
    small.close()
    store = MilvusStore(uri)
    try:
        with pytest.raises(BadInput, match="dense dim 8, expected 384"):
            store.search_vector(unit(0), 1)
    finally:
        store.close()


def test_filter_expressions() -> None:
    from communique.store.milvus import filter_expr, literal

    assert literal('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    assert filter_expr(None) == filter_expr(Filters()) == ""
    f = Filters(since=date(2026, 11, 2), until=date(2026, 11, 9), sources=["A", 'B"'], article_ids=["x"])
    assert filter_expr(f) == (
        f"published_day >= {date(2026, 11, 2).toordinal()} and "
        f"(published_day >= 0 and published_day <= {date(2026, 11, 9).toordinal()}) and "
        'source in ["A", "B\\""] and article_id in ["x"]'
    )


# -- migration --------------------------------------------------------------------------------------------
def _no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    from communique.embed.e5 import E5Embedder

    def refuse(*args, **kwargs):
        raise AssertionError("migrate must not embed")

    monkeypatch.setattr(E5Embedder, "embed_passages", refuse)
    monkeypatch.setattr(E5Embedder, "embed_query", refuse)


def test_migrate_sqlite_to_milvus_and_back(tmp_path: Path, embedder: Embedder, monkeypatch) -> None:
    from communique.store.migrate import migrate, migrate_specs

    src_path, dst_uri = tmp_path / "src.db", str(tmp_path / "dst.milvus.db")
    src = SQLiteStore(src_path)
    for a in ALL:
        put(src, a, chunk_tokens=40)  # several chunks per article
    put(src, story_article(LAGOS))
    embedded = embed_pending(src, embedder)
    extra = put(src, story_article(QUITO))  # stored but not embedded: must stay pending
    questions = ["Which app did Kenya suspend?", "quantum processor Bilbao", "cable landing station"]
    queries = [embedder.embed_query(q) for q in questions]

    def vector_results(store):
        return [[(h.article_id, h.start, h.end, pytest.approx(h.score, abs=1e-5)) for h in store.search_vector(v, 6)]
                for v in queries]

    expected_vec = vector_results(src)
    expected_text = [[h.article_id for h in src.search_text(q, 3)][:1] for q in questions]
    src_stats = src.stats()
    src.close()

    _no_embedding(monkeypatch)
    report = migrate_specs(f"sqlite:{src_path}", f"milvus:{dst_uri}", Settings(), batch=2)
    assert (report.articles, report.added, report.chunks) == (5, 5, src_stats.chunks)
    assert report.vectors == embedded and report.pending == src_stats.chunks - embedded > 0

    from communique.store.milvus import MilvusStore

    dst = MilvusStore(dst_uri)
    try:
        stats = dst.stats()
        assert (stats.articles, stats.chunks, stats.embedded) == (5, src_stats.chunks, embedded)
        assert {cid for cid, _ in dst.pending_vectors(100)} == {c.id for c in dst.chunks(extra.article_id)}
        assert vector_results(dst) == expected_vec
        assert [[h.article_id for h in dst.search_text(q, 3)][:1] for q in questions] == expected_text

        src = SQLiteStore(src_path)
        again = migrate(src, dst, batch=200)  # a second run changes nothing
        src.close()
        assert (again.unchanged, again.added, again.vectors) == (5, 0, embedded)
        assert dst.stats().chunks == src_stats.chunks

        back = SQLiteStore(tmp_path / "back.db")  # and from Milvus into a fresh SQLite store
        report = migrate(dst, back)
        assert (report.added, report.vectors) == (5, embedded)
        assert vector_results(back) == expected_vec
        back.close()
    finally:
        dst.close()


def story_article(story) -> Article:
    """A builders.Story as an Article of source "Wire" on 2026-11-09."""
    return Article(title=story.title, text=story.text, source="Wire", published=date(2026, 11, 9))


def test_migrate_names_stores_plainly(tmp_path: Path) -> None:
    from communique.store.migrate import migrate_specs, open_spec

    with pytest.raises(BadInput, match="sqlite:PATH or milvus:URI"):
        open_spec(str(tmp_path / "x.db"), Settings())
    with pytest.raises(BadInput, match="unknown store kind"):
        open_spec("postgres:db", Settings())
    with pytest.raises(BadInput, match="same store"):
        migrate_specs("sqlite:a.db", "sqlite:a.db", Settings())
