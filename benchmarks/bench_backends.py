"""Store backends side by side, in one run, on one machine, on the same data: Communique's SQLite store,
Communique's Milvus Lite store (`MilvusStore`) and a plain LanceDB table (what a user would otherwise reach for).

Data. Real article text (the RealTimeQA corpus when present, else the in-repo sample digests) split into
sentences, replicated and perturbed into articles by bench_search.py's corpus builder (imported, not copied),
chunked by the library's chunker. Each chunk gets a precomputed vector shaped like a multilingual-e5-small
embedding of news (`E5Like`, calibrated on 5,184 real e5 chunk embeddings of the RealTimeQA corpus: shared
direction of norm 0.88, residual variance 0.22 with a power-law spectrum of exponent 0.7, half of it shared
by the chunks of one article; pair cosine 0.78, like the real ones). Uniform random vectors would make any
ANN index look broken: in 384 dimensions they have no near neighbours at all. Queries are 3-7 content words
of a chunk of a random article, with a vector near that article's centre, as a question about it would be.

For each size and backend, a fresh child process (so peak RSS is that backend's alone):
- ingest: every article written with its chunks, then every vector (embedding excluded); for Milvus Lite
  the final flush, for LanceDB the full-text index, are counted, since both are needed before searching;
- hybrid search k=10 (BM25 + dense, RRF): SQLite `retrieve.hybrid_search(query_vector=…)` (per-article cap 2,
  the product's default), Milvus `MilvusStore.hybrid` (Milvus' own RRF), LanceDB `search(query_type="hybrid")`
  with its `RRFReranker`; the same with a 60-day date filter; and dense search alone, for recall@10 against
  exact search (numpy) on the same vectors. 5 warm-up queries, then the operations interleaved.
Then ingest with embedding included, on a small subset (`--embed-chunks`), with `default_embedder()`
(model loaded before timing). `--ann-1m` adds the SQLite store alone at 1M chunks (`--ann-size`) in ANN
mode: build time of the index, a restart that loads it, search p50/p95 and recall@10 against exact search on
200 queries, RSS, and the same store searched exactly for comparison.

    python benchmarks/bench_backends.py                                   # 10k and 50k chunks, ~8 min
    python benchmarks/bench_backends.py --ann-1m                          # + 1M ANN run: ~50 min on 2 cores
    python benchmarks/bench_backends.py --sizes 1000000 --backends sqlite # 1M chunks, SQLite store only
    python benchmarks/bench_backends.py --sizes 10000 --ann-1m --ann-size 300000

Writes benchmarks/results/backends.md and the plot docs/scaling-latency.png (query latency vs corpus size).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from bench_search import Maker, sentence_pool
from benchlib import REPO, SAMPLE_DIR, SHARED, Report, percentile, table, yes
from communique.store.ann import EXPANSION_SEARCH

DIM = 384
K = 10
BACKENDS = ("sqlite", "milvus", "lancedb")
LABELS = {"sqlite": "Communique SQLite", "milvus": "Communique Milvus Lite", "lancedb": "LanceDB (plain)"}
SPEEDUP_TARGET = 20.0
ANN_P95_TARGET_MS, ANN_RECALL_TARGET = 100.0, 0.95
PLOT = REPO / "docs" / "scaling-latency.png"
DAY0, DAYS = date(2024, 1, 1), 730


# -- vectors and corpus ----------------------------------------------------------------------------------
class E5Like:
    """Unit vectors shaped like e5-small chunk embeddings of news (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
        spectrum = np.arange(1, DIM + 1) ** -0.7
        spectrum *= 0.22 / spectrum.sum()
        u0 = rng.standard_normal(DIM)
        self.shared = (0.88 * u0 / np.linalg.norm(u0)).astype(np.float32)
        self.scale = (basis * np.sqrt(spectrum)).T.astype(np.float32)
        self.rng = rng

    def centres(self, n: int) -> np.ndarray:
        return self.shared + np.sqrt(0.52) * (self.rng.standard_normal((n, DIM), dtype=np.float32) @ self.scale)

    def around(self, centres: np.ndarray) -> np.ndarray:
        x = centres + np.sqrt(0.48) * (self.rng.standard_normal((len(centres), DIM), dtype=np.float32) @ self.scale)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class RealDerived:
    """Unit vectors on the manifold of real e5 chunk embeddings: each a point between a real chunk's vector and
    one of its 20 nearest real neighbours, plus a little noise shaped by the real covariance. Queries are real
    e5 query embeddings of questions made from real chunks. Read from a Communique SQLite database with
    embedded chunks (`--real-vectors`); the ANN recall measured on these is what a real corpus would see, where
    `E5Like`'s Gaussian residual leaves the 6th to 10th neighbours near-ties that no ANN index can order."""

    def __init__(self, db: Path, seed: int, noise: float = 0.3) -> None:
        import sqlite3

        conn = sqlite3.connect(db)
        rows = conn.execute("SELECT vec, text FROM chunks WHERE vec IS NOT NULL AND length(vec) > 0").fetchall()
        conn.close()
        if len(rows) < 1_000:
            raise SystemExit(f"{db} holds {len(rows)} embedded chunks; --real-vectors needs at least 1,000")
        self.real = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(-1, DIM)
        self.texts = [r[1] for r in rows]
        self.rng = np.random.default_rng(seed)
        self.neighbours = np.empty((len(self.real), 20), dtype=np.int64)
        for i in range(0, len(self.real), 2_000):
            sims = self.real[i:i + 2_000] @ self.real.T
            sims[np.arange(len(sims)), np.arange(i, i + len(sims))] = -1
            self.neighbours[i:i + 2_000] = np.argpartition(-sims, 20, axis=1)[:, :20]
        w, v = np.linalg.eigh(np.cov((self.real - self.real.mean(0)).T))
        self.scale = (noise * v * np.sqrt(np.clip(w, 0, None))).T.astype(np.float32)

    def vectors(self, n: int) -> np.ndarray:
        i = self.rng.integers(0, len(self.real), n)
        j = self.neighbours[i, self.rng.integers(0, 20, n)]
        x = self.real[i] + self.rng.random(n, dtype=np.float32)[:, None] * (self.real[j] - self.real[i])
        x += self.rng.standard_normal((n, DIM), dtype=np.float32) @ self.scale
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def queries(self, n: int, rng: random.Random) -> tuple[list[str], np.ndarray]:
        from communique.embed import default_embedder

        embedder = default_embedder()
        texts = [question(rng.choice(self.texts), rng) for _ in range(n)]
        return texts, np.stack([embedder.embed_query(t) for t in texts]).astype(np.float32)


def question(chunk_text: str, rng: random.Random) -> str:
    from communique.text import keywords

    words = keywords(chunk_text)
    take = min(len(words), rng.randint(3, 7))
    first = rng.randrange(len(words) - take + 1) if words else 0
    return "What about " + " ".join(words[first:first + take]) + "?"


def make_corpus(path: Path, size: int, maker: Maker, sources: list[str], seed: int, queries: int) -> None:
    """Articles with their chunks, one vector per chunk, queries and the exact top-k, pickled to `path`."""
    from communique.ingest import prepare
    from communique.ingest.chunker import chunk_article

    articles, chunks, owner = [], 0, []
    while chunks < size:
        article = prepare(maker.article(len(articles), DAY0, DAYS, sources))
        parts = chunk_article(article, 180)[: size - chunks]
        articles.append((article, parts))
        owner += [len(articles) - 1] * len(parts)
        chunks += len(parts)
    gen = E5Like(seed)
    centres = gen.centres(len(articles))
    owner = np.asarray(owner)
    vectors = np.concatenate([gen.around(centres[owner[i:i + 50_000]]) for i in range(0, size, 50_000)])
    rng = random.Random(seed)
    picks = [rng.randrange(len(articles)) for _ in range(queries)]
    texts = [question(rng.choice(articles[a][1]).text, rng) for a in picks]
    qvecs = gen.around(centres[picks])
    windows = []
    for _ in range(queries):
        since = DAY0 + timedelta(days=rng.randrange(DAYS - 60))
        windows.append((since, since + timedelta(days=59)))
    days = np.asarray([a.published.toordinal() for a, _ in articles])[owner]
    exact, exact_window = [], []
    for i, q in enumerate(qvecs):
        scores = vectors @ q
        exact.append(np.argsort(-scores)[:K])
        inside = (days >= windows[i][0].toordinal()) & (days <= windows[i][1].toordinal())
        exact_window.append(np.argsort(-np.where(inside, scores, -np.inf))[: min(K, int(inside.sum()))])
    with path.open("wb") as f:
        pickle.dump({"articles": articles, "vectors": vectors, "queries": texts, "qvecs": qvecs,
                     "windows": windows, "exact": exact, "exact_window": exact_window}, f)


def dir_size_mb(paths: list[Path]) -> float:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total / 2**20


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the backends under test (each runs in its own child process) ------------------------------------------
class SQLiteBackend:
    def __init__(self, work: Path) -> None:
        from communique.store.sqlite import SQLiteStore

        self.path = work / "sqlite.db"
        self.store = SQLiteStore(self.path)

    def write_text(self, articles) -> None:
        for article, parts in articles:
            self.store.write(article, parts)

    def write_vectors(self, vectors: np.ndarray) -> list[int]:
        ids: list[int] = []
        while pending := self.store.pending_vectors(5000):
            batch = [cid for cid, _ in pending]
            self.store.write_vectors(batch, vectors[len(ids):len(ids) + len(batch)])
            ids += batch
        return ids

    def ready(self) -> None:
        self.store.vectors.refresh()

    def hybrid(self, text: str, vec: np.ndarray, window=None) -> list[int]:
        from communique.models import Filters
        from communique.retrieve import hybrid_search

        filters = Filters(since=window[0], until=window[1]) if window else None
        return [h.chunk_id for h in hybrid_search(self.store, None, text, K, filters=filters, query_vector=vec)]

    def dense(self, vec: np.ndarray) -> list[int]:
        return [h.chunk_id for h in self.store.search_vector(vec, K)]

    def files(self) -> list[Path]:
        return list(self.path.parent.glob(self.path.name + "*"))

    def close(self) -> None:
        self.store.close()


class MilvusBackend(SQLiteBackend):
    def __init__(self, work: Path) -> None:
        from communique.store.milvus import MilvusStore

        self.path = work / "milvus.db"
        self.store = MilvusStore(str(self.path))

    def ready(self) -> None:
        self.store._ready()  # Milvus Lite's flush: without it the first searches scan the memtable

    def hybrid(self, text: str, vec: np.ndarray, window=None) -> list[int]:
        from communique.models import Filters

        filters = Filters(since=window[0], until=window[1]) if window else None
        return [h.chunk_id for h in self.store.hybrid(text, vec, K, filters)]


class LanceBackend:
    def __init__(self, work: Path) -> None:
        import lancedb

        self.path = work / "lance"
        self.db = lancedb.connect(str(self.path))
        self.table = None
        self._pending: list = []

    def write_text(self, articles) -> None:
        from communique.store.base import embedding_text

        self._pending = [(a, c, embedding_text(a.title, c.text)) for a, parts in articles for c in parts]

    def write_vectors(self, vectors: np.ndarray) -> list[int]:
        import pyarrow as pa

        rows = self._pending
        for i in range(0, len(rows), 10_000):
            part = rows[i:i + 10_000]
            batch = pa.table({
                "id": pa.array(range(i, i + len(part)), pa.int64()),
                "article_id": [a.id for a, _, _ in part], "title": [a.title for a, _, _ in part],
                "url": [a.url for a, _, _ in part], "source": [a.source for a, _, _ in part],
                "published_day": pa.array([a.published.toordinal() for a, _, _ in part], pa.int64()),
                "text": [t for _, _, t in part],
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors[i:i + len(part)].reshape(-1)), DIM),
            })
            if self.table is None:
                self.table = self.db.create_table("chunks", data=batch)
            else:
                self.table.add(batch)
        return list(range(len(rows)))

    def ready(self) -> None:
        from lancedb.index import FTS

        self.table.create_index("text", config=FTS())

    def _where(self, window) -> str | None:
        if not window:
            return None
        return f"published_day >= {window[0].toordinal()} AND published_day <= {window[1].toordinal()}"

    def hybrid(self, text: str, vec: np.ndarray, window=None) -> list[int]:
        from lancedb.rerankers import RRFReranker

        from communique.text import keywords

        q = self.table.search(query_type="hybrid").vector(vec).text(" ".join(keywords(text)[:24]))
        if window:
            q = q.where(self._where(window), prefilter=True)
        return [r["id"] for r in q.rerank(RRFReranker(K=60)).limit(K).select(["id"]).to_list()]

    def dense(self, vec: np.ndarray) -> list[int]:
        return [r["id"] for r in self.table.search(vec).distance_type("cosine").limit(K).select(["id"]).to_list()]

    def files(self) -> list[Path]:
        return [self.path]

    def close(self) -> None:
        pass


def open_backend(name: str, work: Path):
    return {"sqlite": SQLiteBackend, "milvus": MilvusBackend, "lancedb": LanceBackend}[name](work)


def measure_backend(name: str, corpus_path: Path, work: Path) -> dict:
    with corpus_path.open("rb") as f:
        data = pickle.load(f)
    articles, vectors = data["articles"], data["vectors"]
    backend = open_backend(name, work)
    t0 = time.perf_counter()
    backend.write_text(articles)
    t_text = time.perf_counter() - t0
    ids = backend.write_vectors(vectors)
    backend.ready()
    t_all = time.perf_counter() - t0
    position = {cid: i for i, cid in enumerate(ids)}
    queries, qvecs, windows = data["queries"], data["qvecs"], data["windows"]
    ops = {
        "hybrid": lambda i: backend.hybrid(queries[i], qvecs[i]),
        "hybrid + date filter": lambda i: backend.hybrid(queries[i], qvecs[i], windows[i]),
        "dense": lambda i: backend.dense(qvecs[i]),
    }
    for i in range(min(5, len(queries))):
        for op in ops.values():
            op(i)
    times: dict[str, list[float]] = {n: [] for n in ops}
    found: dict[str, list[list[int]]] = {n: [] for n in ops}
    names = list(ops)
    for i in range(len(queries)):
        for j in range(len(names)):
            op = names[(i + j) % len(names)]
            t = time.perf_counter()
            got = ops[op](i)
            times[op].append((time.perf_counter() - t) * 1000)
            found[op].append([position[c] for c in got])
    recall = float(np.mean([len(set(f) & set(e.tolist())) / max(1, len(e))
                            for f, e in zip(found["dense"], data["exact"], strict=True)]))
    chunks = len(vectors)
    result = {"chunks": chunks, "articles": len(articles), "text_s": t_text, "ingest_s": t_all,
              "times": times, "hybrid": found["hybrid"], "recall": recall,
              "disk_mb": dir_size_mb(backend.files()), "rss_mb": rss_mb()}
    backend.close()
    return result


def measure_embedding(corpus_path: Path, work: Path, n: int, backends: list[str]) -> dict:
    """Ingest of the first `n` chunks with embedding included, each backend on a fresh store in this process."""
    from communique.embed import default_embedder
    from communique.store.base import embedding_text

    with corpus_path.open("rb") as f:
        articles = pickle.load(f)["articles"]
    subset, count = [], 0
    for article, parts in articles:
        if count >= n:
            break
        subset.append((article, parts[: n - count]))
        count += len(subset[-1][1])
    t = time.perf_counter()
    embedder = default_embedder()
    embedder.embed_passages(["warm up the model"])
    load_s = time.perf_counter() - t
    out = {"chunks": count, "model_load_s": load_s, "backends": {}}
    for name in backends:
        (work / name).mkdir(exist_ok=True)
        backend = open_backend(name, work / name)
        t0 = time.perf_counter()
        backend.write_text(subset)
        texts = [embedding_text(a.title, c.text) for a, parts in subset for c in parts]
        vecs = np.concatenate([embedder.embed_passages(texts[i:i + 64]) for i in range(0, len(texts), 64)])
        backend.write_vectors(vecs)
        backend.ready()
        out["backends"][name] = time.perf_counter() - t0
        backend.close()
    return out


# -- the SQLite store at 1M chunks in ANN mode -------------------------------------------------------------
def ann_build(work: Path, size: int, seed: int, sample: Path, corpus: Path | None, queries: int,
              threshold: int, real_vectors: Path | None = None) -> dict:
    """Build a store of `size` chunks (text, and RealDerived or else E5Like vectors), then its ANN index; save
    queries and truth."""
    from communique.ingest import prepare
    from communique.ingest.chunker import chunk_article
    from communique.store.sqlite import SQLiteStore

    rng = random.Random(seed)
    pool, sources = sentence_pool(sample, corpus, 60_000, rng)
    maker = Maker(pool, rng)
    db = work / "ann.db"
    store = SQLiteStore(db, ann_threshold=threshold)
    gen = E5Like(seed)
    real = RealDerived(real_vectors, seed) if real_vectors else None
    t0 = time.perf_counter()
    owner: list[int] = []
    chunks = n_articles = 0
    sample_chunks = []
    while chunks < size:
        article = prepare(maker.article(n_articles, DAY0, DAYS, sources))
        parts = chunk_article(article, 180)[: size - chunks]
        store.write(article, parts)
        if rng.random() < 0.01:
            sample_chunks.append((n_articles, rng.choice(parts).text))
        owner += [n_articles] * len(parts)
        chunks += len(parts)
        n_articles += 1
    t_text = time.perf_counter() - t0
    centres = gen.centres(n_articles)
    owner_arr = np.asarray(owner)
    vectors = np.empty((size, DIM), dtype=np.float32)
    done = 0
    while pending := store.pending_vectors(50_000):
        vecs = real.vectors(len(pending)) if real else gen.around(centres[owner_arr[done:done + len(pending)]])
        vectors[done:done + len(pending)] = vecs
        store.write_vectors([cid for cid, _ in pending], vecs)
        done += len(pending)
    t_vec = time.perf_counter() - t0 - t_text
    t = time.perf_counter()
    store.vectors.refresh()  # crosses ann_threshold: builds the usearch index from the database and saves it
    t_build = time.perf_counter() - t
    assert store.vectors.ann is not None, "the store did not switch to its ANN index"
    ids = store.vectors.ids.copy()
    store.close()
    if real:
        texts, qvecs = real.queries(queries, rng)
    else:
        picks = [sample_chunks[rng.randrange(len(sample_chunks))] for _ in range(queries)]
        qvecs = gen.around(centres[[a for a, _ in picks]])
        texts = [question(t, rng) for _, t in picks]
    exact = []
    for i in range(0, queries, 20):
        scores = np.empty((min(20, queries - i), size), dtype=np.float32)
        for j in range(0, size, 200_000):
            scores[:, j:j + 200_000] = qvecs[i:i + 20] @ vectors[j:j + 200_000].T
        exact += [ids[np.argsort(-s)[:K]].tolist() for s in scores]
    np.save(work / "qvecs.npy", qvecs)
    (work / "truth.json").write_text(json.dumps({"exact": exact, "queries": texts}), encoding="utf-8")
    return {"vectors": "RealDerived" if real else "E5Like",
            "chunks": size, "articles": n_articles, "text_s": t_text, "vectors_s": t_vec, "build_s": t_build,
            "db_mb": dir_size_mb([db, db.with_name(db.name + "-wal")]),
            "index_mb": dir_size_mb([db.with_name(db.name + ".usearch")]), "build_rss_mb": rss_mb()}


def ann_serve(work: Path, exact_mode: bool, threshold: int) -> dict:
    """Open the store in a fresh process (loading the saved index, or the float32 matrix) and search it."""
    from communique.retrieve import hybrid_search
    from communique.store.sqlite import SQLiteStore

    qvecs = np.load(work / "qvecs.npy")
    truth = json.loads((work / "truth.json").read_text(encoding="utf-8"))
    store = SQLiteStore(work / "ann.db", ann_threshold=2**62 if exact_mode else threshold)
    t = time.perf_counter()
    store.vectors.refresh()
    open_s = time.perf_counter() - t
    sync = dict(store.vectors.ann_sync)
    for i in range(5):
        store.vectors.search(qvecs[i], K)
    times: dict[str, list[float]] = {"vector index (ids)": [], "search_vector (hits)": [], "hybrid": []}
    recall = []
    for i, q in enumerate(qvecs):
        t = time.perf_counter()
        got = [c for c, _ in store.vectors.search(q, K)]
        times["vector index (ids)"].append((time.perf_counter() - t) * 1000)
        recall.append(len(set(got) & set(truth["exact"][i])) / K)
        t = time.perf_counter()
        store.search_vector(q, 4 * K)
        times["search_vector (hits)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        hybrid_search(store, None, truth["queries"][i], K, query_vector=q)
        times["hybrid"].append((time.perf_counter() - t) * 1000)
    sweep = []
    if store.vectors.ann is not None:  # the recall/latency trade-off of the search expansion (HNSW "ef")
        index = store.vectors.ann._index
        for ef in (128, 256, 512, 1024, 2048):
            index.expansion_search = ef
            lat, rec = [], []
            for i, q in enumerate(qvecs[:60]):
                t = time.perf_counter()
                got = [c for c, _ in store.vectors.search(q, K)]
                lat.append((time.perf_counter() - t) * 1000)
                rec.append(len(set(got) & set(truth["exact"][i])) / K)
            sweep.append([ef, float(np.mean(rec)), percentile(lat, 50), percentile(lat, 95)])
    store.close()
    return {"open_s": open_s, "sync": sync, "times": times, "recall": float(np.mean(recall)), "rss_mb": rss_mb(),
            "sweep": sweep}


# -- orchestration ------------------------------------------------------------------------------------------
def child(args: list[str], timeout: float | None = None) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plot(points: dict[str, list[tuple[int, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=120)
    for label, pts in points.items():
        pts = sorted(pts)
        xs = [p[0] for p in pts]
        line = ax.plot(xs, [p[1] for p in pts], marker="o", label=f"{label} p50")[0]
        ax.plot(xs, [p[2] for p in pts], marker="^", linestyle="--", color=line.get_color(), alpha=0.6,
                label=f"{label} p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1e6:g}M" if x >= 1e6 else f"{x / 1e3:g}k"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda x, _: ""))
    ax.set_xlabel("chunks in the store")
    ax.set_ylabel("hybrid search latency, ms (k=10)")
    ax.set_title("Query latency vs corpus size (same machine, same data)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: no point hidden
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus_default = SHARED / "eval" / "realtimeqa-2024" / "corpus.jsonl"
    parser.add_argument("--sizes", default="10000,50000", help="chunk counts, comma-separated (1000000 works with "
                        "--backends sqlite)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"any of {', '.join(BACKENDS)}")
    parser.add_argument("--queries", type=int, default=200, help="queries per operation")
    parser.add_argument("--embed-chunks", type=int, default=48, help="chunks ingested with embedding (0: skip)")
    parser.add_argument("--ann-1m", action="store_true", help="also the SQLite store alone in ANN mode")
    parser.add_argument("--ann-size", type=int, default=1_000_000, help="chunks of the --ann-1m run")
    parser.add_argument("--ann-threshold", type=int, default=200_000, help="the store's ann_threshold there")
    parser.add_argument("--corpus", type=Path, default=corpus_default, help="JSONL corpus to sample sentences from")
    parser.add_argument("--sample", type=Path, default=SAMPLE_DIR, help="digest folder to sample sentences from")
    parser.add_argument("--real-vectors", type=Path, help="a Communique SQLite database with embedded chunks: the "
                        "--ann-1m run derives its vectors from them (RealDerived) instead of E5Like")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temporary folder)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--_child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    corpus = args.corpus if args.corpus.is_file() else None

    if args._child:
        what, *rest = args._child
        if what == "backend":
            out = measure_backend(rest[0], Path(rest[1]), Path(rest[2]))
        elif what == "embed":
            out = measure_embedding(Path(rest[0]), Path(rest[1]), int(rest[2]), rest[3].split(","))
        elif what == "ann-build":
            out = ann_build(Path(rest[0]), int(rest[1]), args.seed, args.sample, corpus, args.queries,
                            args.ann_threshold, args.real_vectors)
        else:
            out = ann_serve(Path(rest[0]), rest[1] == "exact", args.ann_threshold)
        print(json.dumps(out, default=str))
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    backends = [b for b in args.backends.split(",") if b]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="communique-bench-backends-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report("bench_backends", "Store backends side by side", argv)
    report.name = "backends"
    rng = random.Random(args.seed)
    pool, sources = sentence_pool(args.sample, corpus, 60_000, rng)
    maker = Maker(pool, rng)
    report.note(f"Text: {len(pool)} real sentences from {args.sample}{f' and {corpus}' if corpus else ''}, "
                f"replicated and perturbed into articles; vectors `E5Like` (see the script's docstring); "
                f"{args.queries} queries; k={K}; OPENBLAS_NUM_THREADS=1 in the measuring processes.")
    results: dict[tuple[str, int], dict] = {}
    points: dict[str, list[tuple[int, float, float]]] = {}
    try:
        for size in sizes:
            corpus_path = work / f"corpus-{size}.pkl"
            print(f"making a corpus of {size:,} chunks …", flush=True)
            make_corpus(corpus_path, size, maker, sources, args.seed + size, args.queries)
            for name in backends:
                (work / f"{name}-{size}").mkdir(exist_ok=True)
                print(f"  {name} …", flush=True)
                results[name, size] = child(["--_child", "backend", name, str(corpus_path),
                                             str(work / f"{name}-{size}")])
                shutil.rmtree(work / f"{name}-{size}", ignore_errors=True)
        if results:
            report_backends(report, results, sizes, backends, points)
        if args.embed_chunks and sizes:
            print("ingest with embedding …", flush=True)
            (work / "embed").mkdir(exist_ok=True)
            emb = child(["--_child", "embed", str(work / f"corpus-{sizes[0]}.pkl"), str(work / "embed"),
                         str(args.embed_chunks), ",".join(backends)])
            report.section(
                f"Ingest with embedding included ({emb['chunks']} chunks, `default_embedder()`, batches of 64)",
                table(["backend", "seconds", "chunks/s"],
                      [[LABELS[n], f"{s:.1f}", f"{emb['chunks'] / s:.2f}"] for n, s in emb["backends"].items()])
                + f"\n\nModel load before timing: {emb['model_load_s']:.1f} s. The embedding dominates: the store "
                "is a rounding error next to the model on 2 cores.")
        if args.ann_1m:
            (work / "ann").mkdir(exist_ok=True)
            print(f"ANN run at {args.ann_size:,} chunks …", flush=True)
            extra = ["--seed", str(args.seed), "--queries", str(args.queries), "--sample", str(args.sample),
                     "--corpus", str(args.corpus), "--ann-threshold", str(args.ann_threshold)]
            if args.real_vectors:
                extra += ["--real-vectors", str(args.real_vectors.resolve())]
            built = child(["--_child", "ann-build", str(work / "ann"), str(args.ann_size), *extra])
            served = child(["--_child", "ann-serve", str(work / "ann"), "ann", *extra])
            exact = child(["--_child", "ann-serve", str(work / "ann"), "exact", *extra])
            report_ann(report, built, served, exact, args.queries)
            t = served["times"]["hybrid"]
            points.setdefault(LABELS["sqlite"] + " (ANN)", []).append(
                (args.ann_size, percentile(t, 50), percentile(t, 95)))
            t = exact["times"]["hybrid"]
            points.setdefault(LABELS["sqlite"] + " (exact)", []).append(
                (args.ann_size, percentile(t, 50), percentile(t, 95)))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if points and not args.no_plot:
        plot(points, PLOT)
        report.note(f"Plot: `{PLOT.relative_to(REPO)}`.")
    report.save()


def report_backends(report: Report, results: dict, sizes: list[int], backends: list[str], points: dict) -> None:
    rows, lat_rows, ratio_rows = [], [], []
    for size in sizes:
        for name in backends:
            r = results[name, size]
            rows.append([f"{size:,}", LABELS[name], f"{r['chunks'] / r['ingest_s']:,.0f}",
                         f"{r['chunks'] / r['text_s']:,.0f}", f"{r['ingest_s']:.1f}", f"{r['disk_mb']:.0f}",
                         f"{r['rss_mb']:.0f}"])
            for op, t in r["times"].items():
                extra = f"{r['recall']:.3f}" if op == "dense" else ""
                if op == "hybrid" and name != "sqlite" and ("sqlite", size) in results:
                    mine = results["sqlite", size]["hybrid"]
                    extra = "overlap with SQLite {:.2f}".format(np.mean(
                        [len(set(a) & set(b)) / K for a, b in zip(r["hybrid"], mine, strict=True)]))
                lat_rows.append([f"{size:,}", LABELS[name], op, f"{percentile(t, 50):.1f}",
                                 f"{percentile(t, 95):.1f}", extra])
            t = r["times"]["hybrid"]
            points.setdefault(LABELS[name], []).append((size, percentile(t, 50), percentile(t, 95)))
        if ("sqlite", size) in results and ("milvus", size) in results:
            s, m = results["sqlite", size], results["milvus", size]
            for op in ("hybrid", "hybrid + date filter"):
                ratio = percentile(m["times"][op], 50) / percentile(s["times"][op], 50)
                ratio_rows.append([f"{size:,}", op, f"{percentile(s['times'][op], 50):.1f}",
                                   f"{percentile(m['times'][op], 50):.1f}", f"{ratio:.1f}×",
                                   f"{s['recall']:.3f} / {m['recall']:.3f}", yes(ratio >= SPEEDUP_TARGET)])
    report.section("Ingest, disk and memory (embedding excluded: precomputed vectors)",
                   table(["chunks", "backend", "ingest chunks/s", "text only chunks/s", "ingest s", "disk MiB",
                          "peak RSS MiB"], rows)
                   + "\n\nIngest = every article with its chunks, then every vector, until searchable (Milvus Lite's "
                   "flush, LanceDB's full-text index included). LanceDB gets whole rows at once (text, metadata and "
                   "vector in one table, no dedup, no article table), so its text-only rate is just list building. "
                   "Peak RSS is the measuring process's (one per backend and size), build included.")
    report.section(f"Search latency (ms, {len(next(iter(results.values()))['times']['hybrid'])} queries, interleaved)",
                   table(["chunks", "backend", "operation", "p50", "p95", "dense recall@10 vs exact / note"],
                         lat_rows)
                   + "\n\nhybrid: BM25 + dense fused by RRF, k=10 (SQLite: `hybrid_search`, per-article cap 2; "
                   "Milvus: `MilvusStore.hybrid`; LanceDB: `query_type=\"hybrid\"` + `RRFReranker`). The date filter "
                   "is a random 60-day window of two years. dense: the backend's vector search alone, k=10, recall "
                   "against numpy's exact top 10 on the same vectors (SQLite below `ann_threshold` and Milvus Lite's "
                   "FLAT index are exact by design; LanceDB without a vector index scans).")
    if ratio_rows:
        report.section(f"SQLite vs Milvus Lite (target: SQLite ≥ {SPEEDUP_TARGET:.0f}× faster at equal recall)",
                       table(["chunks", "operation", "SQLite p50 ms", "Milvus Lite p50 ms", "Milvus / SQLite",
                              "dense recall@10 SQLite / Milvus", f"≥ {SPEEDUP_TARGET:.0f}×"], ratio_rows))


def report_ann(report: Report, built: dict, served: dict, exact: dict, queries: int) -> None:
    size = built["chunks"]
    report.section(
        f"SQLite store alone at {size:,} chunks: ANN (usearch HNSW, float16) vs exact",
        table(["", "value"], [
            ["articles / chunks", f"{built['articles']:,} / {size:,}"],
            ["write text (s) / vectors (s)", f"{built['text_s']:.0f} / {built['vectors_s']:.0f}"],
            ["ANN index build from the database (s)", f"{built['build_s']:.0f}"],
            ["database MiB / `.usearch` MiB", f"{built['db_mb']:.0f} / {built['index_mb']:.0f}"],
            ["restart: open + load saved index (s)", f"{served['open_s']:.1f} (loaded: {served['sync']['loaded']}, "
                                                    f"added {served['sync']['added']})"],
            ["restart, exact mode: load float32 matrix (s)", f"{exact['open_s']:.1f}"],
        ])
        + "\n\n"
        + table(["operation", "ANN p50", "ANN p95", "exact p50", "exact p95"], [
            [op, f"{percentile(served['times'][op], 50):.1f}", f"{percentile(served['times'][op], 95):.1f}",
             f"{percentile(exact['times'][op], 50):.1f}", f"{percentile(exact['times'][op], 95):.1f}"]
            for op in served["times"]])
        + "\n\n"
        + table(["", "ANN", "exact", "target"], [
            ["recall@10 vs exact", f"{served['recall']:.3f}", f"{exact['recall']:.3f}",
             f"≥ {ANN_RECALL_TARGET} {yes(served['recall'] >= ANN_RECALL_TARGET)}"],
            ["vector search p95 ms", f"{percentile(served['times']['vector index (ids)'], 95):.1f}",
             f"{percentile(exact['times']['vector index (ids)'], 95):.1f}",
             f"< {ANN_P95_TARGET_MS:.0f} "
             f"{yes(percentile(served['times']['vector index (ids)'], 95) < ANN_P95_TARGET_MS)}"],
            ["peak RSS MiB (search process)", f"{served['rss_mb']:.0f}", f"{exact['rss_mb']:.0f}", ""],
        ])
        + f"\n\nRecall against search expansion (60 queries; the store uses {EXPANSION_SEARCH}):\n\n"
        + table(["expansion_search", "recall@10", "p50 ms", "p95 ms"],
                [[ef, f"{r:.3f}", f"{a:.1f}", f"{b:.1f}"] for ef, r, a, b in served["sweep"]])
        + (f"\n\nVectors `RealDerived` from real e5 embeddings, {queries} real e5 query embeddings of questions made "
           "from real chunks" if built.get("vectors") == "RealDerived" else
           f"\n\nVectors `E5Like`, {queries} queries near the centre of a random stored article")
        + " (see the script's docstring), k=10; ms. "
        "'vector index (ids)' is `VectorIndex.search` alone; 'search_vector (hits)' adds the SQL that makes "
        "hits, at depth 40 as hybrid search asks; 'hybrid' is `hybrid_search` with the query vector. Each column "
        "is a fresh process opening the same database: the ANN one loads `<db>.usearch`, the exact one "
        "(ann_threshold raised) loads the float32 matrix.")


if __name__ == "__main__":
    main()
