"""Numbered schema migrations of the SQLite store, applied in order and tracked by `user_version`."""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: articles, chunks (with their vector), the FTS5 index and a small key/value table.
    """
    CREATE TABLE articles (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        url TEXT,
        published TEXT,
        published_day INTEGER,
        source TEXT,
        language TEXT,
        digest TEXT,
        content_hash TEXT NOT NULL,
        created_at TEXT DEFAULT CURRENT_TIMESTAMP,
        updated_at TEXT DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX articles_url ON articles(url);
    CREATE INDEX articles_hash ON articles(content_hash);
    CREATE INDEX articles_day ON articles(published_day);
    CREATE INDEX articles_source ON articles(source);
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_rowid INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        vec BLOB,
        vec_seq INTEGER
    );
    CREATE INDEX chunks_article ON chunks(article_rowid);
    CREATE INDEX chunks_pending ON chunks(id) WHERE vec IS NULL;
    CREATE INDEX chunks_vec_seq ON chunks(vec_seq);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        title, text, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta VALUES ('vec_seq', 0), ('vec_deletions', 0);
    """,
    # 2: the FTS5 index carries each chunk's article (never changes: an edited article gets new chunks), so a
    # filtered keyword search tests its matches against the filtered articles without reading chunk rows,
    # whose inline vectors made that join the slow part (10k chunks: 5 ms; 50k: 10 ms, twice unfiltered).
    """
    CREATE VIRTUAL TABLE chunks_fts_new USING fts5(
        title, text, article_rowid UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2'
    );
    INSERT INTO chunks_fts_new (rowid, title, text, article_rowid)
        SELECT f.rowid, f.title, f.text, c.article_rowid FROM chunks_fts f JOIN chunks c ON c.id = f.rowid;
    DROP TABLE chunks_fts;
    ALTER TABLE chunks_fts_new RENAME TO chunks_fts;
    """,
    # 3: each article's sentence notes (entities, lemmas, flags) from spaCy at ingest, so asking runs no NLP.
    """
    ALTER TABLE articles ADD COLUMN annotations TEXT;
    """,
    # 4: the polling state of watched feeds (store/feeds.py): the validators of the last fetch, failures and
    # the next poll per feed, and the entries already ingested (key → version), so a restart resumes.
    """
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        last_success_at REAL,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at REAL NOT NULL DEFAULT 0
    );
    CREATE TABLE feed_entries (
        feed_url TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE,
        key TEXT NOT NULL,
        version TEXT NOT NULL,
        PRIMARY KEY (feed_url, key)
    ) WITHOUT ROWID;
    """,
    # 5: the entity index (store/entities.py): entities by key with their article and mention counts kept
    # current, the spellings each was written in, and one row per mention (sentence, day) for timelines. The
    # meta rows track the indexing rules' version and the backfill of articles stored before, by rowid.
    """
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        articles INTEGER NOT NULL DEFAULT 0,
        mentions INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX entities_by_articles ON entities(articles DESC, id);
    CREATE INDEX entities_by_type ON entities(type, articles DESC, id);
    CREATE TABLE entity_aliases (
        id INTEGER PRIMARY KEY,
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        alias_key TEXT NOT NULL,
        type TEXT NOT NULL,
        full INTEGER NOT NULL,
        mentions INTEGER NOT NULL DEFAULT 0,
        UNIQUE (entity_id, alias, type)
    );
    CREATE TABLE entity_mentions (
        entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        alias_id INTEGER NOT NULL,
        article_rowid INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
        sentence INTEGER NOT NULL,
        published_day INTEGER
    );
    CREATE INDEX entity_mentions_timeline ON entity_mentions(entity_id, published_day, article_rowid);
    CREATE INDEX entity_mentions_article ON entity_mentions(article_rowid, entity_id);
    INSERT INTO meta VALUES ('entity_index_version', 0), ('entity_backfill_rowid', 0);
    """,
    # 6: stories (store/stories.py): each article's story, with the words it is compared by, so grouping a new
    # article reads no other article's text; and the syndicated copies of an article (the same text under
    # another URL), kept as links to it instead of second articles. The meta row tracks the backfill by rowid.
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        first_day INTEGER,
        last_day INTEGER,
        articles INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX stories_last_day ON stories(last_day);
    CREATE TABLE story_articles (
        article_rowid INTEGER PRIMARY KEY REFERENCES articles(rowid) ON DELETE CASCADE,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        published_day INTEGER,
        terms TEXT NOT NULL,
        score REAL,
        provisional INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX story_articles_story ON story_articles(story_id, published_day);
    CREATE INDEX story_articles_pending ON story_articles(article_rowid) WHERE provisional = 1;
    CREATE TABLE article_copies (
        article_rowid INTEGER NOT NULL REFERENCES articles(rowid) ON DELETE CASCADE,
        url TEXT NOT NULL,
        source TEXT,
        published TEXT,
        PRIMARY KEY (article_rowid, url)
    ) WITHOUT ROWID;
    CREATE INDEX article_copies_url ON article_copies(url);
    INSERT INTO meta VALUES ('story_backfill_rowid', 0);
    """,
]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema; returns the version it is at."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")
    return len(MIGRATIONS)
