"""An ingest killed at random points loses and duplicates nothing: 20 SIGKILLs of a real `communique ingest`
process over 2,000 articles, with and without embedding, then one run to the end."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ARTICLES = 2_000
KILLS = 20


def _corpus(path: Path) -> None:
    rng = random.Random(7)
    places = ["Tallinn", "Lagos", "Quito", "Hanoi", "Oslo", "Accra", "Lima", "Riga", "Perth", "Cork"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(ARTICLES):
            place = rng.choice(places)
            text = (f"The council of {place} approved plan number {i} on Monday. It will cost {rng.randint(2, 900)} "
                    f"million euros and employ {rng.randint(10, 5000)} people, officials said.")
            out.write(json.dumps({"id": f"a{i}", "title": f"{place} approves plan {i}", "text": text,
                                  "published": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"}) + "\n")


def _check(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        q = {
            "articles": "SELECT count(*) FROM articles",
            "distinct_ids": "SELECT count(DISTINCT id) FROM articles",
            "orphan_chunks": "SELECT count(*) FROM chunks WHERE article_rowid NOT IN (SELECT rowid FROM articles)",
            "chunks": "SELECT count(*) FROM chunks",
            "fts": "SELECT count(*) FROM chunks_fts",
            "pending": "SELECT count(*) FROM chunks WHERE vec IS NULL",
            "articles_without_chunks": "SELECT count(*) FROM articles WHERE rowid NOT IN "
                                       "(SELECT article_rowid FROM chunks)",
            # the entity index is written in the article's transaction: its counts always match its mentions
            "entity_count_mismatch": "SELECT count(*) FROM (SELECT e.id FROM entities e LEFT JOIN entity_mentions m"
                                     " ON m.entity_id = e.id GROUP BY e.id HAVING e.articles !="
                                     " count(DISTINCT m.article_rowid) OR e.mentions != count(m.rowid))",
            "indexed_articles": "SELECT count(DISTINCT article_rowid) FROM entity_mentions",
        }
        return {name: conn.execute(sql).fetchone()[0] for name, sql in q.items()}
    finally:
        conn.close()


def test_twenty_kills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    corpus, db = tmp_path / "articles.jsonl", tmp_path / "crash.db"
    _corpus(corpus)
    rng = random.Random(11)
    command = [sys.executable, "-m", "communique.cli", "--db", str(db), "ingest", str(corpus)]
    for kill in range(KILLS):
        proc = subprocess.Popen(command + (["--no-embed"] if kill % 2 else []), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if db.exists():
            counts = _check(db)
            assert counts["articles"] == counts["distinct_ids"] and counts["orphan_chunks"] == 0
            assert counts["chunks"] == counts["fts"] and counts["articles_without_chunks"] == 0
            assert counts["entity_count_mismatch"] == 0
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = _check(db)
    assert counts["articles"] == counts["distinct_ids"] == ARTICLES
    assert counts["orphan_chunks"] == 0 and counts["articles_without_chunks"] == 0
    assert counts["chunks"] == counts["fts"] and counts["pending"] == 0
    assert counts["entity_count_mismatch"] == 0 and counts["indexed_articles"] > ARTICLES // 2
    # the index built across the kills is the one a rebuild from the stored annotations makes
    assert _entities(db) == _rebuilt_entities(db, tmp_path / "rebuilt.db")


def _entities(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, type, name, articles, mentions FROM entities ORDER BY key").fetchall()


def _rebuilt_entities(db: Path, copy: Path) -> list[tuple]:
    from communique.store.sqlite import SQLiteStore

    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        dst.execute("UPDATE meta SET value = 0 WHERE key = 'entity_index_version'")  # older rules: rebuild on open
    SQLiteStore(copy).close()
    return _entities(copy)
