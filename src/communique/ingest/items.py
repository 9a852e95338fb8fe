"""What a reader yields: an article, or the reason one item could not be read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from communique.models import Article

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d\d|19\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


@dataclass(frozen=True)
class FeedEntry:
    """Which entry of a feed an item came from (its id, else link) and which version of it (a hash of what the
    feed says about it), so a watcher can skip an entry it has ingested and take it again once it changes."""

    key: str
    version: str


@dataclass
class Item:
    origin: str
    article: Article | None = None
    error: str | None = None
    entry: FeedEntry | None = None  # feed entries only


def date_from_name(name: str) -> date | None:
    """A date written in a file name (2026-11-02, 20261102, 2026_11_02), or None."""
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_date(value: object) -> date | None:
    """Dates as JSON, feeds and pages write them; None for what cannot be read (never invented)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        from dateutil import parser

        # Parse twice with different defaults: a part missing from the text (no day, no year) shows up
        # as a difference, and a date with missing parts is not a date we may invent.
        one = parser.parse(text, default=datetime(1900, 1, 1))
        two = parser.parse(text, default=datetime(1901, 2, 2))
    except (ValueError, OverflowError, TypeError):
        return None
    return one.date() if one.date() == two.date() else None
