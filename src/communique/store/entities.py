"""The entity index in SQLite: written with each article in the store's own transaction, read by the API and pages.

    entities        id, key (unique identity), type, name, name_key (folded), articles, mentions
    entity_aliases  the spellings an entity was written in (searchable, folded), with their mentions
    entity_mentions entity, alias, article, sentence, published day: one row per mention

Counts are kept current as articles come and go, so listing entities by importance reads an index instead of
counting millions of mentions. Indexing an article first takes back whatever it indexed before, so re-ingesting
or editing one never leaves a stale or a duplicate mention, and an entity no article names any more is removed.
Its type and name are the majority of its mentions' ("Nvidia" is an organisation even where a tagger saw a
place). Reads are bounded: every list has a LIMIT, and co-occurrence looks at an entity's latest articles only.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

from communique.entities import Mention, mentions
from communique.entities.names import core, fold

INDEX_VERSION = 1  # raise it when the extraction rules change: the next open of the store re-indexes every article
RELATED_ARTICLES = 1_000  # co-occurrence is counted over an entity's latest this many articles
_TYPE_ORDER = {"org": 0, "person": 1, "gpe": 2}  # a tie between labels: a tagger most often mistakes a name for a place
_COLS = "e.id, e.name, e.type, e.articles, e.mentions"


# -- writing (inside the store's transaction) ---------------------------------------------------------------
def unindex_article(conn: sqlite3.Connection, article_rowid: int) -> set[int]:
    """Take back an article's mentions and their counts; returns the entities it named."""
    rows = conn.execute(
        "SELECT entity_id, alias_id, count(*) FROM entity_mentions WHERE article_rowid = ? GROUP BY alias_id",
        (article_rowid,),
    ).fetchall()
    if not rows:
        return set()
    per_entity: Counter[int] = Counter()
    for entity_id, _, n in rows:
        per_entity[entity_id] += n
    conn.executemany("UPDATE entity_aliases SET mentions = mentions - ? WHERE id = ?", [(n, a) for _, a, n in rows])
    conn.executemany("UPDATE entities SET mentions = mentions - ?, articles = articles - 1 WHERE id = ?",
                     [(n, e) for e, n in per_entity.items()])
    conn.execute("DELETE FROM entity_mentions WHERE article_rowid = ?", (article_rowid,))
    return set(per_entity)


def _entity_id(conn: sqlite3.Connection, m: Mention) -> int:
    row = conn.execute("SELECT id FROM entities WHERE key = ?", (m.key,)).fetchone()
    if row is not None:
        return row[0]
    return conn.execute("INSERT INTO entities (key, type, name, name_key) VALUES (?,?,?,?)",
                        (m.key, m.type, m.name, fold(m.name))).lastrowid


def _add(conn: sqlite3.Connection, article_rowid: int, found: list[Mention], day: int | None) -> set[int]:
    entity_ids = {m.key: 0 for m in found}
    for m in found:
        if not entity_ids[m.key]:
            entity_ids[m.key] = _entity_id(conn, m)
    spellings: Counter[tuple[int, str, str, bool]] = Counter(
        (entity_ids[m.key], m.alias, m.type, m.full) for m in found)
    alias_ids: dict[tuple[int, str, str], int] = {}
    for (entity_id, alias, kind, full), n in spellings.items():
        alias_ids[(entity_id, alias, kind)] = conn.execute(
            "INSERT INTO entity_aliases (entity_id, alias, alias_key, type, full, mentions) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (entity_id, alias, type) DO UPDATE SET mentions = mentions + excluded.mentions,"
            " full = max(full, excluded.full) RETURNING id",
            (entity_id, alias, fold(alias), kind, int(full), n),
        ).fetchone()[0]
    conn.executemany(
        "INSERT INTO entity_mentions (entity_id, alias_id, article_rowid, sentence, published_day) VALUES (?,?,?,?,?)",
        [(entity_ids[m.key], alias_ids[(entity_ids[m.key], m.alias, m.type)], article_rowid, m.sentence, day)
         for m in found],
    )
    per_entity = Counter(entity_ids[m.key] for m in found)
    conn.executemany("UPDATE entities SET mentions = mentions + ?, articles = articles + 1 WHERE id = ?",
                     [(n, e) for e, n in per_entity.items()])
    return set(per_entity)


def _settle(conn: sqlite3.Connection, touched: set[int]) -> None:
    """Drop what no article names any more; give the rest the type and name most of their mentions give."""
    if not touched:
        return
    ids = sorted(touched)
    marks = ",".join("?" * len(ids))
    conn.execute(f"DELETE FROM entity_aliases WHERE entity_id IN ({marks}) AND mentions <= 0", ids)
    conn.execute(f"DELETE FROM entities WHERE id IN ({marks}) AND articles <= 0", ids)
    current = conn.execute(f"SELECT id, key, type, name FROM entities WHERE id IN ({marks})", ids).fetchall()
    for entity_id, key, kind, name in current:
        if key.startswith("country:"):  # a country's name and type come with its code
            continue
        spellings = conn.execute("SELECT alias, type, full, mentions FROM entity_aliases WHERE entity_id = ?"
                                 " ORDER BY id", (entity_id,)).fetchall()
        new_kind, new_name = vote(spellings)
        if (new_kind, new_name) != (kind, name):
            conn.execute("UPDATE entities SET type = ?, name = ?, name_key = ? WHERE id = ?",
                         (new_kind, new_name, fold(new_name), entity_id))


def vote(spellings: list[tuple[str, str, int, int]]) -> tuple[str, str]:
    """(type, name) of an entity from its (alias, type, full, mentions) rows, oldest first: the type most mentions
    have; the name of its most written full spelling, mixed case before capitals ('Nvidia' over 'NVIDIA')."""
    by_type: Counter[str] = Counter()
    for _, kind, _, n in spellings:
        by_type[kind] += n
    kind = min(by_type, key=lambda k: (-by_type[k], _TYPE_ORDER.get(k, 9)))
    names: Counter[str] = Counter()  # insertion order is age, and max keeps the first of a tie
    for alias, k, _, n in [s for s in spellings if s[2]] or spellings:
        names[core(alias, k)] += n
    return kind, max(names, key=lambda name: (names[name], not name.isupper()))


def index_article(conn: sqlite3.Connection, article_rowid: int, text: str, annotations: str | None,
                  published_day: int | None) -> int:
    """(Re)index one article from its stored annotations; returns its number of mentions."""
    found = mentions(text, annotations)
    touched = unindex_article(conn, article_rowid)
    if found:
        touched |= _add(conn, article_rowid, found, published_day)
    _settle(conn, touched)
    return len(found)


def backfill_pending(conn: sqlite3.Connection) -> bool:
    """Whether articles stored before the index (or under older rules) still wait to be indexed."""
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('entity_index_version',"
                             " 'entity_backfill_rowid')").fetchall())
    return meta.get("entity_index_version") != INDEX_VERSION or meta.get("entity_backfill_rowid") != -1


def backfill_batch(conn: sqlite3.Connection, limit: int = 200) -> bool:
    """Index the next `limit` articles the backfill has not reached; True once none is left. Under rules of
    another version the index is emptied first and every article indexed again. Resumable: the position is
    kept in `meta` in the same transaction."""
    version = conn.execute("SELECT value FROM meta WHERE key = 'entity_index_version'").fetchone()[0]
    if version != INDEX_VERSION:
        conn.execute("DELETE FROM entity_mentions")
        conn.execute("DELETE FROM entity_aliases")
        conn.execute("DELETE FROM entities")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'entity_index_version'", (INDEX_VERSION,))
        conn.execute("UPDATE meta SET value = 0 WHERE key = 'entity_backfill_rowid'")
    cursor = conn.execute("SELECT value FROM meta WHERE key = 'entity_backfill_rowid'").fetchone()[0]
    if cursor < 0:
        return True
    rows = conn.execute("SELECT rowid, text, annotations, published_day FROM articles WHERE rowid > ?"
                        " ORDER BY rowid LIMIT ?", (cursor, limit)).fetchall()
    for rowid, text, notes, day in rows:
        index_article(conn, rowid, text, notes, day)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'entity_backfill_rowid'", (rows[-1][0] if rows else -1,))
    return not rows


# -- reading ----------------------------------------------------------------------------------------------
@dataclass
class Entity:
    id: int
    name: str
    type: str
    articles: int  # articles that name it
    mentions: int  # times it is named, all articles together

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EntityPage:
    entities: list[Entity]
    total: int
    page: int
    page_size: int


@dataclass
class EntityArticle:
    id: str
    title: str
    url: str | None
    published: date | None
    source: str | None
    mentions: int  # times the article names the entity

    def to_dict(self) -> dict:
        return asdict(self) | {"published": self.published.isoformat() if self.published else None}


@dataclass
class Related:
    entity: Entity
    shared: int  # articles that name both

    def to_dict(self) -> dict:
        return self.entity.to_dict() | {"shared_articles": self.shared}


@dataclass
class EntityDetail:
    entity: Entity
    aliases: list[tuple[str, int]]  # (spelling, mentions), most written first
    articles: list[EntityArticle]  # one page, in date order; undated last
    page: int
    page_size: int
    weeks: list[tuple[date, int]]  # (Monday, mentions) of every week with a dated mention, oldest first
    related: list[Related] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "entity": self.entity.to_dict(),
            "aliases": [{"alias": a, "mentions": n} for a, n in self.aliases],
            "articles": [a.to_dict() for a in self.articles], "page": self.page, "page_size": self.page_size,
            "weeks": [{"week": w.isoformat(), "mentions": n} for w, n in self.weeks],
            "related": [r.to_dict() for r in self.related],
        }


def _entity(row: Iterable) -> Entity:
    return Entity(*list(row)[:5])


_RANK = ("CASE WHEN {c} = ?1 THEN 0 WHEN {c} LIKE ?1 || '%' THEN 1 WHEN {c} LIKE '% ' || ?1 || '%' THEN 2"
         " ELSE 3 END")
# (id, rank) of the entities whose name or a spelling contains the folded query ?1: whole name 0, its start 1,
# a word's start 2, anywhere 3. A folded query holds letters, digits and spaces only: no LIKE wildcard.
_RANKED_MATCHES = (
    f"WITH hits(id, rank) AS (SELECT id, {_RANK.format(c='name_key')} FROM entities"
    " WHERE name_key LIKE '%' || ?1 || '%'"
    f" UNION ALL SELECT entity_id, {_RANK.format(c='alias_key')} FROM entity_aliases"
    " WHERE alias_key LIKE '%' || ?1 || '%'),"
    " best AS (SELECT id, min(rank) AS rank FROM hits GROUP BY id)"
)


class EntityIndex:
    """Reads of the entity index over the store's connections (one per thread)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect

    def search(self, q: str | None = None, kind: str | None = None, page: int = 1,
               page_size: int = 20) -> EntityPage:
        """Entities whose name or a spelling contains `q` (folded: case and accents do not matter), best
        match first, then the most written about; without `q`, all of them, most written about first."""
        conn = self._connect()
        offset = (page - 1) * page_size
        if q:
            head = _RANKED_MATCHES  # ?1 is q, ?2 the type
            where, args = ("WHERE e.type = ?2", [q, kind]) if kind else ("", [q])
            total = conn.execute(f"{head} SELECT count(*) FROM best JOIN entities e ON e.id = best.id {where}",
                                 args).fetchone()[0]
            rows = conn.execute(f"{head} SELECT {_COLS} FROM best JOIN entities e ON e.id = best.id {where}"
                                f" ORDER BY best.rank, e.articles DESC, e.id LIMIT {page_size} OFFSET {offset}",
                                args).fetchall()
        else:
            where, args = ("WHERE e.type = ?", [kind]) if kind else ("", [])
            total = conn.execute(f"SELECT count(*) FROM entities e {where}", args).fetchone()[0]
            rows = conn.execute(f"SELECT {_COLS} FROM entities e {where} ORDER BY e.articles DESC, e.id"
                                f" LIMIT {page_size} OFFSET {offset}", args).fetchall()
        return EntityPage([_entity(r) for r in rows], total, page, page_size)

    def get(self, entity_id: int) -> Entity | None:
        row = self._connect().execute(f"SELECT {_COLS} FROM entities e WHERE e.id = ?", (entity_id,)).fetchone()
        return _entity(row) if row else None

    def detail(self, entity_id: int, page: int = 1, page_size: int = 50, newest_first: bool = False,
               related: int = 12) -> EntityDetail | None:
        """The entity with its spellings, one page of its articles, its mentions per week and the entities
        most often named in the same articles (among its latest `RELATED_ARTICLES`)."""
        entity = self.get(entity_id)
        if entity is None:
            return None
        conn = self._connect()
        aliases = [(r[0], r[1]) for r in conn.execute(
            "SELECT alias, sum(mentions) FROM entity_aliases WHERE entity_id = ? GROUP BY alias"
            " ORDER BY sum(mentions) DESC, min(id) LIMIT 20", (entity_id,))]
        return EntityDetail(entity, aliases, self.articles(entity_id, page, page_size, newest_first), page,
                            page_size, self.weeks(entity_id), self.related(entity_id, related))

    def articles(self, entity_id: int, page: int = 1, page_size: int = 50,
                 newest_first: bool = False) -> list[EntityArticle]:
        direction = "DESC" if newest_first else ""
        rows = self._connect().execute(
            "SELECT a.id, a.title, a.url, a.published, a.source, m.n FROM (SELECT article_rowid, published_day,"
            " count(*) AS n FROM entity_mentions WHERE entity_id = ? GROUP BY published_day, article_rowid"
            f" ORDER BY published_day IS NULL, published_day {direction}, article_rowid {direction}"
            " LIMIT ? OFFSET ?) m JOIN articles a ON a.rowid = m.article_rowid"
            f" ORDER BY m.published_day IS NULL, m.published_day {direction}, m.article_rowid {direction}",
            (entity_id, page_size, (page - 1) * page_size),
        ).fetchall()
        return [EntityArticle(r[0], r[1], r[2], date.fromisoformat(r[3]) if r[3] else None, r[4], r[5])
                for r in rows]

    def weeks(self, entity_id: int) -> list[tuple[date, int]]:
        """Mentions per week (weeks start on Monday: day ordinal 1 is Monday 1 January of year 1)."""
        rows = self._connect().execute(
            "SELECT published_day - ((published_day - 1) % 7) AS week, count(*) FROM entity_mentions"
            " WHERE entity_id = ? AND published_day IS NOT NULL GROUP BY week ORDER BY week", (entity_id,),
        ).fetchall()
        return [(date.fromordinal(w), n) for w, n in rows]

    def related(self, entity_id: int, limit: int = 12) -> list[Related]:
        """The entities named in most of the same articles, among this entity's latest `RELATED_ARTICLES`."""
        conn = self._connect()
        recent = [r[0] for r in conn.execute(
            "SELECT DISTINCT article_rowid FROM (SELECT article_rowid FROM entity_mentions WHERE entity_id = ?"
            " ORDER BY published_day DESC, article_rowid DESC) LIMIT ?", (entity_id, RELATED_ARTICLES))]
        if not recent:
            return []
        rows = conn.execute(
            f"SELECT {_COLS}, count(DISTINCT m.article_rowid) AS shared FROM entity_mentions m"
            " JOIN entities e ON e.id = m.entity_id WHERE m.article_rowid IN (SELECT value FROM json_each(?))"
            " AND m.entity_id != ? GROUP BY m.entity_id ORDER BY shared DESC, e.articles DESC, e.id LIMIT ?",
            (_json_list(recent), entity_id, limit),
        ).fetchall()
        return [Related(_entity(r), r[5]) for r in rows]

    def of_article(self, article_id: str, limit: int = 60) -> list[Entity]:
        """The entities an article names, most named first."""
        rows = self._connect().execute(
            f"SELECT {_COLS}, count(*) AS n FROM articles a JOIN entity_mentions m ON m.article_rowid = a.rowid"
            " JOIN entities e ON e.id = m.entity_id WHERE a.id = ? GROUP BY e.id ORDER BY n DESC, e.name LIMIT ?",
            (article_id, limit),
        ).fetchall()
        return [_entity(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Entities per type."""
        return dict(self._connect().execute("SELECT type, count(*) FROM entities GROUP BY type").fetchall())


def _json_list(values: list[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"
