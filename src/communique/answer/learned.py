"""The learned answerer: models trained on labelled questions decide what the answer is, not hand-set rules.

    retrieve ─▶ every sentence of the found articles ─▶ sentence model: P(holds the answer)
          ─▶ answerability model: answer or refuse?   ─▶ more model: does the next sentence add what was asked
          (a list item, the other report of a conflict, the second ask)?  ─▶ span model: which entity or
          noun phrase of each chosen sentence is the answer, so the answer leads with it ─▶ lead model: do the
          spans carry all the sentence answers, or is the sentence itself needed?
          ─▶ two steps that read the indexes made at ingest: a list's other items of the same kind in the
          articles it cites (`completed`), and another report's differing figure (`disagreeing`)

The models ship as text files beside this module (LightGBM's text format, read by `trees.TreeModel`, or JSON
coefficients of a logistic regression) and `benchmarks/train_answerer.py` rebuilds them exactly from the
labelled question sets in the repository. Each decision is a probability compared with 0.5: no threshold is set by hand.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np

from communique.answer import phrases
from communique.answer.asked import Asked, analyse
from communique.answer.candidates import Found, retrieve
from communique.answer.citations import CitationBook, marker, strip_markers
from communique.answer.features import SENTENCE_FEATURES, Row, SpanRow, sentence_rows, span_rows, typed_by
from communique.answer.reader import reread
from communique.answer.trees import TreeModel
from communique.answer.verify import Passage
from communique.entities.extract import LABELS, classify
from communique.entities.names import clean
from communique.models import Filters
from communique.nlp import Span

MODELS = Path(__file__).parent / "models"
_F = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
TOP_SENTENCES = 6  # the sentences whose spans are weighed and that may join the answer
MAX_SENTENCES = 4  # the most sentences one answer cites
LISTED_KINDS = ("GPE", "LOC", "FAC", "PERSON", "ORG")  # named things a list may hold (not nationalities)
QUESTION_FEATURES = ["p1", "p2", "gap", "names_own", "names_article", "best_names_article", "typed", "cosine",
                     "span_p", "wh", "english", "names_asked", "addressed", "negated", "count_above", "own", "window",
                     "unmatched", "type_p", "type_near"]
LEAD_FEATURES = ["span_p", "second_p", "sure", "wh", "focus", "plural", "joins", "typed", "sentence_p", "length"]
MORE_FEATURES = ["p", "ratio", "rank", "same_article", "plural", "wh", "focus", "names_own", "typed", "span_p",
                 "new_span", "english", "p1", "joins", "own_gap", "same_title_words"]
FIGURES = ("MONEY", "CARDINAL", "PERCENT", "QUANTITY")  # entity kinds whose values two reports may give apart


class Logistic:
    """A logistic regression stored as JSON: standardisation, coefficients and intercept."""

    def __init__(self, doc: dict) -> None:
        self.mean = np.array(doc["mean"])
        self.scale = np.array(doc["scale"])
        self.coef = np.array(doc["coef"])
        self.intercept = float(doc["intercept"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


class Types:
    """A multinomial logistic regression stored as JSON: P(the answer is a person, an amount, a date…) from the
    question's e5 vector. It reads what the question means in any language the embedder knows ("what share of
    the workforce" wants a percentage, "mit wie vielen Stimmen" a number), where a table of question words
    reads only the words it lists."""

    def __init__(self, doc: dict) -> None:
        self.groups = list(doc["groups"])
        self.coef = np.array(doc["coef"])
        self.intercept = np.array(doc["intercept"])

    def predict(self, vector: np.ndarray | None) -> dict[str, float]:
        """Each group's probability; the groups' base rates where there is no vector (a keyword-only store) or
        one of another size (a remote embedder serving another model than the e5 it was trained on)."""
        v = np.asarray(vector, dtype=np.float64) if vector is not None else None
        z = self.intercept + (self.coef @ v if v is not None and v.shape == self.coef.shape[1:] else 0.0)
        e = np.exp(z - z.max())
        return dict(zip(self.groups, (e / e.sum()).tolist(), strict=True))


@dataclass
class Models:
    sentence: TreeModel
    span: TreeModel
    answerable: Logistic
    more: TreeModel
    lead: Logistic
    choose: Logistic | None = None  # the rules' answer or this one (`chooser.py`); None before it is trained
    types: Types | None = None  # the kinds of answer the question wants


_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def load(folder: str | None = None) -> Models:
    base = Path(folder) if folder else MODELS
    with _LOCK:
        return Models(
            TreeModel((base / "sentence.txt").read_text()),
            TreeModel((base / "span.txt").read_text()),
            Logistic(json.loads((base / "answerable.json").read_text())),
            TreeModel((base / "more.txt").read_text()),
            Logistic(json.loads((base / "lead.json").read_text())),
            Logistic(json.loads((base / "choose.json").read_text())) if (base / "choose.json").exists() else None,
            Types(json.loads((base / "types.json").read_text())) if (base / "types.json").exists() else None,
        )


@dataclass
class Reading:
    """What the models read for one question: its analysis, the candidate sentences and their features."""

    asked: Asked
    found: list[Found]
    rows: list[Row]
    p: list[float] = field(default_factory=list)  # P(sentence holds the answer), by row
    vector: np.ndarray | None = None  # the question's e5 vector (None without an embedder)
    types: dict[str, float] = field(default_factory=dict)  # P(the answer is of a group), from the type model

    def ranked(self) -> list[tuple[Row, float]]:
        return sorted(zip(self.rows, self.p, strict=True), key=lambda rp: -rp[1])


def read(store, embedder, question: str, history: list[dict], as_of: date | None, filters: Filters | None,
         language: str | None = None) -> Reading:
    asked = analyse(question, history, language)
    prior = [t.get("content", "") for t in history if isinstance(t, dict) and t.get("role") == "user"]
    query = " ".join([question, *prior[-1:]])[:1200]
    vector = embedder.embed_query(question[:1200]) if embedder is not None else None
    found = retrieve(store, embedder, query, as_of, filters, query_vector=None if prior else vector)
    return Reading(asked, found, sentence_rows(asked, found, as_of), vector=vector)


def question_features(reading: Reading, top_spans: list[float]) -> list[float]:
    ranked = reading.ranked()
    (r1, p1), p2 = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    return [p1, p2, p1 - p2, r1.x[_F["names_own"]], r1.x[_F["names_article"]],
            max(r.x[_F["names_article"]] for r in reading.rows), r1.x[_F["typed"]], r1.x[_F["cosine"]],
            max(top_spans, default=0.0),
            *(r1.x[_F[k]] for k in ("wh", "english", "names_asked", "addressed", "negated")),
            sum(p > 0.5 for _, p in ranked), r1.x[_F["own"]], r1.x[_F["window"]], r1.x[_F["unmatched"]],
            r1.x[_F["type_p"]], r1.x[_F["type_near"]]]


def more_features(first: tuple[Row, float], other: tuple[Row, float], rank: int, first_span: str | None,
                  other_span: tuple[str | None, float]) -> list[float]:
    (r1, p1), (r, p) = first, other
    a, b = _words(r1.found.article.title), _words(r.found.article.title)
    return [p, p / max(p1, 1e-6), rank, float(r.found is r1.found),
            *(r.x[_F[k]] for k in ("plural", "wh", "focus", "names_own", "typed")),
            other_span[1], float(other_span[0] is not None and other_span[0] != first_span), r.x[_F["english"]], p1,
            r.x[_F["joins"]], r.x[_F["own_gap"]], len(a & b) / max(1, len(a | b))]


def figure_of(row: Row, leads: list[str]) -> Span | None:
    """The first figure among the spans an answer leads with: what another report may give another value."""
    text = row.found.article.text
    return next((s for s in row.notes.spans if s.label in FIGURES and isinstance(s.value, float)
                 and text[s.start:s.end] in leads), None)


def disagreeing(chosen: list[tuple[Row, list[str]]], top: list[tuple[Row, float]]) -> list[tuple[Row, list[str]]]:
    """Where the answer is a figure, the best of the top sentences in which another report of the same story
    gives that kind of figure another value ("41 countries signed" against "44"): a reader sees both, each
    cited. Leave-one-set-out over the 14 training sets: conflicts 3 → 11 of 28, two-part questions 10 → 13 of
    42, facts 143 → 145 of 220, nothing else changed (0.530 → 0.554). Given to the "more" model as two features
    instead, the same signal moved nothing (0.530): it adds a sentence only when sure it holds a missing
    part of the answer, and a second report's figure rarely is sure."""
    first, leads = chosen[0]
    figure = figure_of(first, leads)
    if figure is None or first.found.story is None:
        return []
    cited = {id(row.found) for row, _ in chosen}
    for row, _ in top:
        if id(row.found) in cited or row.found.story != first.found.story:
            continue
        other = next((s for s in row.notes.spans if s.label == figure.label and isinstance(s.value, float)
                      and s.value != figure.value), None)
        if other is not None:
            return [(row, [row.found.article.text[other.start:other.end]])]
    return []


def lead_features(row: Row, p: float, leads: list[tuple[str, float]]) -> list[float]:
    """Whether a sentence's surest spans carry all it answers ("Karsk Security"), or the sentence is needed
    ("How did the vote go?")."""
    ps = [q for _, q in leads] + [0.0, 0.0]
    return [ps[0], ps[1], sum(q >= 0.5 for q in ps), *(row.x[_F[k]] for k in ("wh", "focus", "plural", "joins",
                                                                             "typed")), p, row.x[_F["length"]]]


def _words(title: str) -> set[str]:
    return set(re.findall(r"\w{3,}", title.lower()))


@dataclass
class Decision:
    """The sentences chosen, each with the spans that lead the answer, or a refusal."""

    refused: bool
    chosen: list[tuple[Row, list[str]]]
    answerable_p: float = 0.0


def best_spans(spans: list[SpanRow], p: np.ndarray, row: Row, most: int = 2) -> list[tuple[str, float]]:
    own = sorted(((s.text, float(q)) for s, q in zip(spans, p, strict=True) if s.row is row), key=lambda t: -t[1])
    seen: list[tuple[str, float]] = []
    for text, q in own:
        if not any(text.lower() in t.lower() or t.lower() in text.lower() for t, _ in seen):
            seen.append((text, q))
    return seen[:most]


def decide(reading: Reading, models: Models, reader=None) -> Decision:
    """Choose the answer's sentences and spans, or refuse; a reader (`answer/reader.py`) may reorder the best few."""
    if not reading.rows:
        return Decision(True, [])
    if models.types is not None:
        reading.types = models.types.predict(reading.vector)
        typed_by(reading.rows, reading.types)
    reading.p = models.sentence.predict(np.array([r.x for r in reading.rows])).tolist()
    reread(reading, reader)
    top = reading.ranked()[:TOP_SENTENCES]
    spans = span_rows(reading.asked, top, reading.types)
    span_p = models.span.predict(np.array([s.x for s in spans])) if spans else np.array([])
    leads = [best_spans(spans, span_p, row) for row, _ in top]
    answerable = float(models.answerable.predict(np.array(question_features(reading, [q for _, q in leads[0]])))[0])
    if answerable < 0.5:
        return Decision(True, [], answerable)
    first_span = leads[0][0][0] if leads[0] and leads[0][0][1] >= 0.5 else None

    def spans_of(rank: int) -> list[str]:
        """The spans that lead the answer from this sentence: none where the sentence itself is needed."""
        sure = [t for t, q in leads[rank] if q >= 0.5]
        x = lead_features(top[rank][0], top[rank][1], leads[rank])
        return sure if sure and models.lead.predict(np.array(x))[0] >= 0.5 else []

    chosen = [(top[0][0], spans_of(0))]
    for rank in range(1, len(top)):
        if len(chosen) >= MAX_SENTENCES:
            break
        lead = leads[rank][0] if leads[rank] else (None, 0.0)
        x = more_features(top[0], top[rank], rank, first_span, lead)
        if models.more.predict(np.array([x]))[0] >= 0.5:
            chosen.append((top[rank][0], spans_of(rank)))
    if reading.asked.plural:  # "Which countries…?": every top sentence whose sure spans name a new item joins
        listed = {t.lower() for _, spans in chosen for t in spans}
        for rank, (row, _) in enumerate(top):
            new = [t for t, q in leads[rank] if q >= 0.5 and t.lower() not in listed]
            if new and all(row is not r for r, _ in chosen):
                chosen.append((row, new))
                listed.update(t.lower() for t in new)
        chosen += completed(reading, chosen, listed)
    chosen += disagreeing(chosen, top)
    return Decision(False, chosen, answerable)


def completed(reading: Reading, chosen: list[tuple[Row, list[str]]], listed: set[str]) -> list[tuple[Row, list[str]]]:
    """The rest of a list: every other entity of the kinds its sure items are (countries where they are
    countries, as the entity index tells them apart; people where they are people), in the articles it cites,
    each with its own sentence. An article lists "Taiwan and Australia…" in one sentence and "the Czech
    Republic…" in another, which the sentence model rarely ranks high. Leave-one-set-out over the 14 training
    sets: lists 10 → 13 of 55 right, nothing else changed."""
    kinds = {_kind(s.label, row.found.article.text[s.start:s.end]) for row, items in chosen for s in row.notes.spans
             if s.label in LISTED_KINDS and row.found.article.text[s.start:s.end] in items} - {None}
    articles = list({id(row.found): row.found for row, _ in chosen}.values())
    by_place = {(id(row.found), row.index): row for row in reading.rows}
    out = []
    for found in articles:
        for index, notes in enumerate(found.notes):
            row = by_place.get((id(found), index))
            new = []
            for span in notes.spans:
                text = found.article.text[span.start:span.end]
                if span.label in LISTED_KINDS and _kind(span.label, text) in kinds and text.lower() not in listed \
                        and text.lower() not in reading.asked.lowered:
                    new.append(text)
                    listed.add(text.lower())
            if new and row is not None:
                out.append((row, new))
    return out


def _kind(label: str, text: str) -> str | None:
    """An entity's kind as the entity index has it (a country wherever pycountry knows the place, whatever the
    tagger called it), or None where the index sees no name ("AI" tagged as a place)."""
    if label not in LABELS:
        return label
    mention = classify(clean(text), LABELS[label], 0)
    return mention.type if mention else None


def passages(reading: Reading, decision: Decision, most: int = 4) -> list[Passage]:
    """What a model reads: the chosen sentences, then the best of other articles, each with its neighbours
    (sentences that speak to an AI reader are left out of a passage's text: see `verify.Passage`)."""
    out: list[Passage] = []
    seen: set[tuple[str, int]] = set()
    ranked = [row for row, _ in decision.chosen] + [row for row, _ in reading.ranked()]
    for row in ranked:
        if len(out) >= most or (row.found.article.id, row.index) in seen:
            continue
        notes = row.found.notes
        first, last = notes[max(0, row.index - 1)], notes[min(len(notes) - 1, row.index + 1)]
        seen.update((row.found.article.id, i) for i in range(row.index - 1, row.index + 2))
        out.append(Passage(len(out) + 1, row.found.article, first.start, last.end))
    return out


def written(decision: Decision, language: str | None = None) -> tuple[str, CitationBook]:
    """The answer text: each chosen sentence's answer spans with its citation, or the sentence itself where no
    span is sure (the sentence stays in the citation's quote), framed in the question's language."""
    book = CitationBook()
    pieces = []
    for row, leads in decision.chosen:
        n = book.cite(row.found.article, row.notes.start, row.notes.end)
        sentence = strip_markers(row.text).strip().rstrip(".")
        if leads:
            lead = phrases.joined(list(dict.fromkeys(leads)), language)
            pieces.append(f"{lead} {marker(n)}")
        else:
            pieces.append(phrases.quoted(sentence, marker(n), language))
    text = "; ".join(pieces)
    return (text if text.endswith((".", "!", "?")) else text + "."), book
