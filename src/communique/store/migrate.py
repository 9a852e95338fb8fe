"""Copy an index from one store to another without re-embedding (`communique migrate --from … --to …`).

Articles are read page by page and written to the destination with the source's own chunks, so the
destination's dedup applies and a second run is a no-op apart from re-copying vectors. Vectors follow,
matched by (article, chunk seq) since each store numbers its chunks itself. A chunk the source had not
embedded yet stays pending in the destination, for `communique embed`. Stores are named `sqlite:PATH` or
`milvus:URI` (a Milvus Lite `.db` path or `http://host:19530`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from communique.errors import BadInput
from communique.models import Chunk
from communique.store.base import Store
from communique.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from communique.config import Settings

PAGE_MAX = 200  # the most articles one list_articles page returns


@dataclass
class MigrateReport:
    articles: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    vectors: int = 0
    pending: int = 0  # chunks left without a vector: the source had none, or the destination chunked differently

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.articles} articles ({self.added} added, {self.updated} updated, {self.unchanged} unchanged), "
                f"{self.chunks} chunks, {self.vectors} vectors copied, {self.pending} left to embed")


def read_vectors(store: Store, chunk_ids: list[int]) -> dict[int, np.ndarray]:
    """The stored vector of each of these chunks that has one: `store.vectors_for` where a backend has it."""
    if hasattr(store, "vectors_for"):
        return store.vectors_for(chunk_ids)
    if isinstance(store, SQLiteStore):
        out: dict[int, np.ndarray] = {}
        for i in range(0, len(chunk_ids), 500):
            batch = [int(c) for c in chunk_ids[i:i + 500]]
            rows = store._conn().execute(
                f"SELECT id, vec FROM chunks WHERE id IN ({','.join('?' * len(batch))}) AND length(vec) > 0", batch
            )
            out.update((r[0], np.frombuffer(r[1], dtype=np.float32)) for r in rows)
        return out
    raise BadInput(f"cannot read vectors from a {type(store).__name__}")


def migrate(
    src: Store, dst: Store, batch: int = PAGE_MAX, on_page: Callable[[MigrateReport, int], None] | None = None
) -> MigrateReport:
    """Copy every article of `src` into `dst` with its chunks and vectors; `on_page(report, total)` after
    each page. `src` must not change meanwhile (pages are read by offset)."""
    batch = max(1, min(batch, PAGE_MAX))
    report = MigrateReport()
    todo: list[tuple[int, int]] = []  # (source chunk id, destination chunk id)

    def flush() -> None:
        vectors = read_vectors(src, [s for s, _ in todo])
        pairs = [(d, vectors[s]) for s, d in todo if s in vectors]
        if pairs:
            dst.write_vectors([d for d, _ in pairs], np.stack([v for _, v in pairs]))
        report.vectors += len(pairs)
        report.pending += len(todo) - len(pairs)
        todo.clear()

    page = 1
    while True:
        result = src.list_articles(page=page, page_size=batch)
        for article in result.articles:
            chunks = src.chunks(article.id)
            written = dst.write(article, [Chunk(article.id, c.seq, c.text, c.start, c.end) for c in chunks])
            setattr(report, written.outcome, getattr(report, written.outcome) + 1)
            report.articles += 1
            report.chunks += len(chunks)
            theirs = {c.seq: c for c in dst.chunks(written.article_id)}
            for c in chunks:
                match = theirs.get(c.seq)
                if match is not None and match.text == c.text:
                    todo.append((c.id, match.id))
                else:
                    report.pending += 1
            if len(todo) >= 256:
                flush()
        flush()
        if on_page:
            on_page(report, result.total)
        if not result.articles or page * result.page_size >= result.total:
            return report
        page += 1


def open_spec(spec: str, settings: Settings) -> Store:
    """A store named `sqlite:PATH` or `milvus:URI`; a Milvus server takes token and collection from settings."""
    kind, _, where = spec.partition(":")
    if not where:
        raise BadInput(f"name a store as sqlite:PATH or milvus:URI, not {spec!r}")
    if kind == "sqlite":
        return SQLiteStore(Path(where).expanduser(), ann_threshold=settings.ann_threshold)
    if kind == "milvus":
        from communique.store.milvus import MilvusStore

        return MilvusStore.from_settings(settings.model_copy(update={"milvus_uri": where}))
    raise BadInput(f"unknown store kind {kind!r} in {spec!r}; use sqlite: or milvus:")


def migrate_specs(
    source: str, target: str, settings: Settings, batch: int = PAGE_MAX,
    on_page: Callable[[MigrateReport, int], None] | None = None,
) -> MigrateReport:
    """`migrate` between two stores named as `open_spec` reads them; both are closed afterwards."""
    if source == target:
        raise BadInput("--from and --to name the same store")
    src = open_spec(source, settings)
    try:
        dst = open_spec(target, settings)
        try:
            return migrate(src, dst, batch, on_page)
        finally:
            dst.close()
    finally:
        src.close()
