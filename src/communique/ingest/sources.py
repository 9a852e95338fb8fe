"""Turn the paths and URLs given to `ingest` into items, picking a reader by type or content."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from communique.ingest.digest import parse_digest
from communique.ingest.feed import looks_like_feed, parse_feed
from communique.ingest.fetch import Fetcher, FetchError
from communique.ingest.html import parse_html
from communique.ingest.items import Item, date_from_name
from communique.ingest.jsonl import parse_jsonl

_EXT = {
    ".txt": "digest", ".text": "digest", ".md": "digest",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xml": "feed", ".rss": "feed", ".atom": "feed",
    ".html": "html", ".htm": "html",
}


@dataclass
class ReadOptions:
    published: date | None = None
    source: str | None = None
    max_item_bytes: int = 5_000_000
    fetch_concurrency: int = 8


def _sniff(head: bytes) -> str | None:
    """Reader for content whose extension says nothing; None for binary data."""
    if b"\x00" in head[:8000]:
        return None
    stripped = head.lstrip().lower()
    if looks_like_feed(head):
        return "feed"
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<body" in stripped[:4000]:
        return "html"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "digest"


def _decode(data: bytes, origin: str) -> str | Item:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Item(origin, error="not UTF-8 text")


def read_bytes(data: bytes, origin: str, kind: str | None, opts: ReadOptions, fetcher: Fetcher | None,
               name: str = "", url: str | None = None) -> Iterator[Item]:
    kind = kind or _sniff(data[:8000])
    if kind is None or (kind != "jsonl" and b"\x00" in data[:8000]):
        yield Item(origin, error="binary file, not text")
        return
    if kind == "jsonl":
        import io

        yield from parse_jsonl(io.BytesIO(data), origin, opts.max_item_bytes)
    elif kind == "feed":
        yield from parse_feed(data, origin, fetcher, opts.fetch_concurrency)
    elif kind == "html":
        yield parse_html(data, origin, url=url)
    else:
        text = _decode(data, origin)
        if isinstance(text, Item):
            yield text
            return
        stem = Path(name).stem if name else None
        yield from parse_digest(text, origin, digest=stem, published=opts.published or date_from_name(name),
                                source=opts.source)


def _read_file(path: Path, opts: ReadOptions, fetcher: Fetcher | None) -> Iterator[Item]:
    origin = str(path)
    kind = _EXT.get(path.suffix.lower())
    try:
        if kind == "jsonl":  # may be large: stream it line by line
            with path.open("rb") as stream:
                yield from parse_jsonl(stream, origin, opts.max_item_bytes)
            return
        size = path.stat().st_size
        if size > opts.max_item_bytes:
            yield Item(origin, error=f"file larger than {opts.max_item_bytes} bytes")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Item(origin, error=f"cannot read file: {exc.strerror or exc}")
        return
    if not data.strip():
        yield Item(origin, error="empty file")
        return
    yield from read_bytes(data, origin, kind, opts, fetcher, name=path.name)


def _read_url(url: str, opts: ReadOptions, fetcher: Fetcher) -> Iterator[Item]:
    try:
        page = fetcher.get(url)
    except FetchError as exc:
        yield Item(url, error=str(exc))
        return
    ctype = page.content_type
    if "rss" in ctype or "atom" in ctype or (("xml" in ctype) and looks_like_feed(page.content)):
        kind = "feed"
    elif "html" in ctype:
        kind = "html"
    elif "json" in ctype:
        kind = "jsonl"
    else:
        kind = None
    name = url.rstrip("/").rsplit("/", 1)[-1]
    yield from read_bytes(page.content, url, kind, opts, fetcher, name=name, url=page.url)


def read_sources(targets: list[str], opts: ReadOptions, fetcher: Fetcher | None) -> Iterator[Item]:
    """Every item of every target, in order; folders are walked recursively, hidden files skipped."""
    for target in targets:
        if target.startswith(("http://", "https://")):
            if fetcher is None:
                yield Item(target, error="fetching URLs is disabled here")
            else:
                yield from _read_url(target, opts, fetcher)
            continue
        scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://", target)
        if scheme:
            yield Item(target, error=f"{scheme.group(1)}:// is not supported: give an http(s) URL, a file or a folder")
            continue
        path = Path(target)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield from _read_file(Path(root) / name, opts, fetcher)
        elif path.exists():
            yield from _read_file(path, opts, fetcher)
        else:
            yield Item(target, error="no such file or folder")
