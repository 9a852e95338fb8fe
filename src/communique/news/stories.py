"""Which story each article belongs to: the one place that decides, so switching to the store's story ids
(being built as part of issue 20) is a change here and nowhere else.

Until the store has story ids, two articles are one story when they were published within `STORY_DAYS`
of each other and the names and title words that open them overlap strongly: at least `MIN_SHARED` shared,
and at least half of the smaller set. Anything else is a story of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from communique.entities.names import fold
from communique.models import Article
from communique.nlp import notes_of
from communique.text import keywords

STORY_DAYS = 14  # reports of one story further apart than this are separate stories
MIN_SHARED = 3  # names and title words two reports must share
LEAD_SENTENCES = 3  # the names of a story are those of its lead, not of every background paragraph
_NAME_LABELS = frozenset({"ORG", "PERSON", "GPE", "NORP", "LOC", "FAC", "EVENT", "LAW", "PRODUCT"})


def features(article: Article) -> frozenset[str]:
    """The folded names of an article's lead and the content words of its title: what a story is about."""
    names: set[str] = set()
    for notes in (notes_of(article) or [])[:LEAD_SENTENCES]:
        for span in notes.spans:
            if span.label in _NAME_LABELS:
                names.add(fold(article.text[span.start:span.end]))
    words = {w for w in keywords(article.title) if len(w) > 3 or w.isupper() or w.isdigit()}
    return frozenset(n for n in names | words if n)


def same_story(a: frozenset[str], b: frozenset[str], day_a: date | None, day_b: date | None) -> bool:
    """Two reports of one story: close in time, and most of what one names the other names too."""
    if day_a and day_b and abs((day_a - day_b).days) > STORY_DAYS:
        return False
    shared = len(a & b)
    return shared >= MIN_SHARED and shared >= 0.5 * min(len(a), len(b))


def _stored_story(store: object) -> Callable[[Article], str | None]:
    """The store's story id of an article, once story grouping gives one (an attribute or a store method)."""
    lookup = getattr(getattr(store, "meta", store), "story_id", None)

    def story(article: Article) -> str | None:
        sid = getattr(article, "story_id", None)
        if sid is None and callable(lookup):
            sid = lookup(article.id)
        return None if sid is None else str(sid)

    return story


def story_keys(store: object, articles: list[Article]) -> dict[str, str]:
    """Each article's story key (article id → key): the store's story id where it has one, else the id of
    the first article of its overlap group, else the article's own id."""
    stored = _stored_story(store)
    keys: dict[str, str] = {}
    rest: list[Article] = []
    for a in articles:
        sid = stored(a)
        if sid is None:
            rest.append(a)
        else:
            keys[a.id] = f"story:{sid}"
    parent = list(range(len(rest)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    feats = [features(a) for a in rest]
    for i in range(len(rest)):
        for j in range(i):
            if root(i) != root(j) and same_story(feats[i], feats[j], rest[i].published, rest[j].published):
                parent[root(i)] = root(j)
    for i, a in enumerate(rest):
        keys[a.id] = rest[root(i)].id
    return keys
