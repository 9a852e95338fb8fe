"""The sentences an answer may be drawn from: hybrid retrieval, then every sentence of the articles it finds,
each with the retrieval signals of the chunk that holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from communique.models import Article, Filters
from communique.nlp import SentenceNotes, notes_of
from communique.retrieve import search_both
from communique.retrieve.fusion import reciprocal_rank_fusion

RECENT_DAYS = 30  # as of a day, the weeks before it are also searched on their own, so they are not crowded out


@dataclass
class ChunkSignal:
    start: int
    end: int
    keyword_rank: int | None = None  # 0 = best
    dense_rank: int | None = None
    cosine: float = 0.0


@dataclass
class Found:
    """A candidate article: its rank among the candidates, its chunks' signals and its sentence notes."""

    article: Article
    rank: int
    notes: list[SentenceNotes]
    chunks: list[ChunkSignal] = field(default_factory=list)
    story: int | None = None  # the story the article reports (None: none, or a store that keeps no stories)

    def signal(self, start: int, end: int) -> ChunkSignal | None:
        """The best retrieval signal of a chunk overlapping [start, end)."""
        over = [c for c in self.chunks if c.start < end and start < c.end]
        if not over:
            return None
        return max(over, key=lambda c: (c.cosine, -(c.keyword_rank if c.keyword_rank is not None else 999)))


def retrieve(store, embedder, query: str, as_of: date | None, filters: Filters | None,
             k_chunks: int = 24, max_articles: int = 10,
             query_vector: np.ndarray | None = None) -> list[Found]:
    f = Filters(**vars(filters)) if filters else Filters()
    if as_of and (f.until is None or f.until > as_of):
        f.until = as_of
    if query_vector is None and embedder is not None:  # one embedding for both searches
        query_vector = embedder.embed_query(query)
    searches = [search_both(store, embedder, query, k_chunks, f, query_vector)]
    if as_of and (f.since is None or f.since < as_of - timedelta(days=RECENT_DAYS)):
        window = Filters(**{**vars(f), "since": as_of - timedelta(days=RECENT_DAYS)})
        searches.append(search_both(store, embedder, query, k_chunks, window, query_vector))
    signals: dict[str, dict[tuple[int, int], ChunkSignal]] = {}
    for text_hits, vec_hits in searches:
        for rank, h in enumerate(text_hits):
            s = signals.setdefault(h.article_id, {}).setdefault((h.start, h.end), ChunkSignal(h.start, h.end))
            s.keyword_rank = rank if s.keyword_rank is None else min(s.keyword_rank, rank)
        for rank, h in enumerate(vec_hits):
            s = signals.setdefault(h.article_id, {}).setdefault((h.start, h.end), ChunkSignal(h.start, h.end))
            s.dense_rank = rank if s.dense_rank is None else min(s.dense_rank, rank)
            s.cosine = max(s.cosine, h.score)
    fused = reciprocal_rank_fusion([[h.article_id for h in hits] for pair in searches for hits in pair])
    found: list[Found] = []
    for article_id, _ in fused[:max_articles]:
        article = store.get(article_id)
        notes = notes_of(article) if article is not None else None
        if article is not None and notes:
            found.append(Found(article, len(found), notes, list(signals.get(article_id, {}).values())))
    stories = getattr(getattr(store, "meta", store), "stories", None)
    if stories is not None and found:
        of = stories.of_articles(f.article.id for f in found)
        for f in found:
            f.story = of[f.article.id][0] if f.article.id in of else None
    return found
