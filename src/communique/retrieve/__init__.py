"""Hybrid retrieval: BM25 and dense results fused by reciprocal rank fusion, capped per article, and reports of a
story just shown stepping behind the next best of another story."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from communique.embed import Embedder
from communique.models import Filters, Hit
from communique.retrieve.fusion import RRF_K, cap_per_group, demote_repeats, reciprocal_rank_fusion
from communique.store.base import Store

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="communique-bm25")


def search_both(
    store: Store, embedder: Embedder | None, query: str, depth: int, filters: Filters | None = None,
    query_vector: np.ndarray | None = None,
) -> tuple[list[Hit], list[Hit]]:
    """Keyword hits and dense hits, each best first (dense scores are cosines).

    The two run at once: SQLite and numpy both release the GIL, so on two cores the hybrid search
    costs about the slower of the two rather than their sum.
    """
    if embedder is None and query_vector is None:
        return store.search_text(query, depth, filters), []
    text_future = _POOL.submit(store.search_text, query, depth, filters)
    vector = query_vector if query_vector is not None else embedder.embed_query(query)
    vec_hits = store.search_vector(vector, depth, filters)
    return text_future.result(), vec_hits


def hybrid_search(
    store: Store,
    embedder: Embedder | None,
    query: str,
    k: int = 10,
    filters: Filters | None = None,
    per_article: int = 2,
    depth: int | None = None,
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    """The k best chunks for `query`; the score is the fused RRF score. Without an embedder: BM25 only.

    No two results in a row come from one story while another story has a result left (`demote_repeats`): its
    other reports and second chunks step behind the next best of another story, so they cannot fill the top."""
    depth = depth or max(4 * k, 40)
    text_hits, vec_hits = search_both(store, embedder, query, depth, filters, query_vector)
    by_id: dict[int, Hit] = {}
    for h in (*text_hits, *vec_hits):
        by_id.setdefault(h.chunk_id, h)
    score = dict(reciprocal_rank_fusion([[h.chunk_id for h in text_hits], [h.chunk_id for h in vec_hits]]))
    if vec_hits:
        # A chunk still waiting for its vector cannot be found by dense search: count its keyword rank for
        # both lists, so an article ingested a moment ago is not outranked for lack of a vector.
        for rank, h in enumerate(text_hits, start=1):
            if h.pending:
                score[h.chunk_id] += 1.0 / (RRF_K + rank)
    fused = sorted(score, key=lambda cid: -score[cid])
    ranked = cap_per_group(fused, {cid: by_id[cid].article_id for cid in by_id}, per_article)
    ranked = demote_repeats(ranked, {cid: ("story", h.story_id) if h.story_id is not None else ("article", h.article_id)
                                     for cid, h in by_id.items()})
    return [replace(by_id[cid], score=score[cid]) for cid in ranked[:k]]
