"""The embedded default store: one SQLite file (WAL) with articles, chunks, FTS5 and vectors.

Each write and delete also keeps the entity index (store/entities.py) and the stories (store/stories.py) in the
same transaction; the same text under another URL is linked to its article as a syndicated copy, not stored again.
Keyword search is FTS5's BM25. Dense search is exact (a float32 matrix product) over vectors kept in
memory and refreshed incrementally when another connection commits; above `ann_threshold` vectors a
persisted ANN index takes over (see store/ann.py). One writer at a time (a lock), readers per thread.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np

from communique.answer.citations import defuse
from communique.errors import BackendUnavailable, BadInput
from communique.models import Article, Chunk, Filters, Hit
from communique.store import entities as entity_index
from communique.store import stories as story_groups
from communique.store.base import ArticlePage, StoreStats, WriteResult, embedding_text
from communique.store.schema import migrate
from communique.store.vectors import VectorIndex
from communique.text import content_hash, keywords

_LIST_COLS = "id, title, text, url, published, source, language, digest"
_ARTICLE_COLS = _LIST_COLS + ", annotations"


def _day(d: date | None) -> int | None:
    return d.toordinal() if d else None


def _article(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"],
        title=defuse(row["title"]),
        text=defuse(row["text"]),
        url=row["url"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        source=row["source"],
        language=row["language"],
        digest=row["digest"],
        annotations=row["annotations"] if "annotations" in row.keys() else None,  # noqa: SIM118 (a Row's `in` tests values)
    )


def match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression: the words OR-ed, each quoted so that no word is read as syntax."""
    return " OR ".join(f'"{t}"' for t in terms)


COMMON_SHARE = 0.05  # a term in more than this share of chunks barely ranks, but costs a scan of them all
MAX_TERMS = 8
# Most matches BM25 may score for one query. Only large stores reach it (at 1M chunks: p95 135 → 75 ms, top 10
# unchanged for 93% of hits); below ~250k chunks the rarest eight terms never add up to this many.
POSTINGS_BUDGET = 100_000


class SQLiteStore:
    """See the module docstring. Safe to share between threads."""

    backend = "sqlite"

    def __init__(self, path: str | Path, ann_threshold: int = 200_000) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendUnavailable(f"cannot create the data directory {self.path.parent}: {exc}") from exc
        self._local = threading.local()
        self._write_lock = threading.Lock()
        # every connection opened, with the thread it serves: a thread's connection is closed once it has ended
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._registry_lock = threading.Lock()
        self._df_cache: dict[str, int] = {}
        self._df_basis = 1
        with self._write_lock:
            migrate(self._conn())
        self.entities = entity_index.EntityIndex(self._conn)
        self._backfill_entities()
        self.stories = story_groups.StoryIndex(self._conn)
        self._backfill_stories()
        self.vectors = VectorIndex(self._conn, self.path, ann_threshold=ann_threshold)

    # -- connections -------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            except sqlite3.Error as exc:
                raise BackendUnavailable(f"cannot open database {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._registry_lock:
                self._close_orphans()
                self._connections.append((threading.current_thread(), conn))
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended: a server's worker threads come and go, and each
        would otherwise leave its connection (and its file handles and cache) behind."""
        alive = []
        for thread, conn in self._connections:
            if thread.is_alive():
                alive.append((thread, conn))
            else:
                conn.close()
        self._connections = alive

    @contextmanager
    def _transaction(self):
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _backfill_entities(self) -> None:
        """Index the entities of articles stored before the index existed (or under older rules), a batch per
        transaction: a large archive pays this once, on the first open after an upgrade, and an interrupted
        backfill resumes where it stopped."""
        if not entity_index.backfill_pending(self._conn()):
            return
        while True:
            with self._transaction() as conn:
                if entity_index.backfill_batch(conn):
                    return

    def _backfill_stories(self) -> None:
        """Group the articles stored before stories existed, a batch per transaction, resumably (as entities)."""
        if not story_groups.backfill_pending(self._conn()):
            return
        while True:
            with self._transaction() as conn:
                if story_groups.backfill_batch(conn):
                    return

    def sync(self) -> None:
        """Top up the in-memory vectors; crossing `ann_threshold` builds the ANN index and saves it. Later
        additions are saved every ~5% of changes and on close, not per ingest: the file is ~0.9 GB at 1M chunks,
        and a restart re-adds from the database whatever a crash left unsaved."""
        self.vectors.refresh()

    def close(self) -> None:
        with self._write_lock:  # never under a transaction another thread is running
            self.vectors.save()
            with self._registry_lock:
                for _, conn in self._connections:
                    conn.close()
                self._connections.clear()
            self._local = threading.local()

    def backup(self, dest: Path) -> int:
        """A consistent copy of the database at `dest`, made while it is in use; returns its size in bytes."""
        from communique.store.backup import backup

        return backup(self._conn(), dest)

    # -- writing -----------------------------------------------------------------------------------
    def _find_existing(self, conn: sqlite3.Connection, article: Article, digest: str) -> sqlite3.Row | None:
        cols = "rowid, id, url, content_hash, published_day, annotations IS NULL AS bare"
        for sql, arg in (
            (f"SELECT {cols} FROM articles WHERE id = ?", article.id),
            (f"SELECT {cols} FROM articles WHERE url = ?", article.url),
            (f"SELECT {cols} FROM articles WHERE content_hash = ?", digest),
        ):
            if arg:
                row = conn.execute(sql, (arg,)).fetchone()
                if row:
                    return row
        return None

    def write(self, article: Article, chunks: list[Chunk]) -> WriteResult:
        if not article.id:
            raise BadInput("article has no id")
        digest = content_hash(article.title + "\n" + article.text)
        with self._transaction() as conn:
            existing = self._find_existing(conn, article, digest)
            values = (
                article.title, article.text, article.url, article.published.isoformat() if article.published
                else None, _day(article.published), article.source, article.language, article.digest, digest,
                article.annotations,
            )
            if existing is None:
                cur = conn.execute(
                    "INSERT INTO articles (id, title, text, url, published, published_day, source, language,"
                    " digest, content_hash, annotations) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (article.id, *values),
                )
                rowid, article_id, outcome = cur.lastrowid, article.id, "added"
                if article.url:  # a URL once seen as a copy now has its own article
                    conn.execute("DELETE FROM article_copies WHERE url = ?", (article.url,))
            else:
                rowid, article_id = existing["rowid"], existing["id"]
                if existing["content_hash"] == digest:
                    # Same text: keep chunks and vectors, refresh metadata that may have been missing.
                    conn.execute(
                        "UPDATE articles SET url = coalesce(url, ?), published = coalesce(published, ?),"
                        " published_day = coalesce(published_day, ?), source = coalesce(source, ?),"
                        " annotations = coalesce(?, annotations) WHERE rowid = ?",
                        (article.url, values[3], values[4], article.source, article.annotations, rowid),
                    )
                    if (existing["bare"] and article.annotations) or (existing["published_day"] is None
                                                                      and article.published):
                        self._index_entities(conn, rowid)  # its mentions gain their entities or their day
                        story_groups.group_article(conn, rowid)
                    copy = (existing["id"] != article.id and bool(article.url) and existing["url"] is not None
                            and article.url != existing["url"])
                    if copy:  # found by its text alone: the same article syndicated under another URL
                        story_groups.link_copy(conn, rowid, article.url, article.source, values[3])
                    return WriteResult("unchanged", article_id, syndicated=copy)
                conn.execute(
                    "UPDATE articles SET title=?, text=?, url=coalesce(?, url), published=coalesce(?, published),"
                    " published_day=coalesce(?, published_day), source=coalesce(?, source), language=?,"
                    " digest=coalesce(?, digest), content_hash=?, annotations=?, updated_at=CURRENT_TIMESTAMP"
                    " WHERE rowid=?",
                    (*values, rowid),
                )
                self._delete_chunks(conn, rowid)
                outcome = "updated"
            for ch in chunks:
                cur = conn.execute(
                    "INSERT INTO chunks (article_rowid, seq, text, start, end) VALUES (?,?,?,?,?)",
                    (rowid, ch.seq, ch.text, ch.start, ch.end),
                )
                conn.execute(
                    "INSERT INTO chunks_fts (rowid, title, text, article_rowid) VALUES (?,?,?,?)",
                    (cur.lastrowid, article.title, ch.text, rowid),
                )
            self._index_entities(conn, rowid)
            story_groups.group_article(conn, rowid)
            return WriteResult(outcome, article_id)

    @staticmethod
    def _index_entities(conn: sqlite3.Connection, rowid: int) -> None:
        """(Re)index an article's entities from the row just written: its stored annotations and day."""
        row = conn.execute("SELECT text, annotations, published_day FROM articles WHERE rowid = ?", (rowid,)).fetchone()
        entity_index.index_article(conn, rowid, row["text"], row["annotations"], row["published_day"])

    def _delete_chunks(self, conn: sqlite3.Connection, article_rowid: int) -> None:
        rows = conn.execute("SELECT id, vec_seq FROM chunks WHERE article_rowid = ?", (article_rowid,)).fetchall()
        conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(r[0],) for r in rows])
        if any(r[1] is not None for r in rows):
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'vec_deletions'")
        conn.execute("DELETE FROM chunks WHERE article_rowid = ?", (article_rowid,))

    def pending_vectors(self, limit: int) -> list[tuple[int, str]]:
        rows = self._conn().execute(
            "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.rowid = c.article_rowid"
            " WHERE c.vec IS NULL ORDER BY c.id LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r["id"], embedding_text(r["title"], r["text"])) for r in rows]

    def write_vectors(self, chunk_ids: list[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(chunk_ids) != len(vectors):
            raise BadInput("one vector per chunk id is needed")
        with self._transaction() as conn:
            seq = conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'vec_seq' RETURNING value").fetchone()[0]
            conn.executemany(
                "UPDATE chunks SET vec = ?, vec_seq = ? WHERE id = ?",
                [(v.tobytes(), seq, int(i)) for i, v in zip(chunk_ids, vectors, strict=True)],
            )
            story_groups.regroup_embedded(conn, [int(i) for i in chunk_ids])

    def delete(self, article_id: str) -> bool:
        with self._transaction() as conn:
            row = conn.execute("SELECT rowid FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                return False
            self._delete_chunks(conn, row["rowid"])
            entity_index.index_article(conn, row["rowid"], "", None, None)  # takes its mentions and counts back
            story_groups.ungroup_article(conn, row["rowid"])
            conn.execute("DELETE FROM articles WHERE rowid = ?", (row["rowid"],))
            return True

    # -- reading -----------------------------------------------------------------------------------
    def _filter_sql(self, filters: Filters | None, alias: str = "a") -> tuple[str, list]:
        if filters is None or filters.is_empty():
            return "", []
        clauses, args = [], []
        if filters.since:
            clauses.append(f"{alias}.published_day >= ?")
            args.append(_day(filters.since))
        if filters.until:
            clauses.append(f"{alias}.published_day <= ?")
            args.append(_day(filters.until))
        if filters.sources:
            clauses.append(f"{alias}.source IN ({','.join('?' * len(filters.sources))})")
            args.extend(filters.sources)
        if filters.article_ids:
            clauses.append(f"{alias}.id IN ({','.join('?' * len(filters.article_ids))})")
            args.extend(filters.article_ids)
        return " AND " + " AND ".join(clauses), args

    def _doc_freq(self, term: str, chunks: int) -> int:
        """Chunks containing `term`, cached until the corpus grows by a tenth."""
        if chunks > self._df_basis * 1.1 or chunks < self._df_basis * 0.9:
            self._df_cache.clear()
            self._df_basis = max(chunks, 1)
        if term not in self._df_cache:
            row = self._conn().execute(
                "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
                (match_expression([term]), int(chunks * COMMON_SHARE) + 1),
            ).fetchone()
            if len(self._df_cache) > 50_000:
                self._df_cache.clear()
            self._df_cache[term] = row[0]
        return self._df_cache[term]

    def _query_terms(self, query: str) -> list[str]:
        """The question's rarest content words: BM25 ranks by them, and common words only slow the scan."""
        terms = keywords(query)[:24]
        if len(terms) <= 2:
            return terms
        chunks = self._conn().execute("SELECT max(rowid) FROM chunks_fts").fetchone()[0] or 0
        if chunks < 5_000:
            return terms[:MAX_TERMS * 2]
        limit = int(chunks * COMMON_SHARE)
        freq = {t: self._doc_freq(t, chunks) for t in terms}
        rare = [t for t in terms if freq[t] <= limit]
        if len(rare) < 2:  # keep the two least common rather than search nothing
            rare = sorted(terms, key=freq.__getitem__)[:2]
        kept, postings = [], 0
        for t in sorted(rare, key=freq.__getitem__)[:MAX_TERMS]:
            if len(kept) >= 2 and postings + freq[t] > POSTINGS_BUDGET:
                break
            kept.append(t)
            postings += freq[t]
        return kept

    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        match = match_expression(self._query_terms(query))
        if not match or k <= 0:
            return []
        # Rank inside FTS5 and join only the winners: joining every match before the sort costs three to
        # five times more at 100k chunks. A filter is a set of articles, tested against each match's
        # article_rowid column (see schema migration 2).
        where, args = self._filter_sql(filters)
        sql = "SELECT rowid, bm25(chunks_fts, 2.0, 1.0) AS rank FROM chunks_fts WHERE chunks_fts MATCH ?"
        if where:
            sql += f" AND article_rowid IN (SELECT rowid FROM articles a WHERE 1=1{where})"
        rows = self._conn().execute(sql + " ORDER BY rank LIMIT ?", (match, *args, k)).fetchall()
        return self.hits_for([(r[0], -r[1]) for r in rows])

    def search_vector(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        allowed = None
        if filters is not None and not filters.is_empty():
            where, args = self._filter_sql(filters)
            allowed = [r[0] for r in self._conn().execute(f"SELECT rowid FROM articles a WHERE 1=1{where}", args)]
            if not allowed:
                return []
        found = self.vectors.search(np.asarray(vector, dtype=np.float32), k, allowed)
        return self.hits_for(found)

    def hits_for(self, scored: list[tuple[int, float]]) -> list[Hit]:
        """Hits for (chunk id, score) pairs, in the given order."""
        if not scored:
            return []
        ids = [cid for cid, _ in scored]
        rows = self._conn().execute(
            "SELECT c.id, c.text, c.start, c.end, c.vec IS NULL AS pending, a.id AS article_id, a.title, a.url,"
            " a.published, a.source, s.story_id FROM chunks c JOIN articles a ON a.rowid = c.article_rowid"
            " LEFT JOIN story_articles s ON s.article_rowid = a.rowid"
            f" WHERE c.id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
        by_id = {r["id"]: r for r in rows}
        reported = self.stories.reported_by(r["story_id"] for r in rows if r["story_id"] is not None)
        return [self._hit(by_id[cid], score, reported) for cid, score in scored if cid in by_id]

    @staticmethod
    def _hit(r: sqlite3.Row, score: float, reported: dict[int, int]) -> Hit:
        return Hit(
            chunk_id=r["id"], article_id=r["article_id"], score=float(score), text=r["text"], start=r["start"],
            end=r["end"], title=r["title"], url=r["url"],
            published=date.fromisoformat(r["published"]) if r["published"] else None, source=r["source"],
            pending=bool(r["pending"]), story_id=r["story_id"], reported_by=reported.get(r["story_id"], 1),
        )

    def story_id(self, article_id: str) -> int | None:
        """The story an article reports (store/stories.py); timelines and briefings group by it (news/stories.py)."""
        found = self.stories.of_articles([article_id]).get(article_id)
        return found[0] if found else None

    def get(self, article_id: str) -> Article | None:
        row = self._conn().execute(f"SELECT {_ARTICLE_COLS} FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article(row) if row else None

    def chunks(self, article_id: str) -> list[Chunk]:
        rows = self._conn().execute(
            "SELECT c.id, c.seq, c.text, c.start, c.end FROM chunks c JOIN articles a ON a.rowid = c.article_rowid"
            " WHERE a.id = ? ORDER BY c.seq",
            (article_id,),
        ).fetchall()
        return [Chunk(article_id, r["seq"], r["text"], r["start"], r["end"], r["id"]) for r in rows]

    def list_articles(
        self, query: str | None = None, filters: Filters | None = None, page: int = 1, page_size: int = 20
    ) -> ArticlePage:
        page, page_size = max(1, page), max(1, min(page_size, 200))
        where, args = self._filter_sql(filters)
        if query and query.strip():
            like = f"%{query.strip()}%"
            where += " AND (a.title LIKE ? OR a.text LIKE ?)"
            args += [like, like]
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) FROM articles a WHERE 1=1{where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_LIST_COLS} FROM articles a WHERE 1=1{where}"
            " ORDER BY a.published_day IS NULL, a.published_day DESC, a.rowid DESC LIMIT ? OFFSET ?",
            (*args, page_size, (page - 1) * page_size),
        ).fetchall()
        return ArticlePage([_article(r) for r in rows], total, page, page_size)

    def stats(self) -> StoreStats:
        conn = self._conn()
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks, embedded = conn.execute("SELECT count(*), count(vec) FROM chunks").fetchone()
        sources = dict(conn.execute("SELECT coalesce(source, '(none)'), count(*) FROM articles GROUP BY 1"))
        first, last = conn.execute("SELECT min(published), max(published) FROM articles").fetchone()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return StoreStats(articles, chunks, embedded, sources, first, last, size, self.backend)
