"""Vectors carried between machines in one Parquet file (`communique embed --export / --import`): embed where the
GPUs or the time are, import anywhere, and `communique embed` there runs the model for nothing the file holds.

One row per distinct embedded text: `model` (the embedder's id), `key` (the vector cache's key: SHA-256 of the
model id and the exact text, 20 bytes) and `vector` (float32 × dim). The texts stay home: the file carries no
article. An import puts every row into the vector cache under its key, so a vector is only ever used for the
same text by the same model; rows of another model are kept, and unused until that model embeds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from communique.embed.cache import KEY_BYTES, cache_key
from communique.errors import BadInput
from communique.store.base import Store, embedding_text

if TYPE_CHECKING:
    from communique.embed.cache import CachedEmbedder

FORMAT = b"communique-vectors/1"
COLUMNS = ("model", "key", "vector")
ROWS_PER_GROUP = 10_000


@dataclass
class ImportReport:
    vectors: int = 0
    models: Counter[str] = field(default_factory=Counter)  # rows per model id

    def to_dict(self) -> dict:
        return {"vectors": self.vectors, "models": dict(self.models)}

    def summary(self, model: str) -> str:
        other = self.vectors - self.models.get(model, 0)
        return f"{self.vectors} vectors imported" + (f" ({other} of other models, unused by {model})" if other else "")


def embedded_texts(store: Store) -> Iterator[tuple[str, np.ndarray]]:
    """(text the vector was computed from, vector) of every embedded chunk: streamed from a SQLite store, read
    page by page through the store interface from any other."""
    from communique.store.migrate import read_vectors
    from communique.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        rows = store._conn().execute("SELECT a.title, c.text, c.vec FROM chunks c JOIN articles a"
                                     " ON a.rowid = c.article_rowid WHERE length(c.vec) > 0 ORDER BY c.id")
        for title, text, vec in rows:
            yield embedding_text(title, text), np.frombuffer(vec, dtype=np.float32)
        return
    page = 1
    while articles := store.list_articles(page=page, page_size=200).articles:
        for article in articles:
            chunks = store.chunks(article.id)
            vectors = read_vectors(store, [c.id for c in chunks if c.id is not None])
            for chunk in chunks:
                if chunk.id in vectors:
                    yield embedding_text(article.title, chunk.text), vectors[chunk.id]
        page += 1


def export_vectors(store: Store, model: str, path: Path) -> int:
    """Write the vector of every distinct embedded text to `path`; returns how many."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    seen: set[bytes] = set()
    keys: list[bytes] = []
    vectors: list[np.ndarray] = []
    writer: pq.ParquetWriter | None = None
    written, dim = 0, 0
    partial = path.with_name(path.name + ".partial")  # a failed export leaves no file that looks whole

    def flush() -> None:
        nonlocal writer, written
        schema = pa.schema([("model", pa.string()), ("key", pa.binary(KEY_BYTES)),
                            ("vector", pa.list_(pa.float32(), dim))], metadata={b"format": FORMAT})
        flat = pa.array(np.concatenate(vectors).astype(np.float32, copy=False))
        table = pa.table([pa.array([model] * len(keys)), pa.array(keys, pa.binary(KEY_BYTES)),
                          pa.FixedSizeListArray.from_arrays(flat, dim)], schema=schema)
        if writer is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(partial, schema)
        writer.write_table(table)
        written += len(keys)
        keys.clear()
        vectors.clear()

    try:
        for text, vector in embedded_texts(store):
            key = cache_key(model, text)
            if key in seen:
                continue
            if dim and len(vector) != dim:
                raise BadInput(f"the store holds vectors of {dim} and {len(vector)} dimensions")
            dim = dim or len(vector)
            seen.add(key)
            keys.append(key)
            vectors.append(vector)
            if len(keys) >= ROWS_PER_GROUP:
                flush()
        if keys:
            flush()
    except BaseException:
        if writer is not None:
            writer.close()
            partial.unlink(missing_ok=True)
        raise
    if writer is None:
        raise BadInput("no chunk has a vector yet: nothing to export (run `communique embed` first)")
    writer.close()
    partial.replace(path)
    return written


def import_vectors(cache: CachedEmbedder, path: Path) -> ImportReport:
    """Put every vector of an export into the cache; returns how many, per model."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except FileNotFoundError:
        raise BadInput(f"no such file: {path}") from None
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{path} is not a Parquet file: {exc}") from exc
    names = source.schema_arrow.names
    if not set(COLUMNS) <= set(names):
        raise BadInput(f"{path} is not a vector export: it needs columns {', '.join(COLUMNS)}, not {', '.join(names)}")
    report = ImportReport()
    for batch in source.iter_batches(batch_size=ROWS_PER_GROUP, columns=list(COLUMNS)):
        models, keys = batch.column("model").to_pylist(), batch.column("key").to_pylist()
        if any(not isinstance(k, bytes) or len(k) != KEY_BYTES for k in keys) or None in models:
            raise BadInput(f"{path} has rows without a model or a {KEY_BYTES}-byte key")
        cache.put(keys, _matrix(batch.column("vector"), path))
        report.vectors += len(keys)
        report.models.update(models)
    return report


def _matrix(column, path: Path) -> np.ndarray:
    """(rows, dim) float32 from a vector column: without a Python float per value for the usual fixed-size list."""
    import pyarrow as pa

    if column.null_count:
        raise BadInput(f"{path} has rows without a vector")
    if pa.types.is_fixed_size_list(column.type) and column.flatten().null_count == 0:
        values = column.flatten().cast(pa.float32()).to_numpy(zero_copy_only=False)
        return values.reshape(len(column), column.type.list_size)
    try:
        vectors = np.array(column.to_pylist(), dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{path} has vectors of different lengths or missing values") from exc
    if vectors.ndim != 2:
        raise BadInput(f"{path} has vectors of different lengths or missing values")
    return vectors
