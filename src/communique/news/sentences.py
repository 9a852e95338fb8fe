"""The sentences a timeline or a briefing cites, chosen from the annotations stored at ingest.

- An article's *lead* is its first sentence that is no instruction to an AI reader: a news article says
  what happened first, so the lead is its most informative sentence (no word list, no tuning).
- An *event* is a sentence with a day: the date it names (spaCy's DATE entity, normalised at ingest against
  the article's own date), else the article's publication date. A date with a month but no day ("in June
  2027") is an event of that month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from communique.answer.injection import instruction
from communique.models import Article
from communique.nlp import ADDRESSED, SentenceNotes, notes_of
from communique.text import sentence_spans

EVENTS_PER_ARTICLE = 3  # the lead and up to two dated sentences that name the subject
# A DATE entity is a day only when it names a month, a weekday or a relative day, or is written as a date:
# "90 days" or "three years" have a value too (counted back from the article's date), but are no date.
_CALENDAR = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
    r"|\b(?:today|yesterday|tomorrow)\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.IGNORECASE)
_DAY_NUMBER = re.compile(r"(?<![\d-])\b(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b(?!-)|\b\d{4}-\d{2}-\d{2}\b|day\b",
                         re.IGNORECASE)


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _next_year(day: date) -> date:
    return day.replace(year=day.year + 1) if (day.month, day.day) != (2, 29) else date(day.year + 1, 3, 1)


def mentions(text: str, terms: list[str]) -> bool:
    """Does a text name at least half of the subject's words (whole words, any case)?"""
    if not terms:
        return True
    folded = text.casefold()
    found = sum(bool(re.search(rf"\b{re.escape(t)}\b", folded)) for t in terms)
    return found * 2 >= len(terms)


@dataclass(frozen=True)
class Picked:
    """A sentence of an article (character offsets into its text) and the day it is an event of."""

    article: Article
    start: int
    end: int
    day: date | None
    exact: bool  # False: only the month is known ("in June 2027")

    @property
    def text(self) -> str:
        return self.article.text[self.start:self.end].strip()


def _sentences(article: Article) -> list[SentenceNotes]:
    notes = notes_of(article)
    if notes is not None:
        return notes
    return [SentenceNotes(a, b, 0, frozenset(), ()) for a, b in sentence_spans(article.text)]


def _readable(article: Article, s: SentenceNotes) -> bool:
    """Not an instruction to an AI reader: article text is data, never a command the briefing repeats."""
    return not (s.flags & ADDRESSED and instruction(article.text[s.start:s.end]))


def sentence_day(article: Article, s: SentenceNotes) -> tuple[date, bool] | None:
    """The first day a sentence names, and whether it is a whole day (not only a month)."""
    for span in s.spans:
        if span.label != "DATE" or not isinstance(span.value, str):
            continue
        words = article.text[span.start:span.end]
        if not _CALENDAR.search(words):
            continue
        try:
            day = date.fromisoformat(span.value)
        except ValueError:
            continue
        if article.published and not _YEAR.search(words) and (article.published - day).days > 183:
            day = _next_year(day)  # "will open on 30 October": a day without a year is the one nearest the article
        exact = bool(_DAY_NUMBER.search(words))
        return (day if exact else day.replace(day=1)), exact
    return None


def lead(article: Article) -> Picked | None:
    """The article's first readable sentence, as an event of its own date or of the publication date."""
    for s in _sentences(article):
        if article.text[s.start:s.end].strip() and _readable(article, s):
            dated = sentence_day(article, s)
            day, exact = dated if dated else (article.published, True)
            return Picked(article, s.start, s.end, day, exact)
    return None


def events(article: Article, terms: list[str]) -> list[Picked]:
    """An article's events for a subject: its lead, and the sentences that name a day and a subject word
    (`terms`, lower-case), in article order."""
    first = lead(article)
    picked = [first] if first else []
    for s in _sentences(article):
        if len(picked) >= EVENTS_PER_ARTICLE:
            break
        if first and s.start == first.start or not _readable(article, s):
            continue
        text = article.text[s.start:s.end]
        if not mentions(text, terms):
            continue
        dated = sentence_day(article, s)
        if dated:
            picked.append(Picked(article, s.start, s.end, *dated))
    return picked
