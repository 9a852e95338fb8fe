"""Search latency at scale: BM25, exact dense, hybrid and hybrid with a date filter over a synthetic corpus.

The corpus is made here, fast: sentences sampled from the in-repo sample digests and (when present) a
JSONL corpus, perturbed (words swapped, replaced, numbers changed), assembled into articles with
random dates and sources, chunked by the library's own chunker and written with `store.write`; each
chunk gets a random unit vector (384-d) through `store.write_vectors` instead of a real embedding.
Queries are 4-10 word questions made of corpus words; dense and hybrid searches get a random query
vector, so no embedding time is measured, only the store and the fusion.

The latencies are measured in a fresh child process per size, so its peak RSS is that of a process
that opens the store and serves searches (vector matrix loaded), not of the corpus build.

    python benchmarks/bench_search.py                       # 10k and 100k chunks, 200 queries
    python benchmarks/bench_search.py --sizes 300000 --queries 500 --workdir /tmp/bench-search
    python benchmarks/bench_search.py --sizes 100000 --profile text   # cProfile of one operation
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from benchlib import SAMPLE_DIR, SHARED, Report, file_size_mb, peak_rss_mb, percentile, table, yes

DIM = 384
HYBRID_P95_TARGET_MS = 50.0
TARGET_SIZE = 100_000
OPS = ("search_text (BM25)", "search_vector (exact)", "hybrid", "hybrid + date filter")
_QUESTION_STARTS = ["What did", "Why did", "How many", "When did", "Which", "Who", "What is", "Where did",
                    "How did", "What happened to", "Why is", "What will"]
_SENTENCE_WORDS = re.compile(r"\S+")


# -- the synthetic corpus ---------------------------------------------------------------------------------
def sentence_pool(sample_dir: Path, corpus: Path | None, max_sentences: int, rng: random.Random) -> tuple[
        list[str], list[str]]:
    """Sentences of 6-60 words from the sample digests and the JSONL corpus, and the corpus's sources."""
    from communique.text import split_sentences

    texts: list[str] = [p.read_text(encoding="utf-8") for p in sorted(sample_dir.glob("*.txt"))]
    sources: set[str] = set()
    if corpus is not None and corpus.is_file():
        with corpus.open(encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    texts.append(str(record.get("text") or ""))
                    if record.get("source"):
                        sources.add(str(record["source"]))
    pool: list[str] = []
    for text in texts:
        for s in split_sentences(text):
            n = len(s.split())
            if 6 <= n <= 60:
                pool.append(" ".join(s.split()))
    rng.shuffle(pool)
    sources_list = sorted(sources)[:50] or [f"source-{i}.example" for i in range(20)]
    return pool[:max_sentences], sources_list


class Maker:
    """Makes perturbed sentences, articles and questions from a sentence pool."""

    def __init__(self, pool: list[str], rng: random.Random) -> None:
        self.pool, self.rng = pool, rng
        self.vocab = sorted({w for s in pool[:20_000] for w in s.split() if w.isalpha() and len(w) > 2})

    def sentence(self) -> str:
        words = self.rng.choice(self.pool).split()
        r = self.rng.random
        if r() < 0.5:  # swap two words
            i, j = self.rng.randrange(len(words)), self.rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
        for _ in range(self.rng.randint(0, 3)):  # replace a few words by corpus words
            words[self.rng.randrange(len(words))] = self.rng.choice(self.vocab)
        if r() < 0.5:  # change the numbers
            words = [str(self.rng.randint(2, 9999)) if w.isdigit() else w for w in words]
        s = " ".join(words)
        return s[0].upper() + s[1:] if s[0].islower() else s

    def article(self, n: int, day0: date, days: int, sources: list[str]):
        from communique.models import Article

        paragraphs = [" ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))
                      for _ in range(self.rng.randint(2, 16))]
        title = " ".join(self.sentence().split()[: self.rng.randint(6, 12)]).rstrip(".,;:")
        return Article(title=title, text="\n\n".join(paragraphs), url=f"https://news.example/{n}",
                       published=day0 + timedelta(days=self.rng.randrange(days)),
                       source=self.rng.choice(sources), language="en", id=f"syn-{n}")

    def question(self) -> str:
        from communique.text import STOPWORDS

        for _ in range(100):
            content = [w.strip(".,;:!?\"'()“”‘’") for w in self.rng.choice(self.pool).split()]
            content = [w for w in content if len(w) > 2 and w.lower() not in STOPWORDS and w.isalpha()]
            if len(content) < 3:
                continue
            start = self.rng.choice(_QUESTION_STARTS)
            room = 10 - len(start.split())
            take = min(len(content), self.rng.randint(max(2, 4 - len(start.split())), room))
            first = self.rng.randrange(len(content) - take + 1)
            return f"{start} {' '.join(content[first:first + take])}?"
        return "What happened in the news this year?"


def build(db: Path, size: int, maker: Maker, sources: list[str], seed: int) -> dict:
    """Write articles until `size` chunks are stored, then one random unit vector per chunk."""
    from communique.config import Settings
    from communique.ingest import prepare
    from communique.ingest.chunker import chunk_article
    from communique.service import Communique

    svc = Communique(Settings(db=db))
    store, chunk_tokens = svc.store, svc.settings.chunk_tokens
    day0, days = date(2024, 1, 1), 730
    t0 = time.perf_counter()
    chunks = articles = 0
    while chunks < size:
        article = prepare(maker.article(articles, day0, days, sources))
        parts = chunk_article(article, chunk_tokens)[: size - chunks]
        store.write(article, parts)
        chunks += len(parts)
        articles += 1
    t_text = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    while True:
        pending = store.pending_vectors(20_000)
        if not pending:
            break
        vecs = rng.standard_normal((len(pending), DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.write_vectors([cid for cid, _ in pending], vecs)
    t_vec = time.perf_counter() - t0 - t_text
    stats = svc.stats()
    svc.close()
    return {"articles": stats.articles, "chunks": stats.chunks, "text_s": t_text, "vectors_s": t_vec,
            "day0": day0.isoformat(), "days": days}


# -- the measurement (runs in a child process) -------------------------------------------------------------
def measure(db: Path, spec_path: Path, profile: str | None) -> dict:
    from communique.config import Settings
    from communique.models import Filters
    from communique.retrieve import hybrid_search
    from communique.service import Communique

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    k, depth = spec["k"], max(4 * spec["k"], 40)
    queries = spec["queries"]
    rng = np.random.default_rng(spec["seed"])
    vectors = rng.standard_normal((len(queries), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    windows = [Filters(since=date.fromisoformat(a), until=date.fromisoformat(b)) for a, b in spec["windows"]]

    svc = Communique(Settings(db=db))
    store, per_article = svc.store, svc.settings.per_article
    ops = {
        OPS[0]: lambda i: store.search_text(queries[i], depth),
        OPS[1]: lambda i: store.search_vector(vectors[i], depth),
        OPS[2]: lambda i: hybrid_search(store, None, queries[i], k, per_article=per_article,
                                        query_vector=vectors[i]),
        OPS[3]: lambda i: hybrid_search(store, None, queries[i], k, filters=windows[i], per_article=per_article,
                                        query_vector=vectors[i]),
    }
    cold = {}
    for name in (OPS[0], OPS[1]):  # first calls: page cache, FTS structures, the vector matrix load
        t0 = time.perf_counter()
        ops[name](0)
        cold[name] = (time.perf_counter() - t0) * 1000
    for i in range(min(5, len(queries))):  # warm-up, not timed
        for op in ops.values():
            op(i)
    if profile:
        import cProfile
        import io
        import pstats

        name = {"text": OPS[0], "vector": OPS[1], "hybrid": OPS[2], "hybrid_date": OPS[3]}[profile]
        prof = cProfile.Profile()
        prof.enable()
        for i in range(len(queries)):
            ops[name](i)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
        return {"profile": out.getvalue(), "op": name}
    times: dict[str, list[float]] = {name: [] for name in ops}
    hits: dict[str, int] = dict.fromkeys(ops, 0)
    names = list(ops)
    for i in range(len(queries)):
        for j in range(len(names)):  # rotate the order so no operation always runs first
            name = names[(i + j) % len(names)]
            t0 = time.perf_counter()
            found = ops[name](i)
            times[name].append((time.perf_counter() - t0) * 1000)
            hits[name] += len(found)
    return {"times": times, "hits": hits, "cold_ms": cold, "peak_rss_mb": peak_rss_mb(), "k": k, "depth": depth}


def run_child(db: Path, spec: Path, profile: str | None, blas_threads: int | None = None) -> dict:
    """Measure in a fresh process; `blas_threads` sets OPENBLAS_NUM_THREADS there (None: numpy's default)."""
    cmd = [sys.executable, __file__, "--_measure", str(db), "--_spec", str(spec)]
    if profile:
        cmd += ["--profile", profile]
    env = dict(os.environ)
    if blas_threads:
        env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"measurement failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus_default = SHARED / "eval" / "realtimeqa-2024" / "corpus.jsonl"
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="queries per operation")
    parser.add_argument("--k", type=int, default=10, help="hits of a hybrid search (the components fetch max(4k, 40))")
    parser.add_argument("--corpus", type=Path, default=corpus_default,
                        help=f"JSONL corpus to sample sentences from, besides --sample (default {corpus_default})")
    parser.add_argument("--sample", type=Path, default=SAMPLE_DIR, help="digest folder to sample sentences from")
    parser.add_argument("--max-sentences", type=int, default=60_000, help="size of the sentence pool")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the databases here")
    parser.add_argument("--no-blas-compare", action="store_true",
                        help="skip the second measurement with OPENBLAS_NUM_THREADS=1")
    parser.add_argument("--profile", choices=["text", "vector", "hybrid", "hybrid_date"],
                        help="print a cProfile of this operation instead of the latency table")
    parser.add_argument("--_measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--_spec", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._measure:
        print(json.dumps(measure(args._measure, args._spec, args.profile)))
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    corpus = args.corpus if args.corpus.is_file() else None
    pool, sources = sentence_pool(args.sample, corpus, args.max_sentences, rng)
    if len(pool) < 50:
        print(f"SKIP: too few sentences to make a corpus from ({args.sample}, {args.corpus}).")
        return
    maker = Maker(pool, rng)
    pool_s = time.perf_counter() - t0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="communique-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report("bench_search" + (f"-profile-{args.profile}" if args.profile else ""), "Search benchmark", argv)
    report.note(f"Sentence pool: {len(pool)} sentences from {args.sample}"
                f"{f' and {corpus}' if corpus else ''} ({pool_s:.1f} s); {len(sources)} sources.")
    latency_rows, size_rows, blas_rows = [], [], []
    try:
        for size in sizes:
            db = work / f"synthetic-{size}.db"
            meta_path = work / f"synthetic-{size}.json"
            if db.exists() and meta_path.exists():
                built = json.loads(meta_path.read_text(encoding="utf-8"))
                print(f"reusing {db}")
            else:
                print(f"building {size} chunks in {db} …", flush=True)
                built = build(db, size, maker, sources, args.seed)
                meta_path.write_text(json.dumps(built), encoding="utf-8")
            day0, days = date.fromisoformat(built["day0"]), built["days"]
            qrng = random.Random(args.seed + size)
            queries = [maker.question() for _ in range(args.queries)]
            windows = []
            for _ in queries:
                since = day0 + timedelta(days=qrng.randrange(days - 60))
                windows.append((since.isoformat(), (since + timedelta(days=59)).isoformat()))
            spec = work / f"spec-{size}.json"
            spec.write_text(json.dumps({"queries": queries, "windows": windows, "k": args.k, "seed": args.seed}),
                            encoding="utf-8")
            result = run_child(db, spec, args.profile)
            if args.profile:
                report.section(f"cProfile of {result['op']} × {args.queries} at {size:,} chunks (by own time)",
                               "```\n" + result["profile"].strip() + "\n```")
                continue
            for name in OPS:
                t = result["times"][name]
                met = ""
                if name.startswith("hybrid") and size >= TARGET_SIZE:
                    met = yes(percentile(t, 95) < HYBRID_P95_TARGET_MS)
                latency_rows.append([f"{size:,}", name, f"{percentile(t, 50):.1f}", f"{percentile(t, 95):.1f}",
                                     f"{max(t):.1f}", f"{result['hits'][name] / len(t):.1f}", met])
            size_rows.append([f"{size:,}", built["articles"], built["chunks"], f"{built['text_s']:.0f}",
                              f"{built['vectors_s']:.0f}", f"{file_size_mb(db):.0f}",
                              f"{result['peak_rss_mb']:.0f}", f"{result['cold_ms'][OPS[0]]:.0f}",
                              f"{result['cold_ms'][OPS[1]]:.0f}"])
            if not args.no_blas_compare:
                single = run_child(db, spec, None, blas_threads=1)
                for name in OPS:
                    a, b = result["times"][name], single["times"][name]
                    blas_rows.append([f"{size:,}", name, f"{percentile(a, 50):.1f}", f"{percentile(b, 50):.1f}",
                                      f"{percentile(a, 95):.1f}", f"{percentile(b, 95):.1f}",
                                      f"{percentile(a, 50) / percentile(b, 50):.2f}"])
            print(f"  measured {size:,} chunks", flush=True)
        if latency_rows:
            k, depth = args.k, max(4 * args.k, 40)
            report.section(
                f"Latency over {args.queries} queries (ms), measured interleaved in one warm process",
                table(["chunks", "operation", "p50", "p95", "max", "hits/query",
                       f"hybrid p95 < {HYBRID_P95_TARGET_MS:.0f} ms at ≥{TARGET_SIZE // 1000}k"], latency_rows)
                + f"\n\nsearch_text and search_vector fetch {depth} hits (the depth hybrid_search uses for k={k});"
                f" hybrid returns k={k} (per-article cap from settings), query vector given (no embedding timed)."
                " The date filter is a random 60-day window of the corpus's two years (~8% of articles).",
            )
            report.section(
                "Corpus, memory and cold start",
                table(["chunks", "articles", "chunks stored", "build text s", "build vectors s", "db MiB",
                       "peak RSS MiB (search process)", "first search_text ms",
                       "first search_vector ms (loads matrix)"],
                      size_rows),
            )
        if blas_rows:
            report.section(
                "Same queries with numpy's BLAS on one thread (OPENBLAS_NUM_THREADS=1), measured just after",
                table(["chunks", "operation", "p50 default", "p50 1 thread", "p95 default", "p95 1 thread",
                       "p50 default / 1 thread"], blas_rows)
                + "\n\nThe dense search is one matrix-vector product (`VectorIndex.search`); on a small, busy"
                " machine OpenBLAS's threads can cost more than they save. Measured in two processes one after"
                " the other, so load changes between them count too.",
            )
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    report.save()


if __name__ == "__main__":
    main()
