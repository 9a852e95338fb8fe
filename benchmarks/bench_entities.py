"""Entity index benchmark: what the index adds to ingest per 1,000 articles, and what its reads cost when large.

a) Ingest cost. The in-repo sample articles (30, `--sample`) are annotated once with spaCy, then ingested
   keyword-only again and again as distinct articles (a new title and URL each time, the same text, so the
   stored annotations apply and no NLP runs) into fresh databases, with the entity index and without it (the
   store's `_index_entities` made a no-op), in alternating rounds so that the machine's load hits both alike.
   Reports wall and CPU seconds per 1,000 articles for each, the difference (the index's cost), and for scale
   spaCy's own annotation time per 1,000 of the same articles, which a real keyword-only ingest also pays.
b) Reads on a large archive. A synthetic index of `--large` articles (default 100,000) is written straight into
   SQLite: each article names 8-20 of `--entities` entities (default 150,000, a third of them with a second
   spelling) drawn from a Zipf-like law, plus one entity named by half of all articles, over two years of dates.
   Each read the API makes is timed (CPU seconds, the most of 3 runs) on the most named entity, where the work is
   largest, and searches on names that match many entities or all of them.

    python benchmarks/bench_entities.py                     # ~2-4 min on 2 idle cores
    python benchmarks/bench_entities.py --articles 300 --large 0
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from benchlib import SAMPLE_DIR, Report, table


def sample_articles(folder: Path) -> tuple[list, tuple[float, float]]:
    """The sample digests' articles with their annotations made once, and (wall s, CPU s) of making them: the
    NLP cost is measured apart."""
    from communique.ingest import ReadOptions, prepare, read_sources
    from communique.nlp import annotate, pipeline

    articles = [prepare(item.article) for item in read_sources([str(folder)], ReadOptions(), None)
                if item.article is not None]
    pipeline("en")  # the model's load is no per-article cost
    t0, c0 = time.perf_counter(), time.process_time()
    for a in articles:
        a.annotations = annotate(a.text, a.language, a.published)
    return articles, (time.perf_counter() - t0, time.process_time() - c0)


def copies(articles: list, n: int, round_no: int) -> list:
    """`n` distinct articles made of the sample's texts and annotations (new title and URL each)."""
    from communique.ingest.items import Item
    from communique.models import Article

    out = []
    for i in range(n):
        a = articles[i % len(articles)]
        out.append(Item(f"copy{i}", Article(
            title=f"{a.title} ({round_no}.{i})", text=a.text, url=f"https://bench.example/{round_no}/{i}",
            published=a.published, source=a.source, language=a.language, annotations=a.annotations)))
    return out


def ingest_once(items: list, with_index: bool, workdir: Path, name: str) -> tuple[float, float, int]:
    """(wall s, CPU s, mentions) of ingesting `items` keyword-only into a fresh database."""
    from communique.ingest import ingest_items
    from communique.store.sqlite import SQLiteStore

    store = SQLiteStore(workdir / f"{name}.db")
    original = SQLiteStore.__dict__["_index_entities"]  # the staticmethod itself, to put back as it was
    if not with_index:
        SQLiteStore._index_entities = staticmethod(lambda conn, rowid: None)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        report = ingest_items(items, store)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert report.ok and len(report.added) == len(items), report.failed[:3]
        mentions = store._conn().execute("SELECT count(*) FROM entity_mentions").fetchone()[0]
    finally:
        SQLiteStore._index_entities = original
        store.close()
    return wall, cpu, mentions


def ingest_cost(report: Report, folder: Path, n: int, rounds: int, workdir: Path) -> None:
    articles, (nlp_wall, nlp_cpu) = sample_articles(folder)
    per_k = 1000 / n
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    mentions = 0
    for r in range(rounds):
        for with_index in ((True, False) if r % 2 == 0 else (False, True)):
            wall, cpu, m = ingest_once(copies(articles, n, r), with_index, workdir, f"r{r}-{int(with_index)}")
            runs[with_index].append((wall, cpu))
            mentions = max(mentions, m)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    rows = []
    for label, with_index in (("without the entity index", False), ("with the entity index", True)):
        rows.append([label, f"{median([w for w, _ in runs[with_index]]) * per_k:.2f}",
                     f"{median([c for _, c in runs[with_index]]) * per_k:.2f}"])
    wall_delta = (median([w for w, _ in runs[True]]) - median([w for w, _ in runs[False]])) * per_k
    cpu_delta = (median([c for _, c in runs[True]]) - median([c for _, c in runs[False]])) * per_k
    rows.append(["**the index's cost**", f"**{wall_delta:.2f}**", f"**{cpu_delta:.2f}**"])
    rows.append(["(spaCy annotation of the same articles, for scale)", f"{nlp_wall * 1000 / len(articles):.1f}",
                 f"{nlp_cpu * 1000 / len(articles):.1f}"])
    base = median([w for w, _ in runs[False]]) * per_k
    report.section(
        f"a) Ingest cost per 1,000 articles (keyword-only, {n} articles a run, median of {rounds} runs each)",
        table(["store writes", "wall s / 1,000", "CPU s / 1,000"], rows)
        + f"\n\n{mentions / n:.1f} mentions an article. The index adds {wall_delta / max(base, 1e-9):.0%} to the "
        f"store's writes and {wall_delta / (base + nlp_wall * 1000 / len(articles)):.1%} to a keyword-only ingest "
        "that runs spaCy (embedding, when on, costs far more than either).",
    )


# -- b) reads on a large archive ------------------------------------------------------------------------
def build_large(db: Path, n_articles: int, n_entities: int, seed: int = 7) -> int:
    """A synthetic archive's articles and entity index, written straight into SQLite; returns the hot entity."""
    from itertools import accumulate

    from communique.store.sqlite import SQLiteStore

    SQLiteStore(db).close()  # the schema
    rng = random.Random(seed)
    kinds = ["country", "gpe", "org", "person"]
    cumulative = list(accumulate(1 / (i + 1) ** 0.9 for i in range(n_entities)))
    entity_ids = range(1, n_entities + 1)
    start = date(2025, 1, 1)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        conn.executemany("INSERT INTO entities (id, key, type, name, name_key) VALUES (?,?,?,?,?)",
                         [(i + 1, f"e{i}", kinds[i % 4], f"Entity {i} {w}", f"entity {i} {w}")
                          for i in range(n_entities) for w in [rng.choice(["alpha", "korea", "nord", "lab"])]])
        conn.executemany("INSERT INTO entity_aliases (id, entity_id, alias, alias_key, type, full, mentions)"
                         " VALUES (?,?,?,?,?,1,0)", [(i + 1, i + 1, f"Entity {i}", f"entity {i}", kinds[i % 4])
                                                     for i in range(n_entities)])
        hot = n_entities + 1
        conn.execute("INSERT INTO entities (id, key, type, name, name_key) VALUES (?, 'hot', 'country', 'Hotland',"
                     " 'hotland')", (hot,))
        conn.execute("INSERT INTO entity_aliases (id, entity_id, alias, alias_key, type, full, mentions)"
                     " VALUES (?, ?, 'Hotland', 'hotland', 'country', 1, 0)", (hot, hot))
        conn.executemany("INSERT INTO entity_aliases (entity_id, alias, alias_key, type, full, mentions)"
                         " VALUES (?,?,?,?,1,0)", [(i + 1, f"ENTITY-{i}", f"entity {i}", kinds[i % 4])
                                                   for i in range(0, n_entities, 3)])
        batch_a, batch_m = [], []
        for rowid in range(1, n_articles + 1):
            day = start + timedelta(days=rng.randrange(730))
            batch_a.append((rowid, f"a{rowid}", f"Article {rowid}", "text", f"https://x.example/{rowid}",
                            day.isoformat(), day.toordinal(), f"h{rowid}"))
            named = set(rng.choices(entity_ids, cum_weights=cumulative, k=rng.randint(8, 20)))
            if rowid % 2 == 0:
                named.add(hot)
            for sentence, e in enumerate(named):  # every third entity is written its second way half the time
                second = (e - 1) % 3 == 0 and e != hot and rng.random() < 0.5
                alias = n_entities + 2 + (e - 1) // 3 if second else e
                batch_m.append((e, alias, rowid, sentence, day.toordinal()))
            if len(batch_a) >= 5000:
                flush(conn, batch_a, batch_m)
        flush(conn, batch_a, batch_m)
        conn.execute("UPDATE entities SET articles = (SELECT count(DISTINCT article_rowid) FROM entity_mentions m"
                     " WHERE m.entity_id = entities.id), mentions = (SELECT count(*) FROM entity_mentions m"
                     " WHERE m.entity_id = entities.id)")
        conn.execute("CREATE TEMP TABLE per_alias AS SELECT alias_id AS id, count(*) AS n FROM entity_mentions"
                     " GROUP BY alias_id")
        conn.execute("CREATE UNIQUE INDEX temp.per_alias_id ON per_alias(id)")
        conn.execute("UPDATE entity_aliases SET mentions = coalesce((SELECT n FROM per_alias p"
                     " WHERE p.id = entity_aliases.id), 0)")
        conn.execute("DELETE FROM entity_aliases WHERE mentions = 0")
        conn.execute("DELETE FROM entities WHERE articles = 0")
        conn.execute("ANALYZE")
    return hot


def flush(conn: sqlite3.Connection, articles: list, mentions: list) -> None:
    conn.executemany("INSERT INTO articles (rowid, id, title, text, url, published, published_day, content_hash)"
                     " VALUES (?,?,?,?,?,?,?,?)", articles)
    conn.executemany("INSERT INTO entity_mentions (entity_id, alias_id, article_rowid, sentence, published_day)"
                     " VALUES (?,?,?,?,?)", mentions)
    articles.clear()
    mentions.clear()


def cpu_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The most CPU seconds of `repeat` runs (the first one reads the pages from disk)."""
    worst = 0.0
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        worst = max(worst, time.process_time() - c0)
    return worst


def large_reads(report: Report, n: int, n_entities: int, workdir: Path) -> None:
    from communique.config import Settings
    from communique.service import Communique

    db = workdir / "large.db"
    t0 = time.perf_counter()
    hot = build_large(db, n, n_entities)
    built = time.perf_counter() - t0
    svc = Communique(Settings(db=db))
    try:
        stats = svc.entity_index.counts()
        conn = svc.store._conn()
        mentions, aliases = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                             for t in ("entity_mentions", "entity_aliases"))
        reads = {
            "GET /api/entities (most written about)": lambda: svc.entities(),
            "… ?type=person": lambda: svc.entities(kind="person"),
            "… ?page=500": lambda: svc.entities(page=500),
            "… ?q=korea (substring of many)": lambda: svc.entities("korea"),
            "… ?q=entity 1234 (few)": lambda: svc.entities("entity 1234"),
            "… ?q=e (matches all)": lambda: svc.entities("e"),
            "… ?q=e&type=org&page=100": lambda: svc.entities("e", "org", 100),
            "GET /api/entities/{hot} (half the articles)": lambda: svc.entity(hot),
            "… ?order=newest": lambda: svc.entity(hot, newest_first=True),
            "… ?page=900 (deep page)": lambda: svc.entity(hot, page=900),
            "GET /api/entities/{an entity of 10 articles}": lambda: svc.entity(n_entities_with(svc, 10)),
            "article page: entities of one article": lambda: svc.article_entities("a2"),
        }
        rows = [[name, f"{cpu_of(fn) * 1000:.0f}"] for name, fn in reads.items()]
    finally:
        svc.close()
    hot_articles = n // 2
    report.section(
        f"b) Reads on a synthetic archive of {n:,} articles ({mentions:,} mentions, "
        f"{sum(stats.values()):,} entities named, {aliases:,} spellings; built in {built:.0f} s)",
        table(["read", "CPU ms (worst of 3)"], rows)
        + f"\n\nThe hot entity is named by {hot_articles:,} articles. Target: under 1,000 ms CPU for every read.",
    )


def n_entities_with(svc, articles: int) -> int:
    row = svc.store._conn().execute("SELECT id FROM entities WHERE articles >= ? ORDER BY articles LIMIT 1",
                                    (articles,)).fetchone()
    return row[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE_DIR, help="digest folder whose articles are copied")
    parser.add_argument("--articles", type=int, default=1000, help="articles ingested per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs with and without the index (alternating)")
    parser.add_argument("--large", type=int, default=100_000, help="articles of the synthetic archive (0: skip)")
    parser.add_argument("--entities", type=int, default=150_000, help="distinct entities of the synthetic archive")
    parser.add_argument("--workdir", type=Path, help="keep the databases here")
    args = parser.parse_args()
    report = Report("bench_entities", "Entity index: ingest cost and reads at scale")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        ingest_cost(report, args.sample, args.articles, args.rounds, workdir)
        if args.large:
            large_reads(report, args.large, args.entities, workdir)
    report.save()


if __name__ == "__main__":
    main()
