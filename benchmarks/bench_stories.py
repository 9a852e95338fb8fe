"""Story grouping benchmark: what grouping adds to ingest per 1,000 articles, side by side with ingest without it.

The in-repo sample articles (30) are annotated once with spaCy, then ingested keyword-only as distinct articles (a
new title and URL each, the same text and annotations, dates spread over a year so each 30-day window holds a
realistic crowd) into fresh databases, with grouping and with it switched off (`group_article` and
`regroup_embedded` made no-ops), in alternating rounds. Then each database receives a vector for every chunk
(random unit vectors: the embedder's own cost is the same either way and far larger), which is where a
provisional decision is made again with vectors. Wall and CPU seconds per 1,000 articles, medians.

    python benchmarks/bench_stories.py                  # ~1-2 min on 2 idle cores
    python benchmarks/bench_stories.py --articles 300 --rounds 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench_entities import sample_articles
from benchlib import SAMPLE_DIR, Report, table


def items(articles: list, n: int, round_no: int) -> list:
    from communique.ingest.items import Item
    from communique.models import Article

    out = []
    for i in range(n):
        a = articles[i % len(articles)]
        day = a.published + timedelta(days=(i * 7) % 365) if a.published else None
        out.append(Item(f"copy{i}", Article(
            title=f"{a.title} ({round_no}.{i})", text=a.text, url=f"https://bench.example/{round_no}/{i}",
            published=day, source=a.source, language=a.language, annotations=a.annotations)))
    return out


def run_once(batch: list, grouping: bool, db: Path) -> tuple[float, float, float, float, int]:
    """(text wall, text CPU, vectors wall, vectors CPU, stories) for one fresh database."""
    from communique.ingest import ingest_items
    from communique.store import stories
    from communique.store.sqlite import SQLiteStore

    saved = stories.group_article, stories.regroup_embedded
    if not grouping:
        stories.group_article = lambda conn, rowid, model=None: None
        stories.regroup_embedded = lambda conn, chunk_ids: 0
    store = SQLiteStore(db)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        report = ingest_items(batch, store)
        text = time.perf_counter() - t0, time.process_time() - c0
        assert report.ok and len(report.added) == len(batch), report.failed[:3]
        rng = np.random.default_rng(7)
        t0, c0 = time.perf_counter(), time.process_time()
        while pending := store.pending_vectors(256):
            vectors = rng.standard_normal((len(pending), 384)).astype(np.float32)
            store.write_vectors([cid for cid, _ in pending], vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        vecs = time.perf_counter() - t0, time.process_time() - c0
        n_stories = store._conn().execute("SELECT count(*) FROM stories").fetchone()[0]
    finally:
        stories.group_article, stories.regroup_embedded = saved
        store.close()
    return (*text, *vecs, n_stories)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    articles, _ = sample_articles(SAMPLE_DIR)
    runs: dict[bool, list[tuple]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for grouping in ((True, False) if r % 2 == 0 else (False, True)):
                runs[grouping].append(run_once(items(articles, args.articles, r), grouping,
                                               Path(tmp) / f"r{r}-{int(grouping)}.db"))
    per_k = 1000 / args.articles

    def med(grouping: bool, i: int) -> float:
        values = sorted(run[i] for run in runs[grouping])
        return values[len(values) // 2] * per_k

    rows = [[label, *(f"{med(g, i):.2f}" for i in range(4))]
            for label, g in (("without grouping", False), ("with grouping", True))]
    rows.append(["**grouping's cost**", *(f"**{med(True, i) - med(False, i):.2f}**" for i in range(4))])
    report = Report("bench_stories", "Story grouping: its cost at ingest")
    report.section(
        f"Story grouping per 1,000 articles ({args.articles} articles a run, median of {args.rounds} runs each)",
        table(["store writes", "text wall s", "text CPU s", "vectors wall s", "vectors CPU s"], rows)
        + f"\n\n{runs[True][0][4]} stories from {args.articles} articles.")
    report.save()


if __name__ == "__main__":
    main()
