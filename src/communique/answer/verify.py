"""Verification of model output: every sentence must be supported by the source passage it cites.

A sentence is kept when (a) it cites a passage that exists, or its best-matching passage can be
found, (b) most of its content words occur in that passage (a sentence in another language than the
source: it means what a sentence of the passage means, by multilingual embedding), and (c) every
number and name in it occurs there verbatim. Kept sentences are re-cited with the exact source
sentence as the quote; markers that point to nothing cannot survive, by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from communique.answer.citations import CitationBook, marker, markers_in, strip_markers
from communique.answer.evidence import stems_of
from communique.answer.injection import instruction
from communique.answer.question import Question, fold
from communique.models import Article
from communique.text import STOPWORDS, detect_language, sentence_spans, split_sentences, words

MIN_OVERLAP = 0.6  # share of a sentence's content words that must occur in its passage
# Cosine (multilingual e5) between a translated claim and the passage sentence it restates. Measured:
# a faithful French rendering of a source sentence 0.86–0.89; a sentence on the same topic that does
# not say it 0.79–0.83.
MIN_MEANING = 0.85
Similarity = Callable[[str, list[str]], float]  # a claim, sentences → the highest cosine among them
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]{2,}")
_REFUSAL = re.compile(r"not in (the )?sources|do not (say|mention)|don't know|cannot answer", re.IGNORECASE)


@dataclass
class Passage:
    n: int
    article: Article
    start: int
    end: int

    @property
    def text(self) -> str:
        """The passage a model reads, without any sentence that speaks to an AI reader."""
        text = self.article.text[self.start:self.end]
        return " ".join(s for s in split_sentences(text) if not instruction(s))


def _content(text: str) -> set[str]:
    kept = " ".join(w for w in words(text) if fold(w) not in STOPWORDS)
    return {s for s in stems_of(kept) if len(s) > 2}


def supported(sentence: str, passage: Passage, question: Question, similarity: Similarity | None = None) -> bool:
    claim = strip_markers(sentence)
    source = passage.article.title + " " + passage.text
    folded = fold(source)
    for number in _NUMBER.findall(claim):
        if number not in source.replace(",", "") and number not in source:
            return False
    for name in _NAME.findall(claim):
        if fold(name) not in folded:
            return False
    if not question.is_english and detect_language(claim) not in (None, "en"):
        # A translated claim cannot match English words: names and numbers did; its meaning must too.
        if similarity is None:
            return bool(_content(claim) or _NUMBER.findall(claim))
        sentences = [passage.article.text[a:b] for a, b in _spans(passage)]
        return similarity(claim, sentences) >= MIN_MEANING
    content = _content(claim)
    if not content:
        return False
    return len(content & _content(source)) / len(content) >= MIN_OVERLAP


def _spans(passage: Passage) -> list[tuple[int, int]]:
    return [(passage.start + a, passage.start + b) for a, b in sentence_spans(passage.text)]


def best_quote(claim: str, passage: Passage) -> tuple[int, int]:
    """The span of the passage sentence that shares most words with the claim."""
    target = _content(claim)
    spans = _spans(passage)
    if not spans:
        return passage.start, passage.end
    return max(spans, key=lambda ab: len(target & _content(passage.article.text[ab[0]:ab[1]])))


@dataclass
class VerifiedStream:
    """Feed model text in pieces; complete sentences come out once verified and re-cited."""

    passages: list[Passage]
    question: Question
    similarity: Similarity | None = None  # for claims in another language than their source
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    book: CitationBook = field(default_factory=CitationBook)
    _buffer: str = ""

    def feed(self, piece: str) -> Iterator[str]:
        self._buffer += piece
        spans = sentence_spans(self._buffer)
        # The last span may be unfinished: keep it until more text (or close) arrives.
        for a, b in spans[:-1]:
            yield from self._check(self._buffer[a:b])
        if spans:
            self._buffer = self._buffer[spans[-1][0]:]

    def close(self) -> Iterator[str]:
        rest, self._buffer = self._buffer, ""
        for a, b in sentence_spans(rest):
            yield from self._check(rest[a:b])

    def _check(self, sentence: str) -> Iterator[str]:
        sentence = sentence.strip()
        if not words(sentence) or _REFUSAL.search(sentence):
            return
        by_n = {p.n: p for p in self.passages}
        cited = [by_n[n] for n in markers_in(sentence) if n in by_n]
        # The cited passage first; a sentence that cites none, or the wrong one (small models miscount),
        # may still be supported by another, and is then cited to that one.
        candidates = cited + [p for p in self.passages if p not in cited]
        passage = next((p for p in candidates if supported(sentence, p, self.question, self.similarity)), None)
        if passage is None:
            self.rejected.append(sentence)
            return
        a, b = best_quote(sentence, passage)
        n = self.book.cite(passage.article, a, b)
        text = f"{strip_markers(sentence).rstrip()} {marker(n)}"
        self.accepted.append(text)
        yield text

    def draft(self, support):
        from communique.answer.extractive import Draft

        if not self.accepted:
            return None
        return Draft(" ".join(self.accepted), False, self.book, support)
