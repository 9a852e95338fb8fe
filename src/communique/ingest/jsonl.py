"""One article per JSON line: {"id", "url", "title", "text", "published", "source"}."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from communique.ingest.items import Item, parse_date
from communique.models import Article


def parse_record(record: object, origin: str) -> Item:
    if not isinstance(record, dict):
        return Item(origin, error="expected a JSON object")
    title = str(record.get("title") or "").strip()
    text = str(record.get("text") or record.get("content") or "").strip()
    if not text:
        return Item(origin, error="no 'text'")
    if not title:
        title = text.split("\n", 1)[0][:120]
    published = parse_date(record.get("published") or record.get("date"))
    if record.get("published") and published is None:
        return Item(origin, error=f"unreadable 'published' date {record.get('published')!r}")
    return Item(
        origin,
        Article(
            id=str(record.get("id") or ""),
            title=title,
            text=text,
            url=(str(record["url"]).strip() or None) if record.get("url") else None,
            published=published,
            source=(str(record["source"]).strip() or None) if record.get("source") else None,
            language=record.get("language") if isinstance(record.get("language"), str) else None,
        ),
    )


def parse_jsonl(stream: IO[bytes], origin: str, max_line_bytes: int) -> Iterator[Item]:
    """Read line by line with a length cap, so one 10 MB line cannot exhaust memory or stop the batch."""
    lineno = 0
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        lineno += 1
        where = f"{origin}:{lineno}"
        if len(line) > max_line_bytes:
            while line and not line.endswith(b"\n"):  # skip the rest of the oversized line
                line = stream.readline(1 << 20)
            yield Item(where, error=f"line longer than {max_line_bytes} bytes")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Item(where, error=f"malformed JSON: {exc}")
            continue
        yield parse_record(record, where)
