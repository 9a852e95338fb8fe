"""The Milvus store: chunks with BM25 and dense vectors in a Milvus collection, articles in SQLite beside it.

One code path serves Milvus Lite (a local path ending in `.db`, embedded in this process) and a Milvus
standalone server or cluster (`http://host:19530`, optional token), through pymilvus' `MilvusClient`.

    Milvus collection, one row per embedded chunk        side SQLite file (an `SQLiteStore`)
    ─────────────────────────────────────────────        ──────────────────────────────────────────
    id INT64 (primary key = the chunk id of the side)     articles: full text, url, metadata, content hash
    article_id, title, source, language  VARCHAR          chunks: text and offsets of every chunk
    text  VARCHAR, analysed ──BM25 Function──▶ sparse     keyword index of chunks still awaiting a vector
    dense FLOAT_VECTOR(384), COSINE
    published_day INT64 (-1: unknown), start, end INT64

`write` goes to the side store only (dedup on id, URL and content hash is `SQLiteStore`'s, as are chunk
ids). `write_vectors` inserts each chunk with its vector into Milvus, then marks it there as moved (an empty
vector blob, and its row leaves the side keyword index), so vectors are not kept twice. Searches run in
Milvus with filters pushed down as expressions; the article fields of hits come from the side store. Until a
chunk is embedded, `search_text` finds it through the side keyword index, so keyword search works as soon as
text is stored, as the `Store` contract asks. Milvus Lite reports BM25 as a negative distance, a server as a
positive score: scores here are the magnitude.

The side store is a single-node SQLite file: see docs/scale.md for what that means for a cluster.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from communique.errors import BackendUnavailable, BadInput
from communique.models import Article, Chunk, Filters, Hit
from communique.store.base import ArticlePage, StoreStats, WriteResult, embedding_text
from communique.store.sqlite import SQLiteStore
from communique.text import keywords

if TYPE_CHECKING:
    from communique.config import Settings

T = TypeVar("T")

DIM = 384
MAX_TOP_K = 16_384  # Milvus' limit on search and query results
MAX_TERMS = 24  # as the SQLite store's keyword queries
_SERVER_SCHEMES = ("http://", "https://", "tcp://", "unix:")
_MOVED = b""  # the side store's mark for "this chunk's vector lives in Milvus"
_LIMITS = {"article_id": 2048, "title": 4096, "source": 512, "language": 32, "text": 65_535}  # bytes
_FLAT = {"index_type": "FLAT", "metric_type": "COSINE", "params": {}}
_HNSW = {"index_type": "HNSW", "metric_type": "COSINE", "params": {"M": 16, "efConstruction": 200}}


# -- filter expressions (pure functions) ---------------------------------------------------------------
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(value: str) -> str:
    """A Milvus string literal: double quotes, with backslash, quote and line breaks escaped."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def filter_expr(filters: Filters | None) -> str:
    """A Milvus boolean expression for `filters` ("" when there is nothing to filter)."""
    if filters is None or filters.is_empty():
        return ""
    parts = []
    if filters.since:
        parts.append(f"published_day >= {filters.since.toordinal()}")
    if filters.until:  # an unknown date (-1) is outside every window, as in SQL where NULL never compares
        parts.append(f"(published_day >= 0 and published_day <= {filters.until.toordinal()})")
    if filters.sources:
        parts.append(f"source in [{', '.join(literal(s) for s in filters.sources)}]")
    if filters.article_ids:
        parts.append(f"article_id in [{', '.join(literal(a) for a in filters.article_ids)}]")
    return " and ".join(parts)


def is_server_uri(uri: str) -> bool:
    return uri.startswith(_SERVER_SCHEMES)


def _fit(value: str | None, field: str) -> str:
    """Cut a string to the byte length of its VARCHAR field (on a character boundary)."""
    data = (value or "").encode("utf-8")
    if len(data) <= _LIMITS[field]:
        return value or ""
    return data[:_LIMITS[field]].decode("utf-8", "ignore")


def _batches(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class MilvusStore:
    """See the module docstring. Safe to share between threads; one process per Milvus Lite file."""

    backend = "milvus"

    def __init__(
        self,
        uri: str,
        *,
        meta_path: str | Path | None = None,
        token: str | None = None,
        collection: str = "communique_chunks",
        dim: int = DIM,
        index: dict[str, Any] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        """`meta_path` is the side SQLite file; by default `<uri>.articles.db` for a Milvus Lite path (a
        server URI needs one). `index` is the dense index (default: FLAT on Milvus Lite, HNSW on a server)."""
        self.uri, self.collection, self.dim, self.timeout_s = uri, collection, dim, timeout_s
        self.local = not is_server_uri(uri)
        if self.local:
            if not uri.endswith(".db"):
                raise BadInput(f"a Milvus Lite path must end in .db, or use http://host:19530; got {uri!r}")
            self.uri = str(Path(uri).expanduser())
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            meta_path = meta_path or self.uri + ".articles.db"
        elif meta_path is None:
            raise BadInput("a Milvus server URI needs meta_path: the SQLite file that keeps the articles")
        self.index = dict(index or (_FLAT if self.local else _HNSW))
        self._token = token
        self.meta = SQLiteStore(meta_path)
        self._client = None
        self._lock = threading.RLock()  # one writer: side store and collection change together
        self._unflushed = 0  # rows upserted into Milvus Lite since its last flush

    @classmethod
    def from_settings(cls, settings: Settings) -> MilvusStore:
        token = settings.milvus_token.get_secret_value() if settings.milvus_token else None
        meta = getattr(settings, "milvus_meta_db", None)  # a setting to add; until then, next to the SQLite db
        if meta is None and is_server_uri(settings.milvus_uri):
            meta = settings.db.parent / f"{settings.milvus_collection}.articles.db"
        return cls(settings.milvus_uri, meta_path=meta, token=token, collection=settings.milvus_collection)

    # -- connection ----------------------------------------------------------------------------------
    @property
    def client(self):
        """The connected `MilvusClient`, with the collection created and loaded (on first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._call(self._connect)
        return self._client

    def _connect(self):
        from pymilvus import MilvusClient

        client = MilvusClient(uri=self.uri, token=self._token or "", timeout=self.timeout_s)
        if client.has_collection(self.collection):
            fields = {f["name"]: f for f in client.describe_collection(self.collection)["fields"]}
            dim = int(fields.get("dense", {}).get("params", {}).get("dim", -1))
            if dim != self.dim or "sparse" not in fields:
                client.close()
                raise BadInput(f"Milvus collection {self.collection!r} exists with another schema "
                               f"(dense dim {dim}, expected {self.dim}); pick another milvus_collection")
            client.load_collection(self.collection)
        else:
            client.create_collection(self.collection, schema=self._schema(), consistency_level="Strong")
            # sync=False: pymilvus would poll each index's state with a 0.5 s sleep; the load waits for them.
            client.create_index(self.collection, self._indexes(client), sync=False)
            client.load_collection(self.collection)
        return client

    def _schema(self):
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("article_id", DataType.VARCHAR, max_length=_LIMITS["article_id"])
        s.add_field("text", DataType.VARCHAR, max_length=_LIMITS["text"], enable_analyzer=True,
                    analyzer_params={"tokenizer": "standard", "filter": ["lowercase"]})
        s.add_field("title", DataType.VARCHAR, max_length=_LIMITS["title"])
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        s.add_field("published_day", DataType.INT64)
        s.add_field("source", DataType.VARCHAR, max_length=_LIMITS["source"])
        s.add_field("language", DataType.VARCHAR, max_length=_LIMITS["language"])
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_function(Function(name="text_bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                output_field_names=["sparse"]))
        return s

    def _indexes(self, client):
        ip = client.prepare_index_params()
        ip.add_index(field_name="dense", **self.index)
        ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={})
        for name in ("article_id", "source", "published_day"):
            ip.add_index(field_name=name, index_type="INVERTED")
        return ip

    def _call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run a pymilvus call, turning its failures into `BackendUnavailable` (HTTP 503)."""
        from pymilvus.exceptions import MilvusException

        try:
            return fn(*args, **kwargs)
        except MilvusException as exc:
            raise BackendUnavailable(f"Milvus at {self.uri}: {exc.message}") from exc
        except OSError as exc:
            raise BackendUnavailable(f"Milvus at {self.uri}: {exc}") from exc

    def close(self) -> None:
        """Close the side store and the client; for Milvus Lite also stop its in-process server, which
        frees the file for another store (so two stores on one Lite file in one process must not overlap)."""
        with self._lock:
            self.meta.close()
            client, self._client = self._client, None
            if client is None:
                return
            client.close()
            if self.local:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(self.uri)

    # -- writing -------------------------------------------------------------------------------------
    def write(self, article: Article, chunks: list[Chunk]) -> WriteResult:
        for name, value in (("article_id", article.id), ("source", article.source)):
            if value and len(value.encode("utf-8")) > _LIMITS[name]:
                raise BadInput(f"{name} is longer than {_LIMITS[name]} bytes")
        with self._lock:
            result = self.meta.write(article, chunks)
            if result.outcome == "updated":  # its new chunks await vectors; the old ones leave Milvus
                self._delete_rows(result.article_id)
            elif result.outcome == "unchanged" and (article.published or article.source):
                self._sync_metadata(result.article_id)
            return result

    def _delete_rows(self, article_id: str) -> None:
        self._call(self.client.delete, self.collection, filter=f"article_id == {literal(article_id)}")

    def _sync_metadata(self, article_id: str) -> None:
        """An unchanged write may fill in a date or source: copy it to the rows already in Milvus."""
        a = self.meta.get(article_id)
        if a is None:
            return
        day, source = a.published.toordinal() if a.published else -1, _fit(a.source, "source")
        stale = self._call(
            self.client.query, self.collection, limit=MAX_TOP_K,
            filter=f"article_id == {literal(article_id)} and (published_day != {day} or source != {literal(source)})",
            output_fields=["id", "article_id", "text", "title", "dense", "language", "start", "end"],
        )
        if stale:
            rows = [{**{k: r[k] for k in ("id", "article_id", "text", "title", "language", "start", "end")},
                     "dense": list(r["dense"]), "published_day": day, "source": source} for r in stale]
            self._call(self.client.upsert, self.collection, rows)
            self._unflushed += len(rows)

    def pending_vectors(self, limit: int) -> list[tuple[int, str]]:
        return self.meta.pending_vectors(limit)

    def write_vectors(self, chunk_ids: list[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(chunk_ids) != len(vectors):
            raise BadInput("one vector per chunk id is needed")
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise BadInput(f"vectors must have {self.dim} dimensions")
        with self._lock:
            for batch in _batches(list(zip((int(i) for i in chunk_ids), vectors, strict=True)), 500):
                rows = self._rows(dict(batch))
                if not rows:
                    continue
                self._call(self.client.upsert, self.collection, rows)  # upsert: a chunk may be re-embedded
                self._unflushed += len(rows)
                moved = [(r["id"],) for r in rows]
                with self.meta._transaction() as conn:
                    conn.executemany("UPDATE chunks SET vec = ?, vec_seq = NULL WHERE id = ?",
                                     [(_MOVED, cid) for (cid,) in moved])
                    conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", moved)

    def _rows(self, vectors: dict[int, np.ndarray]) -> list[dict[str, Any]]:
        """Milvus rows for the chunks of the side store that have these ids (unknown ids are skipped)."""
        found = self.meta._conn().execute(
            "SELECT c.id, c.text, c.start, c.end, a.id AS article_id, a.title, a.published_day, a.source,"
            " a.language FROM chunks c JOIN articles a ON a.rowid = c.article_rowid"
            f" WHERE c.id IN ({','.join('?' * len(vectors))})",
            list(vectors),
        ).fetchall()
        return [
            {
                "id": r["id"], "article_id": r["article_id"], "title": _fit(r["title"], "title"),
                "text": _fit(embedding_text(r["title"], r["text"]), "text"), "dense": vectors[r["id"]].tolist(),
                "published_day": r["published_day"] if r["published_day"] is not None else -1,
                "source": _fit(r["source"], "source"), "language": _fit(r["language"], "language"),
                "start": r["start"], "end": r["end"],
            }
            for r in found
        ]

    def delete(self, article_id: str) -> bool:
        with self._lock:
            if self.meta.get(article_id) is None:
                return False
            self._delete_rows(article_id)
            return self.meta.delete(article_id)

    # -- searching -----------------------------------------------------------------------------------
    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """BM25 in Milvus, plus chunks still awaiting a vector from the side keyword index, by score."""
        terms = keywords(query)[:MAX_TERMS]
        if not terms or k <= 0:
            return []
        k = min(k, MAX_TOP_K)
        found = self._search([" ".join(terms)], "sparse", k, filters, {})
        hits = self.meta.hits_for([(cid, abs(score)) for cid, score in found])
        pending = self.meta.search_text(query, k, filters)  # its index holds only chunks not yet in Milvus
        return sorted(hits + pending, key=lambda h: -h.score)[:k] if pending else hits

    def search_vector(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        k = min(k, MAX_TOP_K)
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        return self.meta.hits_for(self._search([query], "dense", k, filters, self._dense_params(k)))

    def hybrid(self, query_text: str, vector: np.ndarray, k: int, filters: Filters | None = None,
               depth: int | None = None) -> list[Hit]:
        """BM25 and dense results fused by Milvus itself (`hybrid_search` with `RRFRanker(60)`); the score is
        the fused one. Chunks still awaiting a vector are not included."""
        from pymilvus import AnnSearchRequest, RRFRanker

        if k <= 0:
            return []
        k = min(k, MAX_TOP_K)
        depth = min(depth or max(4 * k, 40), MAX_TOP_K)
        expr = filter_expr(filters) or None
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        reqs = [AnnSearchRequest(data=[query], anns_field="dense", param=self._dense_params(depth), limit=depth,
                                 expr=expr)]
        terms = keywords(query_text)[:MAX_TERMS]
        if terms:
            reqs.insert(0, AnnSearchRequest(data=[" ".join(terms)], anns_field="sparse", param={}, limit=depth,
                                            expr=expr))
        result = self._call(self._ready().hybrid_search, self.collection, reqs, ranker=RRFRanker(60), limit=k)
        return self.meta.hits_for([(int(h["id"]), float(h["distance"])) for h in result[0]])

    def _dense_params(self, k: int) -> dict[str, Any]:
        if self.index["index_type"].startswith("HNSW"):
            return {"metric_type": "COSINE", "params": {"ef": max(k, 64)}}
        if self.index["index_type"].startswith("IVF"):
            return {"metric_type": "COSINE", "params": {"nprobe": 32}}
        return {"metric_type": "COSINE", "params": {}}

    def sync(self) -> None:
        self._ready()

    def _ready(self):
        """The client, with Milvus Lite's recent rows flushed: Lite searches rows still in its memtable by a
        slow scan (0.6 s for 10k rows, 20 ms once flushed into indexed segments). A server needs no help."""
        client = self.client
        if self.local and self._unflushed:
            with self._lock:
                if self._unflushed:
                    self._call(client.flush, self.collection)
                    self._unflushed = 0
        return client

    def _search(self, data: list, field: str, k: int, filters: Filters | None, params: dict) -> list[tuple[int, float]]:
        result = self._call(self._ready().search, self.collection, data=data, anns_field=field, limit=k,
                            filter=filter_expr(filters), search_params=params, output_fields=[])
        return [(int(h["id"]), float(h["distance"])) for h in result[0]]

    def vectors_for(self, chunk_ids: list[int]) -> dict[int, np.ndarray]:
        """The stored vector of each of these chunks that has one (for migrations)."""
        out: dict[int, np.ndarray] = {}
        for batch in _batches([int(i) for i in chunk_ids], 1000):
            for r in self._call(self.client.get, self.collection, ids=batch, output_fields=["dense"]):
                out[int(r["id"])] = np.asarray(r["dense"], dtype=np.float32)
        return out

    # -- reading (the side store) ---------------------------------------------------------------------
    def get(self, article_id: str) -> Article | None:
        return self.meta.get(article_id)

    def chunks(self, article_id: str) -> list[Chunk]:
        return self.meta.chunks(article_id)

    def list_articles(
        self, query: str | None = None, filters: Filters | None = None, page: int = 1, page_size: int = 20
    ) -> ArticlePage:
        return self.meta.list_articles(query, filters, page, page_size)

    def stats(self) -> StoreStats:
        s = self.meta.stats()
        size = s.size_bytes
        if self.local and Path(self.uri).is_dir():
            size += sum(p.stat().st_size for p in Path(self.uri).rglob("*") if p.is_file())
        return dataclasses.replace(s, size_bytes=size, backend=self.backend)
