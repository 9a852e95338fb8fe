"""The signals that two articles report the same story, one named function each, on hand-made inputs testable.

An article is reduced to a `Signature` once (its content lemmas, title words, entity ids, day and mean chunk
vector), so comparing it with a candidate reads no text. Every feature lies in [0, 1].
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from communique.text import keywords

WINDOW_DAYS = 30  # reports more than this many days apart are never compared
TOP_TERMS = 40  # an article's most frequent content lemmas: enough to tell stories apart, cheap to store
# The features the model weighs. `day_gap` is offered but left out: the labelled digests give a story at most one
# report per weekly issue, so in them a gap of days looks like evidence of one story, which in an archive of many
# sources (several reports of one event on one day) it is not. Measured with it and without, the fit scores alike.
TEXT_FEATURES = ("entity_overlap", "term_overlap", "title_overlap")
FULL_FEATURES = (*TEXT_FEATURES, "vector_cosine")  # once both articles are embedded


@dataclass
class Signature:
    terms: frozenset[str]
    title_terms: frozenset[str]
    entities: frozenset[int]
    day: int | None  # date.toordinal() of its publication
    vector: np.ndarray | None = None  # unit mean of its chunk vectors; None until every chunk has one


def stem(word: str) -> str:
    """A crude plural fold ('countries' → 'countrie' on both sides is enough: only equality matters)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_terms(lemmas: list[str], limit: int = TOP_TERMS) -> frozenset[str]:
    """The most frequent content lemmas, numbers left out: a revised figure must not make two reports differ. Ties
    go alphabetically: the lemmas come from sets, whose order changes from one process to the next."""
    counts = Counter(stem(w) for w in lemmas if any(ch.isalpha() for ch in w) and len(w) > 1)
    return frozenset(w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def title_terms(title: str) -> frozenset[str]:
    return frozenset(stem(w) for w in keywords(title) if any(ch.isalpha() for ch in w))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def entity_overlap(a: Signature, b: Signature) -> float:
    """Share of the entities (entity index ids) either names that both name."""
    return jaccard(a.entities, b.entities)


def term_overlap(a: Signature, b: Signature) -> float:
    """Share of their top content lemmas in common: the same story is told with many of the same words."""
    return jaccard(a.terms, b.terms)


def title_overlap(a: Signature, b: Signature) -> float:
    """Share of title words in common, over the shorter title: a follow-up's headline repeats the subject."""
    if not a.title_terms or not b.title_terms:
        return 0.0
    return len(a.title_terms & b.title_terms) / min(len(a.title_terms), len(b.title_terms))


def day_gap(a: Signature, b: Signature, window: int = WINDOW_DAYS) -> float:
    """Days between them as a share of the window (1 at its edge); an undated article is half a window away."""
    if a.day is None or b.day is None:
        return 0.5
    return min(abs(a.day - b.day), window) / window


def vector_cosine(a: Signature, b: Signature) -> float:
    """Cosine of their mean chunk vectors, clipped to [0, 1]: the same story in other words, or another language."""
    if a.vector is None or b.vector is None:
        return 0.0
    return float(max(0.0, min(1.0, float(a.vector @ b.vector))))


FEATURES = {f.__name__: f for f in (entity_overlap, term_overlap, title_overlap, day_gap, vector_cosine)}


def pair_features(a: Signature, b: Signature, names: tuple[str, ...]) -> list[float]:
    return [FEATURES[name](a, b) for name in names]


def unit_mean(vectors: list[np.ndarray]) -> np.ndarray | None:
    if not vectors:
        return None
    mean = np.mean(np.stack(vectors), axis=0).astype(np.float32)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else None
