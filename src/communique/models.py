"""The data that flows through Communique: articles in, chunks stored, hits found, answers out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass
class Article:
    """One news article as read from a digest, feed, page or JSONL line."""

    title: str
    text: str
    url: str | None = None
    published: date | None = None
    source: str | None = None
    language: str | None = None
    digest: str | None = None
    id: str = ""
    annotations: str | None = None  # sentence notes made at ingest (communique.nlp); not part of the article's data

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("annotations")
        d["published"] = self.published.isoformat() if self.published else None
        return d


@dataclass
class Chunk:
    """A few sentences of one article; offsets point into `Article.text` so quotes stay exact."""

    article_id: str
    seq: int
    text: str
    start: int
    end: int
    id: int | None = None


@dataclass
class Filters:
    """Restrictions a search applies before ranking: a date window, sources, or named articles."""

    since: date | None = None
    until: date | None = None
    sources: list[str] | None = None
    article_ids: list[str] | None = None

    def is_empty(self) -> bool:
        return not (self.since or self.until or self.sources or self.article_ids)


@dataclass
class Hit:
    """A chunk found by a search, with the article fields a result list needs."""

    chunk_id: int
    article_id: str
    score: float
    text: str
    start: int
    end: int
    title: str = ""
    url: str | None = None
    published: date | None = None
    source: str | None = None
    pending: bool = False  # no vector yet: dense search cannot find it
    story_id: int | None = None  # the story its article reports (store/stories.py)
    reported_by: int = 1  # how many sources reported that story

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published"] = self.published.isoformat() if self.published else None
        return d


@dataclass
class Citation:
    """Where a claim of an answer comes from: the article and the exact sentence(s) quoted."""

    n: int
    article_id: str
    title: str
    url: str | None
    published: date | None
    quote: str
    story_id: int | None = None  # the story the article reports, and how many sources reported it
    reported_by: int = 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published"] = self.published.isoformat() if self.published else None
        return d


@dataclass
class Answer:
    """The answer contract shared by the CLI and the HTTP API."""

    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "followups": list(self.followups),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
