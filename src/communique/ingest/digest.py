"""Newsletter digests as plain text: title line, paragraphs, then a call-to-action line per article.

The call-to-action ("Would you like to learn more about AI, tech and digital diplomacy? If so, ask our
Diplo chatbot!") is boilerplate that separates articles; it comes in many spellings (missing '?' or
'!', non-breaking spaces) and is never indexed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date

from communique.ingest.items import Item
from communique.models import Article
from communique.text import clean_whitespace

_CTA = re.compile(
    r"^(would you like to (learn|know|read|find out) more\b.{0,120}\b(chat ?bot|ask us|ask our)\b\W*"
    r"|(if so,? )?ask our\b.{0,40}\bchat ?bot\b\W*)$",
    re.IGNORECASE,
)


def is_call_to_action(line: str) -> bool:
    line = clean_whitespace(line)
    return len(line) < 240 and bool(_CTA.match(line))


def parse_digest(
    text: str, origin: str, digest: str | None = None, published: date | None = None, source: str | None = None
) -> Iterator[Item]:
    """Split a digest into articles; a block without a title or body is reported, not guessed at."""
    blocks: list[list[str]] = [[]]
    for raw in clean_whitespace(text).split("\n"):
        if is_call_to_action(raw):
            blocks.append([])
        else:
            blocks[-1].append(raw)
    n = 0
    seen_titles: dict[str, int] = {}
    for block in blocks:
        lines = [ln for ln in block if ln]
        if not lines:
            continue
        n += 1
        title, body_lines = lines[0], lines[1:]
        if not body_lines:
            yield Item(f"{origin}#{n}", error=f"article {n} has a title but no text: {title[:80]!r}")
            continue
        if len(title) > 300:
            yield Item(f"{origin}#{n}", error=f"article {n} does not start with a title line")
            continue
        article = Article(title=title, text="\n\n".join(body_lines), published=published, source=source,
                          digest=digest)
        seen_titles[title] = seen_titles.get(title, 0) + 1
        if seen_titles[title] > 1:  # two "In brief" items in one issue are two articles
            key = f"{digest or origin}|{title}|{seen_titles[title]}"
            article.id = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        yield Item(f"{origin}#{n}", article)
