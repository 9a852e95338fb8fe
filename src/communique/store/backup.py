"""Online, consistent backups of the SQLite store, and restoring one.

`backup` copies the database with SQLite's backup API while the service keeps serving and writing: the copy is
one consistent state, written beside its destination and renamed into place, so a crash leaves no half file.
The ANN index (`<db>.usearch`) is not copied: vectors live in the database, and the index is rebuilt from them
the first time a restored store searches. `restore` checks that a file is a sound Communique database before it
replaces the store's file (again by rename), and removes the old store's ANN index, WAL and shared-memory files.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from communique.errors import BadInput

_TABLES = {"articles", "chunks", "meta"}


def backup(conn: sqlite3.Connection, dest: Path) -> int:
    """Copy the database behind `conn` to `dest`; returns the size of the copy in bytes."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
    finally:
        target.close()
    os.replace(partial, dest)
    return dest.stat().st_size


def check(path: Path) -> int:
    """The number of articles of a sound Communique database at `path`; BadInput for anything else."""
    if not Path(path).is_file():
        raise BadInput(f"no backup file at {path}")
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BadInput(f"{path} is damaged (integrity check failed)")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables >= _TABLES:
                raise BadInput(f"{path} is not a Communique database")
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"{path} is not a Communique database: {exc}") from None


def restore(source: Path, db: Path) -> int:
    """Replace the database at `db` (which no process may have open) by the backup `source`; returns its
    number of articles."""
    articles = check(source)
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    incoming = db.with_name(db.name + ".restoring")
    src = sqlite3.connect(f"file:{Path(source).resolve()}?mode=ro", uri=True)
    try:
        backup(src, incoming)
    finally:
        src.close()
    for stale in (db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", ".usearch", ".usearch.json")):
        stale.unlink(missing_ok=True)
    os.replace(incoming, db)
    return articles
