"""Time words that name an event ("before the Hanoi signing", "since the attack on Asahi"), resolved against the
archive: the event's day is the day of the best report of it, and the question's window is counted from there.

A wrong match would silently cut the evidence, so the event must be unmistakable: the report taken is the
best-ranked search hit for the event's words, as of the reference day, whose title and text hold every content
word of the event (in any form: "signing" finds "signed"). Where none does, the question keeps no window. The
answer then says the day it counts to (`with_as_of`), so the reader sees which day was taken.
"""

from __future__ import annotations

from datetime import date, timedelta

from communique import timewords
from communique.answer.evidence import stems_of
from communique.embed import Embedder
from communique.models import Filters
from communique.retrieve import hybrid_search
from communique.store.base import Store
from communique.text import STOPWORDS, words
from communique.timewords import Window

SEARCHED = 8  # reports of the event looked at, best first


def event_day(store: Store, embedder: Embedder | None, event: str, ref: date) -> date | None:
    """The day of the best report of an event published by `ref` that names every content word of it; else None."""
    wanted = stems_of(" ".join(w for w in words(event) if w.lower() not in STOPWORDS))
    if not wanted:
        return None
    seen: set[str] = set()
    for hit in hybrid_search(store, embedder, event, k=SEARCHED, filters=Filters(until=ref)):
        if hit.article_id in seen:
            continue
        seen.add(hit.article_id)
        article = store.get(hit.article_id)
        if article is not None and article.published and wanted <= stems_of(f"{article.title} {article.text}"):
            return article.published
    return None


def event_window(store: Store, embedder: Embedder | None, question: str, ref: date) -> Window | None:
    """The window a question's event names: up to the day before the event ("before"), or from its day on."""
    anchor = timewords.event_anchor(question)
    if anchor is None:
        return None
    relation, event = anchor
    day = event_day(store, embedder, event, ref)
    if day is None:
        return None
    words_used = f"{relation} the {event}"
    if relation in timewords.BEFORE:
        return Window(None, day - timedelta(days=1), words_used, ref, event=True)
    return Window(day, ref, words_used, ref, event=True)
