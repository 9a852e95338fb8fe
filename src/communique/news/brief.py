"""A briefing: every story of a period (or of a topic in it), newest first, each told in one or two cited
sentences, the way a newsletter digest is written.

It reads every article of the window, not the few best chunks of a search, up to `MAX_ARTICLES` (the newest
first; the briefing says how many it left out), so a request costs the same on any archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from communique.answer.citations import CitationBook, marker
from communique.models import Article, Citation, Filters
from communique.news.sentences import lead
from communique.news.stories import story_keys
from communique.news.timeline import matching_articles

DEFAULT_DAYS = 7  # a briefing without `since`: the seven days up to its last day
MAX_ARTICLES = 300  # articles one briefing reads, newest first
TOPIC_DEPTH = 400  # chunks a topic's search ranks to find the window's articles about it
PAGE = 200  # the store's largest page of articles


@dataclass
class BriefStory:
    story: str
    title: str
    published: date | None  # the newest report's day
    sentences: list[tuple[str, int]]  # (sentence, citation number)
    reports: int  # articles of the window in this story
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"story": self.story, "title": self.title,
                "published": self.published.isoformat() if self.published else None,
                "sentences": [{"text": t, "n": n} for t, n in self.sentences], "reports": self.reports,
                "sources": self.sources}

    def body(self) -> str:
        return " ".join(f"{t} {marker(n)}" for t, n in self.sentences)


@dataclass
class Brief:
    topic: str | None
    since: date
    until: date
    stories: list[BriefStory]
    citations: list[Citation]
    articles: int  # articles in the window (and on the topic)
    read: int  # of which the briefing read (the newest `MAX_ARTICLES`)
    note: str | None = None  # why the window is not the one asked for (the default week had no news)

    def to_dict(self) -> dict:
        from communique.news.markdown import brief_markdown

        return {"topic": self.topic, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "articles": self.articles, "read": self.read, "stories": [s.to_dict() for s in self.stories],
                "citations": [c.to_dict() for c in self.citations], "markdown": brief_markdown(self),
                "note": self.note}

    def heading(self) -> str:
        about = f" on {self.topic}" if self.topic else ""
        n = len(self.stories)
        left = f" (the newest {self.read} of {self.articles} articles read)" if self.read < self.articles else ""
        return f"{n} stor{'ies' if n != 1 else 'y'}{about} from {self.since} to {self.until}{left}"

    def text(self) -> str:
        """Plain text: what the CLI prints without --markdown."""
        if not self.stories:
            return f"No articles{' on ' + self.topic if self.topic else ''} from {self.since} to {self.until}."
        lines = [*([self.note] if self.note else []), self.heading() + ":"]
        lines += [f"• {s.title} ({s.published or 'undated'}): {s.body()}" for s in self.stories]
        lines += ["", *(f"[{c.n}] {c.title} ({c.published or 'undated'}){' ' + c.url if c.url else ''}"
                        for c in self.citations)]
        return "\n".join(lines)


def window(since: date | None, until: date | None, ref: date) -> tuple[date, date]:
    """The days a briefing covers: `until` defaults to the reference day, `since` to a week before it."""
    until = until or ref
    return since or until - timedelta(days=DEFAULT_DAYS - 1), until


def _articles_of(store, embedder, topic: str | None, period: Filters) -> tuple[list[Article], int]:
    """The window's articles (on the topic, if any), newest first, at most `MAX_ARTICLES`, and how many there are."""
    if topic:
        found = matching_articles(store, embedder, topic, period, MAX_ARTICLES, TOPIC_DEPTH)
        found.sort(key=lambda a: a.published or date.min, reverse=True)
        return found, len(found)
    first = store.list_articles(None, period, 1, PAGE)
    listed = list(first.articles)
    page = 2
    while len(listed) < min(first.total, MAX_ARTICLES):
        listed += store.list_articles(None, period, page, PAGE).articles
        page += 1
    listed = listed[:MAX_ARTICLES]
    # the list omits annotations; the one indexed read per article brings them (spaCy does not run again)
    return [store.get(a.id) or a for a in listed], first.total


def _newest_day(store, ref: date) -> date | None:
    """The day of the newest dated article published by `ref`."""
    newest = store.list_articles(None, Filters(until=ref), 1, 1).articles
    return newest[0].published if newest else None


def build(store, embedder, topic: str | None, since: date | None, until: date | None, ref: date) -> Brief:
    """The briefing of `since`..`until` (a week up to `ref` by default), on `topic` if given. Where the default
    week holds nothing (an archive not fed lately, the bundled sample), it is the newest week that has articles,
    and the briefing says so, rather than an empty page."""
    asked = since is not None or until is not None
    since, until = window(since, until, ref)
    articles, total = _articles_of(store, embedder, topic, Filters(since=since, until=until))
    note = None
    newest = _newest_day(store, ref) if not articles and not asked else None
    if newest is not None and newest < since:
        since, until = window(None, newest, ref)
        articles, total = _articles_of(store, embedder, topic, Filters(since=since, until=until))
        note = f"Nothing was published in the {DEFAULT_DAYS} days up to {ref}; this is the newest week with articles."
    keys = story_keys(store, articles)
    groups: dict[str, list[Article]] = {}
    for a in articles:  # newest first, so a story's first article is its newest report
        groups.setdefault(keys[a.id], []).append(a)
    book = CitationBook()
    stories = []
    for key, reports in groups.items():
        told = []
        newest = lead(reports[0])
        if newest:
            told.append(newest)
        others = reports[1:]  # a second report, from another source if there is one
        other = next((r for r in others if r.source != reports[0].source), others[0] if others else None)
        second = lead(other) if other else None
        if second and second.text != (newest.text if newest else None):
            told.append(second)  # a second source's words: how another outlet tells it
        if not told:
            continue
        sentences = [(p.text, book.cite(p.article, p.start, p.end)) for p in told]
        sources = list(dict.fromkeys(r.source for r in reports if r.source))
        stories.append(BriefStory(key, reports[0].title, reports[0].published, sentences, len(reports), sources))
    return Brief(topic, since, until, stories, book.citations(), total, len(articles), note if articles else None)
