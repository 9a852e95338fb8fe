"""Vectors carried between machines: an export from one database, imported beside a fresh one built from the same
articles, embeds it without running the model, to the very same vectors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builders import SHORT_STORIES, STORIES, digest
from communique.config import Settings
from communique.embed import Embedder, default_embedder
from communique.embed.cache import CachedEmbedder, cache_key
from communique.errors import BadInput
from communique.service import Communique
from communique.store.base import embedding_text


class Counting:
    """An embedder that counts the passages it is asked to embed: the proof that the model ran, or not."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.dim, self.name, self.passages = inner, inner.dim, inner.name, 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def _vectors(svc: Communique) -> dict[str, np.ndarray]:
    return {text: np.frombuffer(vec, dtype=np.float32) for text, vec in
            svc.store._conn().execute("SELECT text, vec FROM chunks WHERE vec IS NOT NULL")}


@pytest.fixture
def digest_file(tmp_path: Path) -> Path:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(STORIES), encoding="utf-8")
    return path


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[tuple[Communique, Communique, Counting]]:
    """(here, there, there's model): two databases in two folders, so each has its own vector cache."""
    here = Communique(Settings(db=tmp_path / "here" / "news.db"))
    model = Counting(default_embedder())
    there = Communique(Settings(db=tmp_path / "there" / "news.db"),
                       embedder=CachedEmbedder(model, tmp_path / "there" / "embedding-cache.db"))
    yield here, there, model
    here.close()
    there.close()


@pytest.mark.slow
def test_imported_vectors_embed_a_fresh_database_without_the_model(machines, digest_file: Path,
                                                                   tmp_path: Path) -> None:
    here, there, model = machines
    report = here.ingest([str(digest_file)])
    exported = here.export_vectors(tmp_path / "vectors.parquet")
    assert report.embedded > len(STORIES) and exported == report.embedded  # every chunk's text is distinct

    assert there.ingest([str(digest_file)], embed=False).embedded == 0
    imported = there.import_vectors(tmp_path / "vectors.parquet")
    assert imported.vectors == exported and imported.models == {here.embedder.model_id: exported}
    assert there.embed() == report.embedded
    assert model.passages == 0 and there.embedder.misses == 0 and there.embedder.hits == report.embedded
    ours, theirs = _vectors(here), _vectors(there)
    assert ours.keys() == theirs.keys() and len(ours) == report.embedded
    assert all(np.array_equal(ours[t], theirs[t]) for t in ours)
    # A text the file does not hold still goes to the model.
    assert there.embedder.embed_passages(["A sentence nobody exported."]).shape == (1, 384) and model.passages == 1


@pytest.mark.slow
def test_the_file_holds_model_text_key_and_vector(sample_db, tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet"
    n = sample_db.export_vectors(path)
    table = pq.read_table(path)
    assert n == table.num_rows == sample_db.stats().embedded  # the sample has no two chunks of the same text
    assert table.schema.names == ["model", "key", "vector"]
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 384)
    assert set(table.column("model").to_pylist()) == {sample_db.embedder.model_id}
    article = sample_db.articles(page_size=1).articles[0]
    chunk = sample_db.store.chunks(article.id)[0]
    key = cache_key(sample_db.embedder.model_id, embedding_text(article.title, chunk.text))
    row = table.column("key").to_pylist().index(key)
    stored = _vectors(sample_db)[chunk.text]
    assert np.array_equal(np.array(table.column("vector")[row].as_py(), dtype=np.float32), stored)


def test_rows_of_another_model_are_kept_but_said(make_service, tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    keys = [cache_key("other-model", t) for t in ("a", "b")]
    pq.write_table(pa.table({"model": ["other-model"] * 2, "key": pa.array(keys, pa.binary(20)),
                             "vector": pa.array([[0.6, 0.8], [1.0, 0.0]], pa.list_(pa.float32(), 2))}), path)
    svc = make_service("other")
    report = svc.import_vectors(path)
    assert report.models == {"other-model": 2}
    assert report.summary(svc.embedder.model_id) == (f"2 vectors imported (2 of other models, unused by "
                                                     f"{svc.embedder.model_id})")

    class Other:  # the other model, on this machine: its texts are found in the cache, never embedded
        dim, name = 2, "other-model"

        def embed_passages(self, texts: list[str]) -> np.ndarray:
            raise AssertionError("imported vectors were not used")

    other = CachedEmbedder(Other(), svc.embedder.path)
    assert np.allclose(other.embed_passages(["b", "a"]), [[1.0, 0.0], [0.6, 0.8]])
    other.close()


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    (b"not parquet at all", "is not a Parquet file"),
    ("wrong columns", "is not a vector export"),
])
def test_a_bad_file_is_refused_clearly(make_service, tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "vectors.parquet"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "wrong columns":
        pq.write_table(pa.table({"text": ["a"], "embedding": [[1.0]]}), path)
    with pytest.raises(BadInput, match=message):
        make_service("bad").import_vectors(path)


def test_export_and_import_refuse_what_they_cannot_do(make_service, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="nothing to export"):
        make_service("empty").export_vectors(tmp_path / "none.parquet")
    assert not (tmp_path / "none.parquet").exists()
    with pytest.raises(BadInput, match="embed_cache is off"):
        make_service("uncached", embed_cache=False).import_vectors(tmp_path / "none.parquet")


@pytest.mark.slow
def test_cli_moves_vectors_between_machines(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "digest-2026-11-16.txt"
    source.write_text(digest(SHORT_STORIES), encoding="utf-8")
    here, there, file = tmp_path / "here" / "news.db", tmp_path / "there" / "news.db", tmp_path / "v.parquet"

    def run(db: Path, *args: str):
        return cli("--db", db, *args)

    assert run(here, "ingest", str(source)).exit_code == 0
    exported = run(here, "embed", "--export", str(file))
    assert exported.exit_code == 0 and exported.stdout.strip() == f"{len(SHORT_STORIES)} vectors exported to {file}"
    assert run(there, "ingest", str(source), "--no-embed").exit_code == 0

    def no_model(texts: list[str]) -> np.ndarray:
        raise AssertionError(f"the model was asked to embed {len(texts)} passages")

    monkeypatch.setattr(default_embedder(), "embed_passages", no_model)
    imported = run(there, "embed", "--import", str(file))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.splitlines() == [f"{len(SHORT_STORIES)} vectors imported",
                                            f"{len(SHORT_STORIES)} chunks embedded"]
    both = run(there, "embed", "--import", str(file), "--export", str(file))
    assert both.exit_code == 2 and "separate runs" in both.output
    bad = run(there, "embed", "--import", str(tmp_path / "missing.parquet"))
    assert isinstance(bad.exception, BadInput) and "no such file" in str(bad.exception)  # main() prints it


def test_a_failed_export_leaves_no_file(make_service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from communique.embed import transfer

    def two_then_fail(store) -> Iterator[tuple[str, np.ndarray]]:
        yield "a", np.ones(4, dtype=np.float32) / 2
        yield "b", np.ones(4, dtype=np.float32) / 2
        raise OSError("disk gone")

    monkeypatch.setattr(transfer, "embedded_texts", two_then_fail)
    monkeypatch.setattr(transfer, "ROWS_PER_GROUP", 1)  # the first row is written before the failure
    with pytest.raises(OSError, match="disk gone"):
        make_service("failing").export_vectors(tmp_path / "v.parquet")
    assert list(tmp_path.glob("v.parquet*")) == []
