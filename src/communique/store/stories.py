"""Stories in SQLite: written in the store's own transaction with each article, read by search, answers and pages.

    stories          id, title (its first report's), first and last day, number of articles
    story_articles   article → story, with the article's top content lemmas (so a comparison reads no text),
                     the probability that linked it, and whether it was decided before the article had vectors
    article_copies   syndicated copies: the same text under another URL, kept as a link to the article

Grouping is incremental: `group_article` compares one article with the candidates that share an entity or a
title word with it within `WINDOW_DAYS`, and joins the story of the likeliest (model.py) or starts one; stories it
links to with both articles' vectors become one (single link). A decision made before the article's vectors
existed is provisional and is made again, for that article only, once its chunks are embedded
(`regroup_embedded`). Deleting an article takes it out of its story; a story left empty goes.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from communique.nlp import parse
from communique.stories.changes import Report, Revision, revisions
from communique.stories.features import WINDOW_DAYS, Signature, content_terms, title_terms, unit_mean
from communique.stories.model import StoryModel, load_model
from communique.text import keywords

CANDIDATES = 40  # most articles one new article is compared with, from each of the two lookups
MAX_ARTICLES = 200  # a story page lists at most this many reports


# -- signatures -------------------------------------------------------------------------------------------
def _lemmas(text: str, annotations: str | None) -> list[str]:
    notes = parse(annotations)
    if notes is None:
        return keywords(text)
    return [w for n in notes for w in n.lemmas]


def _entities(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {r: set() for r in rowids}
    for rowid, entity_id in conn.execute(
        "SELECT DISTINCT article_rowid, entity_id FROM entity_mentions WHERE article_rowid IN"
        " (SELECT value FROM json_each(?))", (_json(rowids),)):
        out[rowid].add(entity_id)
    return out


def _vectors(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, np.ndarray | None]:
    """Each article's unit mean chunk vector, or None while any of its chunks waits for one."""
    parts: dict[int, list[np.ndarray]] = {r: [] for r in rowids}
    missing: set[int] = set()
    for rowid, vec in conn.execute(
        "SELECT article_rowid, vec FROM chunks WHERE article_rowid IN (SELECT value FROM json_each(?))",
        (_json(rowids),)):
        if vec:
            parts[rowid].append(np.frombuffer(vec, dtype=np.float32))
        else:
            missing.add(rowid)
    return {r: None if r in missing else unit_mean(v) for r, v in parts.items()}


def own_signature(conn: sqlite3.Connection, rowid: int) -> Signature | None:
    """The signature of an article from its stored row (annotations, entities, chunk vectors)."""
    row = conn.execute("SELECT title, text, annotations, published_day FROM articles WHERE rowid = ?",
                       (rowid,)).fetchone()
    if row is None:
        return None
    title, text, annotations, day = row
    return Signature(content_terms(_lemmas(text, annotations)), title_terms(title),
                     frozenset(_entities(conn, [rowid])[rowid]), day, _vectors(conn, [rowid])[rowid])


def linked_signatures(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, tuple[int, Signature]]:
    """(story id, signature) of grouped articles, from their stored terms: no text is read."""
    rows = conn.execute(
        "SELECT s.article_rowid, s.story_id, s.terms, s.published_day, a.title FROM story_articles s"
        " JOIN articles a ON a.rowid = s.article_rowid WHERE s.article_rowid IN (SELECT value FROM json_each(?))",
        (_json(rowids),)).fetchall()
    found = [r[0] for r in rows]
    entities, vectors = _entities(conn, found), _vectors(conn, found)
    return {r[0]: (r[1], Signature(frozenset(r[2].split()), title_terms(r[4]), frozenset(entities[r[0]]), r[3],
                                   vectors[r[0]])) for r in rows}


# -- grouping (inside the store's transaction) ------------------------------------------------------------
def _window(day: int | None) -> tuple[str, list]:
    if day is None:
        return "", []
    return " AND published_day BETWEEN ? AND ?", [day - WINDOW_DAYS, day + WINDOW_DAYS]


def candidates(conn: sqlite3.Connection, rowid: int, sig: Signature, title: str) -> list[int]:
    """Grouped articles within the window that share the most entities, and those whose titles best match."""
    where, args = _window(sig.day)
    found: dict[int, None] = {}
    if sig.entities:
        for (other,) in conn.execute(
            "SELECT article_rowid FROM entity_mentions WHERE entity_id IN (SELECT value FROM json_each(?))"
            f" AND article_rowid != ?{where} GROUP BY article_rowid ORDER BY count(DISTINCT entity_id) DESC"
            " LIMIT ?", (_json(sorted(sig.entities)), rowid, *args, CANDIDATES)):
            found[other] = None
    words = [w for w in keywords(title) if any(ch.isalpha() for ch in w)]
    if words:
        match = "title : (" + " OR ".join(f'"{w}"' for w in words) + ")"
        for (other,) in conn.execute(
            "SELECT DISTINCT article_rowid FROM (SELECT article_rowid FROM chunks_fts WHERE chunks_fts MATCH ?"
            " ORDER BY rank LIMIT ?) WHERE article_rowid != ?", (match, CANDIDATES * 2, rowid)):
            found[other] = None
    if not found:
        return []
    return [r for (r,) in conn.execute(
        "SELECT article_rowid FROM story_articles WHERE article_rowid IN (SELECT value FROM json_each(?))"
        f"{where}", (_json(list(found)), *args))]


def linked_stories(sig: Signature, others: dict[int, tuple[int, Signature]],
                   model: StoryModel) -> dict[int, tuple[float, bool]]:
    """Each story with a candidate the model puts in one story with the article: the best probability, and whether
    that link was made with both articles' vectors (final) rather than their text alone (provisional)."""
    linked: dict[int, tuple[float, bool]] = {}
    for story_id, other in others.values():
        p, same = model.same_story(sig, other)
        if same and p > linked.get(story_id, (0.0, False))[0]:
            linked[story_id] = (p, sig.vector is not None and other.vector is not None)
    return linked


def group_article(conn: sqlite3.Connection, rowid: int, model: StoryModel | None = None) -> int | None:
    """(Re)group one article: out of its story, then into the likeliest existing story or a new one. Stories it
    links to with both articles' vectors become one (single link): so the grouping does not depend on which of two
    reports of a story got its vectors first, as it otherwise would when a third one links them."""
    ungroup_article(conn, rowid)
    sig = own_signature(conn, rowid)
    if sig is None:
        return None
    model = model or load_model()
    title = conn.execute("SELECT title FROM articles WHERE rowid = ?", (rowid,)).fetchone()[0]
    linked = linked_stories(sig, linked_signatures(conn, candidates(conn, rowid, sig, title)), model)
    if linked:
        story_id = max(linked, key=lambda sid: (linked[sid][0], -sid))
        score: float | None = linked[story_id][0]
    else:
        story_id, score = conn.execute("INSERT INTO stories (title, first_day, last_day) VALUES (?,?,?)",
                                       (title, sig.day, sig.day)).lastrowid, None
    conn.execute("INSERT INTO story_articles (article_rowid, story_id, published_day, terms, score, provisional)"
                 " VALUES (?,?,?,?,?,?)", (rowid, story_id, sig.day, " ".join(sorted(sig.terms)), score,
                                           int(sig.vector is None)))
    for other, (_, final) in linked.items():
        if other != story_id and final:
            conn.execute("UPDATE story_articles SET story_id = ? WHERE story_id = ?", (story_id, other))
            _settle(conn, other)
    _settle(conn, story_id)
    return story_id


def ungroup_article(conn: sqlite3.Connection, rowid: int) -> None:
    row = conn.execute("SELECT story_id FROM story_articles WHERE article_rowid = ?", (rowid,)).fetchone()
    if row is not None:
        conn.execute("DELETE FROM story_articles WHERE article_rowid = ?", (rowid,))
        _settle(conn, row[0])


def _settle(conn: sqlite3.Connection, story_id: int) -> None:
    """Recount a story from its links; its title is its first report's; an empty story goes."""
    n, first, last = conn.execute("SELECT count(*), min(published_day), max(published_day) FROM story_articles"
                                  " WHERE story_id = ?", (story_id,)).fetchone()
    if not n:
        conn.execute("DELETE FROM stories WHERE id = ?", (story_id,))
        return
    title = conn.execute("SELECT a.title FROM story_articles s JOIN articles a ON a.rowid = s.article_rowid"
                         " WHERE s.story_id = ? ORDER BY s.published_day IS NULL, s.published_day, s.article_rowid"
                         " LIMIT 1", (story_id,)).fetchone()[0]
    conn.execute("UPDATE stories SET title = ?, first_day = ?, last_day = ?, articles = ? WHERE id = ?",
                 (title, first, last, n, story_id))


def regroup_embedded(conn: sqlite3.Connection, chunk_ids: list[int]) -> int:
    """Decide again, with vectors, for the provisionally grouped articles these chunks completed; returns how many."""
    rows = conn.execute(
        "SELECT DISTINCT c.article_rowid FROM chunks c JOIN story_articles s ON s.article_rowid = c.article_rowid"
        " WHERE c.id IN (SELECT value FROM json_each(?)) AND s.provisional = 1", (_json(chunk_ids),)).fetchall()
    done = 0
    for (rowid,) in rows:
        if conn.execute("SELECT 1 FROM chunks WHERE article_rowid = ? AND vec IS NULL LIMIT 1", (rowid,)).fetchone():
            continue
        group_article(conn, rowid)
        done += 1
    return done


def link_copy(conn: sqlite3.Connection, rowid: int, url: str, source: str | None, published: str | None) -> bool:
    """Record `url` as a syndicated copy of the article; False when it was known already."""
    cur = conn.execute("INSERT OR IGNORE INTO article_copies (article_rowid, url, source, published) VALUES (?,?,?,?)",
                       (rowid, url, source, published))
    return cur.rowcount > 0


def backfill_batch(conn: sqlite3.Connection, limit: int = 200) -> bool:
    """Group the next `limit` articles stored before stories existed, oldest rowid first; True once none is left."""
    cursor = conn.execute("SELECT value FROM meta WHERE key = 'story_backfill_rowid'").fetchone()[0]
    if cursor < 0:
        return True
    rows = conn.execute("SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?", (cursor, limit)).fetchall()
    model = load_model()
    for (rowid,) in rows:
        group_article(conn, rowid, model)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'story_backfill_rowid'", (rows[-1][0] if rows else -1,))
    return not rows


def backfill_pending(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = 'story_backfill_rowid'").fetchone()
    return row is not None and row[0] != -1


# -- reading ----------------------------------------------------------------------------------------------
def _day(ordinal: int | None) -> date | None:
    return date.fromordinal(ordinal) if ordinal else None


@dataclass
class Story:
    id: int
    title: str
    first_published: date | None
    last_published: date | None
    articles: int
    reported_by: int  # sources that reported it: articles and syndicated copies, one per named source

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("first_published", "last_published"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass
class Copy:
    url: str
    source: str | None
    published: str | None


@dataclass
class StoryArticle:
    id: str
    title: str
    url: str | None
    published: date | None
    source: str | None
    copies: list[Copy] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self) | {"published": self.published.isoformat() if self.published else None}


@dataclass
class StoryDetail:
    story: Story
    articles: list[StoryArticle]  # in date order, undated last
    changes: list[Revision]  # figures one report gives differently from the report before it

    def to_dict(self) -> dict:
        return {"story": self.story.to_dict(), "articles": [a.to_dict() for a in self.articles],
                "changes": [c.to_dict() for c in self.changes]}


@dataclass
class StoryPage:
    stories: list[Story]
    total: int
    page: int
    page_size: int

    def to_dict(self) -> dict:
        return {"stories": [s.to_dict() for s in self.stories], "total": self.total, "page": self.page,
                "page_size": self.page_size}


class StoryIndex:
    """Reads of the stories over the store's connections (one per thread)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect

    def reported_by(self, story_ids: Iterable[int]) -> dict[int, int]:
        """Distinct reporters per story: an article's or copy's source, else the article or URL itself."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        rows = self._connect().execute(
            "SELECT story_id, count(DISTINCT who) FROM (SELECT s.story_id, coalesce(a.source, a.id) AS who"
            " FROM story_articles s JOIN articles a ON a.rowid = s.article_rowid WHERE s.story_id IN"
            " (SELECT value FROM json_each(?1)) UNION ALL SELECT s.story_id, coalesce(c.source, c.url)"
            " FROM story_articles s JOIN article_copies c ON c.article_rowid = s.article_rowid WHERE s.story_id IN"
            " (SELECT value FROM json_each(?1))) GROUP BY story_id", (_json(ids),)).fetchall()
        return dict(rows)

    def of_articles(self, article_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(story id, reported_by) of each of these articles that has a story."""
        rows = self._connect().execute(
            "SELECT a.id, s.story_id FROM articles a JOIN story_articles s ON s.article_rowid = a.rowid"
            " WHERE a.id IN (SELECT value FROM json_each(?))", (_json_str(article_ids),)).fetchall()
        counts = self.reported_by(r[1] for r in rows)
        return {r[0]: (r[1], counts.get(r[1], 1)) for r in rows}

    def get(self, story_id: int) -> Story | None:
        row = self._connect().execute("SELECT id, title, first_day, last_day, articles FROM stories WHERE id = ?",
                                      (story_id,)).fetchone()
        if row is None:
            return None
        return Story(row[0], row[1], _day(row[2]), _day(row[3]), row[4], self.reported_by([story_id]).get(row[0], 1))

    def listed(self, page: int, page_size: int, min_articles: int = 2) -> StoryPage:
        """Stories told by at least `min_articles` reports, the one reported last first."""
        conn = self._connect()
        total = conn.execute("SELECT count(*) FROM stories WHERE articles >= ?", (min_articles,)).fetchone()[0]
        rows = conn.execute(
            "SELECT id, title, first_day, last_day, articles FROM stories WHERE articles >= ?"
            " ORDER BY last_day IS NULL, last_day DESC, id DESC LIMIT ? OFFSET ?",
            (min_articles, page_size, (page - 1) * page_size)).fetchall()
        counts = self.reported_by(r[0] for r in rows)
        stories = [Story(r[0], r[1], _day(r[2]), _day(r[3]), r[4], counts.get(r[0], 1)) for r in rows]
        return StoryPage(stories, total, page, page_size)

    def detail(self, story_id: int) -> StoryDetail | None:
        """The story, its reports in date order with their copies, and the figures revised between reports."""
        story = self.get(story_id)
        if story is None:
            return None
        conn = self._connect()
        rows = conn.execute(
            "SELECT a.rowid, a.id, a.title, a.url, a.published, a.source, a.text, a.annotations FROM story_articles s"
            " JOIN articles a ON a.rowid = s.article_rowid WHERE s.story_id = ?"
            " ORDER BY s.published_day IS NULL, s.published_day, s.article_rowid LIMIT ?",
            (story_id, MAX_ARTICLES)).fetchall()
        copies: dict[int, list[Copy]] = {}
        for rowid, url, source, published in conn.execute(
            "SELECT article_rowid, url, source, published FROM article_copies WHERE article_rowid IN"
            " (SELECT value FROM json_each(?)) ORDER BY published, url", (_json([r[0] for r in rows]),)):
            copies.setdefault(rowid, []).append(Copy(url, source, published))
        articles = [StoryArticle(r[1], r[2], r[3], date.fromisoformat(r[4]) if r[4] else None, r[5],
                                 copies.get(r[0], [])) for r in rows]
        reports = [Report(a.id, a.published, a.source, r[6], r[7]) for a, r in zip(articles, rows, strict=True)]
        return StoryDetail(story, articles, revisions(reports))

    def counts(self) -> Counter[int]:
        """Stories by number of articles (for stats and benchmarks)."""
        return Counter(n for (n,) in self._connect().execute("SELECT articles FROM stories"))


def _json(values: Iterable[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def _json_str(values: Iterable[str]) -> str:
    import json

    return json.dumps(list(values))
