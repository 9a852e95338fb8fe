"""Time words of a question ("this week", "last month", "since October", "in 2025", "latest") as a window of days.

Every window is counted back from a reference day: the reader's `as_of`, else today. Not from the newest
article: an archive that stopped a month ago has no news "this week", and the answer should say so.

    resolve("What happened last week?", date(2026, 11, 20))  →  Window(2026-11-09, 2026-11-15, "last week")

Weeks run Monday to Sunday for "last week" (the calendar week before the reference day's); "this week" and
"the past week" are the seven days that end on the reference day, as a reader who asks on a Monday means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from communique.entities.names import fold

# Month names in English, French, Spanish and German (folded), by number.
_MONTHS = {name: n for n, names in enumerate((
    "january janvier enero januar", "february fevrier febrero februar", "march mars marzo marz",
    "april avril abril", "may mai mayo", "june juin junio juni", "july juillet julio juli", "august aout agosto",
    "september septembre septiembre", "october octobre octubre oktober", "november novembre noviembre",
    "december decembre diciembre dezember"), start=1) for name in names.split()}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_YEAR = r"((?:19|20)\d\d)"

# Each rule: a pattern and the name of the window it makes. Ordered: the first that matches wins.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b(?:since|from|depuis|desde|seit) {_MONTH}(?: {_YEAR})?\b"), "since_month"),
    (re.compile(rf"\b(?:since|depuis|desde|seit) {_YEAR}\b"), "since_year"),
    (re.compile(rf"\b(?:before|until|prior to|avant|antes de|vor) {_MONTH}(?: {_YEAR})?\b"), "before_month"),
    (re.compile(rf"\b(?:before|until|prior to|avant|antes de|vor) {_YEAR}\b"), "before_year"),
    (re.compile(r"\b(?:today|aujourd.?hui|hoy|heute)\b"), "today"),
    (re.compile(r"\b(?:yesterday|hier|ayer|gestern)\b"), "yesterday"),
    (re.compile(r"\b(?:the (?:last|past) (?:7 days|seven days|week)|past week|this week|cette semaine|esta semana"
                r"|diese woche)\b"), "this_week"),
    (re.compile(r"\b(?:last week|la semaine derniere|la semana pasada|letzte woche)\b"), "last_week"),
    (re.compile(r"\b(?:the (?:last|past) (?:30 days|month)|past month)\b"), "past_month"),
    (re.compile(r"\b(?:this month|ce mois|este mes|diesen monat)\b"), "this_month"),
    (re.compile(r"\b(?:last month|le mois dernier|el mes pasado|letzten monat)\b"), "last_month"),
    (re.compile(rf"\b(?:in|during|of|en|im) {_YEAR}\b"), "year"),
    (re.compile(r"\b(?:latest|most recent|newest|recent|recently|lately)\b"), "latest"),
]


@dataclass(frozen=True)
class Window:
    """The days a time word names, both ends included (None: open), and the day they were counted from.
    `latest` marks "the latest on X": no cut, only the newest first."""

    since: date | None
    until: date | None
    words: str
    ref: date
    latest: bool = False
    event: bool = False  # counted from an event's day ("before the Hanoi signing"), found in the archive


def today() -> date:
    """The reference day when the reader gives no `as_of` (a function, so a test can fix it)."""
    return date.today()


def month_days(month: int, year: int | None, ref: date) -> tuple[date, date]:
    """First and last day of a month; without a year, its latest occurrence that has begun by `ref`."""
    if year is None:
        year = ref.year if month <= ref.month else ref.year - 1
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _bounds(rule: str, m: re.Match[str], ref: date) -> tuple[date | None, date | None]:
    monday = ref - timedelta(days=ref.weekday())
    if rule == "since_month":
        return month_days(_MONTHS[m.group(1)], int(m.group(2)) if m.group(2) else None, ref)[0], ref
    if rule == "since_year":
        return date(int(m.group(1)), 1, 1), ref
    if rule == "before_month":
        first = month_days(_MONTHS[m.group(1)], int(m.group(2)) if m.group(2) else None, ref)[0]
        return None, first - timedelta(days=1)
    if rule == "before_year":
        return None, date(int(m.group(1)) - 1, 12, 31)
    if rule == "today":
        return ref, ref
    if rule == "yesterday":  # yesterday's news is often published today
        return ref - timedelta(days=1), ref
    if rule == "this_week":
        return ref - timedelta(days=6), ref
    if rule == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if rule == "past_month":
        return ref - timedelta(days=30), ref
    if rule == "this_month":
        return ref.replace(day=1), ref
    if rule == "last_month":
        last = ref.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    year = int(m.group(1))  # "in 2025": that year, up to the reference day
    return date(year, 1, 1), min(date(year, 12, 31), ref)


# "before the Hanoi signing", "since the attack on Asahi": a time word that names an event instead of a day. Only
# the words up to the end of the clause are the event; a date or a time word there is left to the rules above.
# The event is a noun phrase that holds a name: "the Hanoi signing", "Brexit"; "before it can enter into force",
# "since the start of the year" name none.
_EVENT = re.compile(r"\b(before|after|since|following|prior to|ahead of|until)\s+(?:the\s+([\w'-]+)|([A-Z][\w'-]*))"
                    r"((?:\s+[\w'-]+){0,5}?)\s*(?:[?.!,;:]|$)", re.IGNORECASE)
BEFORE = frozenset({"before", "prior to", "ahead of", "until"})


def event_anchor(text: str) -> tuple[str, str] | None:
    """("before", "hanoi signing") for "What was said before the Hanoi signing?": a relation and the event it is
    counted from (lower case), or None where the question names no event (or names a day: "before October")."""
    t = " ".join(text.replace("’", "'").split())  # punctuation kept: it ends the event's clause
    if resolve(text, date(2000, 1, 1)) is not None:  # a day or a time word: resolved without the archive
        return None
    m = _EVENT.search(t)
    if m is None:
        return None
    event = (m.group(2) or m.group(3)) + m.group(4)
    if not any(w[0].isupper() for w in event.split()):  # a name makes it one event: not "the start of the year"
        return None
    event = event.lower()
    if resolve(event, date(2000, 1, 1)) is not None:
        return None
    return m.group(1).lower(), event


def resolve(text: str, ref: date) -> Window | None:
    """The window of days the first time word of `text` names, counted from `ref`; None without one."""
    t = fold(text)
    for pattern, rule in _RULES:
        m = pattern.search(t)
        if m is None:
            continue
        if rule == "latest":
            return Window(None, ref, m.group(0), ref, latest=True)
        since, until = _bounds(rule, m, ref)
        return Window(since, until, m.group(0), ref)
    return None
