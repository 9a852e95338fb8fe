"""Ingest: read articles from digests, JSONL, feeds, pages and folders; store them; embed them.

Text is written first, one atomic transaction per article, so keyword search works at once and an
interrupted run loses nothing; vectors follow in batches for whatever chunks still lack one, so running
`ingest` (or `embed`) again resumes where it stopped, with no duplicates.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from communique.embed import Embedder
from communique.ingest.chunker import chunk_article
from communique.ingest.items import Item
from communique.ingest.notes_cache import NotesCache
from communique.ingest.sources import ReadOptions, read_sources
from communique.models import Article
from communique.nlp import annotate
from communique.store.base import Store
from communique.text import clean_whitespace, detect_language, normalise_for_hash

__all__ = ["IngestReport", "ReadOptions", "embed_pending", "ingest_items", "prepare", "read_sources"]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    embedded: int = 0
    text_seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "failed": [{"origin": o, "error": e} for o, e in self.failed], "embedded": self.embedded,
        }


def article_id(article: Article) -> str:
    """Stable id: the source's own id, else the URL, else digest + title."""
    if article.id:
        return article.id
    key = article.url or f"{article.digest or article.source or ''}|{normalise_for_hash(article.title)}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def prepare(article: Article) -> Article:
    article.title = clean_whitespace(article.title).replace("\n", " ")
    article.text = clean_whitespace(article.text)
    article.language = article.language or detect_language(article.text)
    article.id = article_id(article)
    return article


def annotated(article: Article, store: Store, notes: NotesCache | None = None) -> Article:
    """The article with its sentence notes: those already stored when its text is unchanged (re-ingesting an
    archive runs no NLP again), else those cached for the same text (a database rebuilt), else made now."""
    if article.annotations is None and article.text:
        stored = store.get(article.id)
        if stored is not None and stored.text == article.text and stored.annotations:
            article.annotations = stored.annotations
        else:
            make = notes.annotate if notes is not None else annotate
            article.annotations = make(article.text, article.language, article.published)
    return article


def ingest_items(
    items: Iterable[Item],
    store: Store,
    chunk_tokens: int = 180,
    on_item: Callable[[Item, str], None] | None = None,
    on_stored: Callable[[int], None] | None = None,
    notes: NotesCache | None = None,
) -> IngestReport:
    """Store every readable article; report the rest with the reason. `on_stored(n)`: an article was stored with
    n new chunks (an embedding stage may take them now). `notes`: where annotations of texts seen before are
    kept."""
    report = IngestReport()
    t0 = time.perf_counter()
    for item in items:
        outcome = "failed"
        if item.article is None:
            report.failed.append((item.origin, item.error or "unreadable"))
        else:
            try:
                article = prepare(item.article)
                if not article.text:
                    raise ValueError("article has no text")
                article = annotated(article, store, notes)
                chunks = chunk_article(article, chunk_tokens)
                result = store.write(article, chunks)
                outcome = result.outcome
                getattr(report, outcome).append(result.article_id)
                if on_stored and outcome != "unchanged":
                    on_stored(len(chunks))
            except Exception as exc:  # one bad article must not stop the batch
                report.failed.append((item.origin, f"{exc.__class__.__name__}: {exc}"))
        if on_item:
            on_item(item, outcome)
    report.text_seconds = time.perf_counter() - t0
    return report


def embed_pending(
    store: Store, embedder: Embedder, batch: int = 64, on_batch: Callable[[int], None] | None = None
) -> int:
    """Embed every chunk that has no vector yet, then sync the store's indexes; returns how many were embedded."""
    done = 0
    while True:
        pending = store.pending_vectors(batch)
        if not pending:
            if done:
                store.sync()
            return done
        ids = [cid for cid, _ in pending]
        vectors = embedder.embed_passages([text for _, text in pending])
        store.write_vectors(ids, vectors)
        done += len(ids)
        if on_batch:
            on_batch(len(ids))
