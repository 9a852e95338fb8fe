"""A subject's timeline: the events of the articles that match it, in date order, grouped by story.

Retrieval is the hybrid search of `communique search` (one article per hit, at most `MAX_ARTICLES`), so a
timeline costs a search and a few dozen indexed reads, however large the archive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from communique.answer.citations import CitationBook, marker
from communique.models import Article, Citation, Filters
from communique.news.sentences import Picked, events
from communique.news.stories import story_keys
from communique.retrieve import hybrid_search
from communique.text import keywords

MAX_ARTICLES = 30  # articles read for one timeline: its cost stays bounded on any archive
SEARCH_DEPTH = 120  # chunks the search ranks to find them


@dataclass
class Event:
    day: date | None
    exact: bool
    text: str
    n: int  # the citation's number: the text is quoted from it
    article_id: str
    title: str
    published: date | None

    def to_dict(self) -> dict:
        return {"day": self.day.isoformat() if self.day else None, "exact": self.exact, "text": self.text,
                "n": self.n, "article_id": self.article_id, "title": self.title,
                "published": self.published.isoformat() if self.published else None}

    def line(self) -> str:
        when = "undated" if self.day is None else self.day.isoformat() if self.exact else f"{self.day:%Y-%m}"
        return f"{when}  {self.text} {marker(self.n)}"


@dataclass
class StoryEvents:
    story: str
    title: str  # the title of the story's first report
    events: list[Event] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"story": self.story, "title": self.title, "events": [e.to_dict() for e in self.events]}


@dataclass
class Timeline:
    query: str
    since: date | None
    until: date | None
    stories: list[StoryEvents]
    citations: list[Citation]

    @property
    def events(self) -> list[Event]:
        return sorted((e for s in self.stories for e in s.events), key=_order)

    def to_dict(self) -> dict:
        return {"query": self.query, "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "stories": [s.to_dict() for s in self.stories], "events": [e.to_dict() for e in self.events],
                "citations": [c.to_dict() for c in self.citations]}

    def text(self) -> str:
        """Plain text, one block per story: what the CLI prints."""
        if not self.stories:
            return f"No dated events found for {self.query!r}."
        n = len(self.events)
        out = [f"Timeline of {self.query!r}: {n} event{'s' * (n != 1)} in {len(self.stories)} "
               f"stor{'ies' if len(self.stories) != 1 else 'y'}"]
        for s in self.stories:
            out += ["", s.title, *("  " + e.line() for e in s.events)]
        out += ["", *(f"[{c.n}] {c.title} ({c.published or 'undated'}){' ' + c.url if c.url else ''}"
                      for c in self.citations)]
        return "\n".join(out)


def _order(e: Event) -> tuple:
    return (e.day is None, e.day or date.min, e.published or date.min)


def matching_articles(store, embedder, query: str, filters: Filters | None, limit: int = MAX_ARTICLES,
                      depth: int = SEARCH_DEPTH) -> list[Article]:
    """The articles a subject's search finds, best first, at most `limit`: those that name all the query's
    words, else most of them; the search's best five when none does (a query in another language)."""
    hits = hybrid_search(store, embedder, query, limit, filters, per_article=1, depth=depth)
    ids = list(dict.fromkeys(h.article_id for h in hits))[:limit]
    found = [a for a in (store.get(i) for i in ids) if a is not None]
    terms = keywords(query)
    for share in (1.0, 0.5):
        named = [a for a in found if _share(a.title + " " + a.text, terms) >= share]
        if named:
            return named
    return found[:5]


def _share(text: str, terms: list[str]) -> float:
    folded = text.casefold()
    return sum(bool(re.search(rf"\b{re.escape(t)}\b", folded)) for t in terms) / max(1, len(terms))


def build(store, embedder, query: str, since: date | None = None, until: date | None = None,
          as_of: date | None = None) -> Timeline:
    """The timeline of `query`: events dated `since`..`until` from articles published by `as_of`."""
    articles = matching_articles(store, embedder, query, Filters(until=as_of) if as_of else None)
    terms = keywords(query)
    picked: list[Picked] = [p for a in articles for p in events(a, terms) if p.day is None
                            or ((since is None or p.day >= since) and (until is None or p.day <= until))]
    picked.sort(key=lambda p: (p.day is None, p.day or date.min, p.article.published or date.min))
    keys = story_keys(store, articles)
    book = CitationBook()
    stories: dict[str, StoryEvents] = {}
    seen: set[tuple] = set()
    for p in picked:
        if (p.day, p.text) in seen:  # a syndicated copy tells the same event in the same words
            continue
        seen.add((p.day, p.text))
        n = book.cite(p.article, p.start, p.end)
        key = keys[p.article.id]
        story = stories.setdefault(key, StoryEvents(key, p.article.title))
        story.events.append(Event(p.day, p.exact, p.text, n, p.article.id, p.article.title, p.article.published))
    return Timeline(query, since, until, list(stories.values()), book.citations())
