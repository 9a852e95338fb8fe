"""Pure ranking math: reciprocal rank fusion, recency decay, per-article caps, story demotion, MMR.

Each function takes plain lists or arrays and returns new ones, so it can be tested with hand-made
inputs and reused by every store backend.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from datetime import date
from typing import TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
RRF_K = 60  # the rank offset of reciprocal rank fusion


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Cormack et al. (2009): score(d) = Σ w_i / (k + rank_i(d)), ranks from 1. Ties keep first-seen order."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[K, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def recency_weight(published: date | None, as_of: date, half_life_days: float = 30.0) -> float:
    """1.0 on `as_of`, halving every `half_life_days` before it; unknown dates get the weight of a half-life."""
    if published is None:
        return 0.5
    age = max(0, (as_of - published).days)
    return math.pow(0.5, age / half_life_days)


def cap_per_group(items: Sequence[K], group_of: dict[K, Hashable] | None, per_group: int) -> list[K]:
    """Keep order, but at most `per_group` items of each group (e.g. chunks of one article)."""
    counts: dict[Hashable, int] = {}
    kept = []
    for item in items:
        g = group_of[item] if group_of is not None else item
        if counts.get(g, 0) < per_group:
            counts[g] = counts.get(g, 0) + 1
            kept.append(item)
    return kept


def demote_repeats(items: Sequence[K], group_of: dict[K, Hashable], gap: int = 1) -> list[K]:
    """Keep every item, but never put an item of a group (e.g. the reports of one story) within `gap` places after
    another of that group while an item of another group is waiting: a repeat steps behind the next best of
    another story. So a story's reports cannot stack up at the top, yet a second report that ranks well (a later
    figure, another angle) still comes soon, which pushing every repeat behind all other stories would not do."""
    left = list(items)
    out: list[K] = []
    while left:
        recent = {group_of.get(i, i) for i in out[-gap:]} if gap > 0 else set()
        pick = next((i for i in left if group_of.get(i, i) not in recent), left[0])
        out.append(pick)
        left.remove(pick)
    return out


def mmr(query: np.ndarray, candidates: np.ndarray, k: int, lambda_: float = 0.7,
        relevance: np.ndarray | None = None) -> list[int]:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): indices of k relevant, mutually diverse rows."""
    if len(candidates) == 0:
        return []
    rel = relevance if relevance is not None else candidates @ query
    sim = candidates @ candidates.T
    chosen: list[int] = []
    left = list(range(len(candidates)))
    while left and len(chosen) < k:
        if chosen:
            redundancy = sim[np.ix_(left, chosen)].max(axis=1)
        else:
            redundancy = np.zeros(len(left))
        scores = lambda_ * rel[left] - (1 - lambda_) * redundancy
        best = left[int(np.argmax(scores))]
        chosen.append(best)
        left.remove(best)
    return chosen
