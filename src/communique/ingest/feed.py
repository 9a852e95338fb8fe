"""RSS and Atom feeds (feedparser). An entry that carries only a summary is fetched in full.

Each item names its entry (`FeedEntry`): `fresh` lets a watcher drop entries it has seen before anything of them
is fetched or stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from communique.ingest.fetch import Fetcher, FetchError
from communique.ingest.html import parse_html
from communique.ingest.items import FeedEntry, Item, parse_date
from communique.models import Article

FULL_TEXT_CHARS = 800  # an entry body shorter than this is taken for a summary


def _html_to_text(html: str) -> str:
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # lxml rejects empty or odd fragments
        return html
    blocks = [b.text_content().strip() for b in root.iter("p", "li", "h2", "h3", "blockquote")]
    text = "\n\n".join(b for b in blocks if b)
    return text or root.text_content().strip()


def looks_like_feed(content: bytes) -> bool:
    head = content[:2000].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head) or \
        head.startswith((b"<rss", b"<feed"))


def entry_of(entry: dict) -> FeedEntry:
    """The entry's key (id, else link, else title) and a hash of everything the feed says about it."""
    # dict.get: feedparser's own get answers a missing `updated` with `published`, and warns
    parts = [entry.get("title", ""), entry.get("link", ""), dict.get(entry, "updated") or entry.get("published", ""),
             entry.get("summary", ""), *(c.get("value", "") for c in entry.get("content") or [])]
    version = hashlib.sha1("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:16]
    return FeedEntry(entry.get("id") or entry.get("link") or entry.get("title") or version, version)


def parse_feed(
    content: bytes, origin: str, fetcher: Fetcher | None, concurrency: int = 8,
    fresh: Callable[[FeedEntry], bool] | None = None,
) -> Iterator[Item]:
    """Every entry of the feed as an item; with `fresh`, only the entries it accepts."""
    import feedparser

    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        yield Item(origin, error=f"not a readable feed: {parsed.get('bozo_exception')}")
        return
    if not parsed.entries and not parsed.get("version"):  # well-formed, but neither RSS nor Atom (an HTML page)
        yield Item(origin, error="not a readable feed: no RSS or Atom in it")
        return
    if not parsed.entries:
        if fresh is None:  # reading once, an empty feed is a surprise; watching, it is a feed with nothing new
            yield Item(origin, error="the feed has no entries")
        return
    feed_title = parsed.feed.get("title") or urlparse(parsed.feed.get("link", "")).hostname
    todo: list[tuple[str, dict, FeedEntry]] = []
    for i, entry in enumerate(parsed.entries, start=1):
        seen_as = entry_of(entry)
        if fresh is not None and not fresh(seen_as):
            continue
        where = f"{origin}#{i}"
        link = entry.get("link")
        body = ""
        if entry.get("content"):
            body = _html_to_text(" ".join(c.get("value", "") for c in entry["content"]))
        summary = _html_to_text(entry.get("summary", "")) if entry.get("summary") else ""
        text = body if len(body) >= len(summary) else summary
        published = parse_date(entry.get("published") or entry.get("updated"))
        meta = {"title": entry.get("title", "").strip(), "url": link, "published": published, "text": text}
        if len(text) < FULL_TEXT_CHARS and link and fetcher is not None:
            todo.append((where, meta, seen_as))
        elif text:
            yield Item(where, _article(meta, feed_title), entry=seen_as)
        else:
            yield Item(where, error="entry has no text and no link", entry=seen_as)
    if not todo:
        return

    def full_text(job: tuple[str, dict, FeedEntry]) -> Item:
        where, meta, seen_as = job
        try:
            page = fetcher.get(meta["url"])
        except FetchError as exc:
            if meta["text"]:  # keep the summary rather than lose the entry
                return Item(where, _article(meta, feed_title), entry=seen_as)
            return Item(where, error=str(exc), entry=seen_as)
        item = parse_html(page.content, where, url=meta["url"])
        item.entry = seen_as
        if item.article is None:
            return Item(where, _article(meta, feed_title), entry=seen_as) if meta["text"] else item
        art = item.article
        art.title = meta["title"] or art.title
        art.published = meta["published"] or art.published
        art.source = feed_title or art.source
        return item

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        yield from pool.map(full_text, todo)


def _article(meta: dict, feed_title: str | None) -> Article:
    return Article(
        title=meta["title"] or meta["text"][:80], text=meta["text"], url=meta["url"],
        published=meta["published"], source=feed_title,
    )
