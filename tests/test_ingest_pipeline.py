"""The pipelined bulk ingest: text and embedding at once store exactly what one after the other stores; the embedder
takes what is stored without waiting for more; Ctrl-C and a failing embedder lose and duplicate nothing; the
progress bar shows the rate and the time left."""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from communique.cli_progress import IngestProgress
from communique.config import Settings
from communique.embed import default_embedder
from communique.ingest import ReadOptions, read_sources
from communique.ingest.pipeline import ingest_pipelined
from communique.service import Communique

pytestmark = pytest.mark.slow


def _contents(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        return {
            "articles": conn.execute("SELECT id, title, text, url, published, source, language, digest, content_hash,"
                                     " annotations FROM articles ORDER BY id").fetchall(),
            "chunks": conn.execute("SELECT a.id, c.seq, c.text, c.start, c.end, c.vec FROM chunks c JOIN articles a"
                                   " ON a.rowid = c.article_rowid ORDER BY a.id, c.seq").fetchall(),
            "fts": conn.execute("SELECT count(*) FROM chunks_fts").fetchall(),
            "mentions": conn.execute("SELECT a.id, e.key, m.sentence FROM entity_mentions m JOIN entities e ON"
                                     " e.id = m.entity_id JOIN articles a ON a.rowid = m.article_rowid"
                                     " ORDER BY 1, 2, 3").fetchall(),
            "stories": _stories(conn),
        }
    finally:
        conn.close()


def _stories(conn: sqlite3.Connection) -> list[tuple]:
    """Stories as (title, size, their articles, any still provisional): story ids depend on the order of grouping,
    which embedding while reading changes; the grouping itself must not change."""
    members: dict[int, list[str]] = {}
    provisional: dict[int, int] = {}
    rows = conn.execute("SELECT a.id, s.story_id, s.provisional FROM story_articles s"
                        " JOIN articles a ON a.rowid = s.article_rowid")
    for article_id, story_id, flag in rows:
        members.setdefault(story_id, []).append(article_id)
        provisional[story_id] = provisional.get(story_id, 0) | flag
    return sorted((title, n, tuple(sorted(members[sid])), provisional[sid])
                  for sid, title, n in conn.execute("SELECT id, title, articles FROM stories"))


class Recording:
    """The real embedder, recording each batch it is given and when, relative to the articles read."""

    def __init__(self, events: list[str], fail_after: int | None = None) -> None:
        self.inner, self.events, self.fail_after = default_embedder(), events, fail_after
        self.dim, self.batches = self.inner.dim, []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise ConnectionError("the embedding server went away")
        self.batches.append(len(texts))
        self.events.append("embed")
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


@pytest.fixture
def with_embedder(tmp_path: Path):
    """with_embedder(name, embedder, **settings) -> a Communique on a fresh SQLite file that embeds with `embedder`."""
    made: list[Communique] = []

    def make(name: str, embedder, **overrides) -> Communique:
        made.append(Communique(Settings(db=tmp_path / f"{name}.db", embed_cache=False, **overrides), embedder=embedder))
        return made[-1]

    yield make
    for svc in made:
        svc.close()


def test_pipelined_ingest_stores_exactly_what_serial_ingest_stores(sample_dir: Path, make_service,
                                                                   with_embedder) -> None:
    serial = make_service("serial", embed_cache=False)
    text_only = serial.ingest([str(sample_dir)], embed=False)
    assert serial.stats().pending > 0
    serial_embedded = serial.embed()
    events: list[str] = []
    piped = with_embedder("piped", Recording(events), embed_batch=4)
    report = piped.ingest([str(sample_dir)], on_item=lambda item, outcome: events.append("item"))
    assert report.ok and report.added == text_only.added and report.embedded == serial_embedded > 0
    assert piped.stats().pending == 0
    ours, theirs = _contents(piped.settings.db), _contents(serial.settings.db)
    assert ours["articles"] == theirs["articles"]
    assert ours["fts"] == theirs["fts"] and ours["fts"][0][0] == len(ours["chunks"])
    assert ours["chunks"] == theirs["chunks"]  # text, offsets and vectors, byte for byte
    assert all(row[-1] is not None for row in ours["chunks"])
    assert ours["mentions"] == theirs["mentions"] and ours["mentions"]
    assert ours["stories"] == theirs["stories"] and not any(story[-1] for story in ours["stories"])
    # the embedder worked while articles were still being read
    assert events.index("embed") < len(events) - 1 - events[::-1].index("item")


def test_the_embedder_takes_what_is_stored_without_waiting_for_more(sample_dir: Path, make_service) -> None:
    """The text stage stops after its first article until that article is embedded: a worker that waited for a
    full batch (64 chunks) would never start, and the ingest would fail."""
    svc = make_service("eager", embed_cache=False)
    embedder, embedded = Recording([]), threading.Event()
    items = read_sources([str(sample_dir)], ReadOptions(), None)

    def paused() -> Iterator:
        yield next(items)
        assert embedded.wait(60), "the embedder waited for more text instead of embedding what was stored"
        yield from items

    report = ingest_pipelined(paused(), svc.store, embedder, svc.settings.chunk_tokens, batch=64,
                              on_embedded=lambda n: embedded.set())
    assert report.ok and len(report.added) == 30
    assert sum(embedder.batches) == report.embedded == svc.stats().chunks and svc.stats().pending == 0
    assert max(embedder.batches) <= 64 and embedder.batches[0] < 64


def test_ctrl_c_mid_ingest_then_a_rerun_loses_and_duplicates_nothing(sample_dir: Path, make_service,
                                                                       with_embedder) -> None:
    svc = with_embedder("interrupted", Recording([]), embed_batch=3)
    read = []

    def interrupt(item, outcome) -> None:
        read.append(item)
        if len(read) == 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        svc.ingest([str(sample_dir)], on_item=interrupt)
    stats = svc.stats()
    assert stats.articles == 12 and 0 < stats.embedded <= stats.chunks  # whole articles; vectors made meanwhile
    again = svc.ingest([str(sample_dir)])
    assert len(again.unchanged) == 12 and len(again.added) == 18
    clean = make_service("clean", embed_cache=False)
    clean.ingest([str(sample_dir)])
    ours, theirs = _contents(svc.settings.db), _contents(clean.settings.db)
    assert ours == theirs and svc.stats().pending == 0


def test_a_failing_embedder_leaves_all_text_stored_and_raises(sample_dir: Path, make_service,
                                                               with_embedder) -> None:
    embedder = Recording([], fail_after=2)
    svc = with_embedder("failing", embedder, embed_batch=4)
    with pytest.raises(ConnectionError, match="went away"):
        svc.ingest([str(sample_dir)])
    stats = svc.stats()
    assert len(embedder.batches) == 2 and stats.embedded == sum(embedder.batches) > 0
    assert stats.articles == 30 and stats.pending == stats.chunks - stats.embedded > 0
    svc.close()
    later = make_service("failing", embed_cache=False)  # the same database, a working embedder
    assert later.embed() == stats.pending and later.stats().pending == 0


def test_the_progress_bar_shows_chunks_per_second_and_time_left() -> None:
    clock, out = [0.0], io.StringIO()
    console = Console(file=out, force_terminal=True, width=140)
    with IngestProgress(True, console=console, get_time=lambda: clock[0]) as progress:
        progress.start_embedding(10)  # left by an earlier run
        progress.item(None, "added")
        progress.stored(90)
        for _ in range(5):
            clock[0] += 1.0
            progress.embedded(10)
    shown = out.getvalue()
    assert "50/100" in shown and "10.0 chunks/s" in shown and "0:00:05" in shown
