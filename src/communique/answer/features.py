"""Feature vectors of the learned answerer: one per (question, candidate sentence) and per (question, span).

Every feature is a measurement, never a verdict: how much of the question a sentence holds (lemmas weighted
by rarity, names, the conversation before), how retrieval ranked its chunk, where it sits, whether it holds
a span of the kind asked for and how near the question's words, whether it is negated, quoted or addressed
to its reader. The models in `communique.answer.learned` turn them into decisions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

from communique.answer.asked import FOCUS_CLASSES, GROUP_NAMES, WH_CLASSES, Asked, group
from communique.answer.candidates import Found
from communique.answer.injection import instruction
from communique.nlp import ADDRESSED, NEGATED, NOUN_PHRASE, QUOTED, SentenceNotes, Span

SENTENCE_FEATURES = [
    "wh", "focus", "plural", "english", "names_asked", "words_asked",
    "article_rank", "keyword_rank", "dense_rank", "cosine", "cosine_gap", "article_cosine",
    "own", "window", "title", "own_count", "names_own", "names_window", "names_article", "context_own",
    "context_article", "position", "first", "length", "negated", "addressed", "quoted", "age", "newest",
    "typed", "typed_near", *(f"n_{g}" for g in GROUP_NAMES), "unmatched", "acts_own", "acts_window", "own_gap",
    "window_gap", "joins", *(f"wh_{w}" for w in WH_CLASSES), *(f"focus_{f}" for f in FOCUS_CLASSES),
    "type_p", "type_near",
]
SPAN_FEATURES = [
    "wh", "focus", "plural", "group", "typed", "in_question", "sentence_p", "sentence_rank", "frequency",
    "relative_position", "near", "dep", "words", "digits", "noun_phrase", "names_own", "near_act", "after_act",
    "typed_here", *(f"wh_{w}" for w in WH_CLASSES), *(f"focus_{f}" for f in FOCUS_CLASSES),
    *(f"group_{g}" for g in GROUP_NAMES), *(f"dep_{d}" for d in range(10)), "type_p",
]
_NAMES_OWN = SENTENCE_FEATURES.index("names_own")
_TYPE_P, _TYPE_NEAR = SENTENCE_FEATURES.index("type_p"), SENTENCE_FEATURES.index("type_near")
_DEPS = {"nsubj": 1, "nsubjpass": 1, "dobj": 2, "pobj": 3, "appos": 4, "compound": 5, "attr": 6, "ROOT": 7,
         "conj": 8, "poss": 9}


@dataclass
class Row:
    """A candidate sentence and its features."""

    found: Found
    index: int  # of the sentence in its article
    notes: SentenceNotes
    x: list[float]
    kinds: list[tuple[str, float]] = field(default_factory=list)  # its spans' groups, each with its nearness

    @property
    def text(self) -> str:
        return self.found.article.text[self.notes.start:self.notes.end]


def _one_hot(asked: Asked) -> list[float]:
    """The question word and the kind of noun asked about, one feature each (trees split on them one by one)."""
    return [*(float(asked.wh == w) for w in WH_CLASSES), *(float(asked.focus == f) for f in FOCUS_CLASSES)]


def _title_words(title: str) -> set[str]:
    return set(re.findall(r"\w+", title.lower()))


def _present(name: str, text: str) -> bool:
    return name.lower() in text


def _positions(words: frozenset[str], lowered: str) -> list[int]:
    return [m.start() for w in words for m in re.finditer(rf"(?<!\w){re.escape(w)}(?!\w)", lowered)]


def _act_positions(acts: frozenset[str], lowered: str) -> list[int]:
    """Where a sentence words the question's verbs, in any form: "audit" finds "audited", "auditors"."""
    stems = [a[:-1] if a.endswith("e") else a for a in acts if len(a) > 2]
    return [m.start() for stem in stems for m in re.finditer(rf"(?<!\w){re.escape(stem)}\w*", lowered)]


def _asked_span(span_text: str, asked: Asked) -> float:
    tokens = re.findall(r"\w+", span_text.lower())
    return sum(t in asked.lowered for t in tokens) / len(tokens) if tokens else 0.0


def sentence_rows(asked: Asked, found: list[Found], ref_day: date | None) -> list[Row]:
    sentences = [(f, i, n) for f in found for i, n in enumerate(f.notes)]
    if not sentences:
        return []
    df: dict[str, int] = {}
    for _, _, n in sentences:
        for lemma in n.lemmas & asked.lemmas:
            df[lemma] = df.get(lemma, 0) + 1
    total_n = len(sentences)
    weight = {lemma: 1.0 + math.log((total_n + 1) / (df.get(lemma, 0) + 0.5)) for lemma in asked.lemmas}
    total = sum(weight.values()) or 1.0
    best_cosine = max((c.cosine for f in found for c in f.chunks), default=0.0)
    seen = frozenset().union(*(n.lemmas for _, _, n in sentences))
    unmatched = len(asked.lemmas - seen) / max(1, len(asked.lemmas))  # question words no candidate holds
    ref_day = ref_day or max((f.article.published for f in found if f.article.published), default=None)
    rows = []
    for f in found:
        article = f.article
        lowered_article = (article.title + "\n" + article.text).lower()
        title_words = _title_words(article.title)
        article_lemmas = frozenset().union(*(n.lemmas for n in f.notes))
        article_cosine = max((c.cosine for c in f.chunks), default=0.0)
        age = (ref_day - article.published).days if ref_day and article.published else 30
        for i, n in enumerate(f.notes):
            text = article.text[n.start:n.end]
            if instruction(text):  # speaks to an AI reader: never an answer
                continue
            lowered = text.lower()
            near = set(n.lemmas)
            if i > 0:
                near |= f.notes[i - 1].lemmas
            if i + 1 < len(f.notes):
                near |= f.notes[i + 1].lemmas
            window_text = " ".join(article.text[m.start:m.end] for m in f.notes[max(0, i - 1):i + 2]).lower()
            signal = f.signal(n.start, n.end)
            names = asked.names
            own_spans = [s for s in n.spans if _asked_span(article.text[s.start:s.end], asked) < 0.5]
            counts = {g: 0 for g in GROUP_NAMES}
            for s in own_spans:
                counts[group(s.label)] += 1
            typed = [s for s in own_spans if group(s.label) in asked.expects]
            hits = _positions(asked.words, lowered)
            nearness = [1.0 - min(abs((s.start - n.start) - h) for h in hits) / max(1, len(text)) if hits else 0.0
                        for s in own_spans]
            typed_near = max((d for s, d in zip(own_spans, nearness, strict=True) if group(s.label) in asked.expects),
                             default=0.0)
            x = [
                WH_CLASSES.index(asked.wh), FOCUS_CLASSES.index(asked.focus), float(asked.plural),
                float(asked.english), len(names), len(asked.lemmas),
                f.rank, 1.0 / (1 + signal.keyword_rank) if signal and signal.keyword_rank is not None else 0.0,
                1.0 / (1 + signal.dense_rank) if signal and signal.dense_rank is not None else 0.0,
                signal.cosine if signal else 0.0, (signal.cosine if signal else 0.0) - best_cosine, article_cosine,
                sum(weight[t] for t in n.lemmas & asked.lemmas) / total,
                sum(weight[t] for t in near & asked.lemmas) / total,
                len(title_words & asked.words) / max(1, len(asked.words)), len(n.lemmas & asked.lemmas),
                sum(_present(m, lowered) for m in names) / len(names) if names else 1.0,
                sum(_present(m, window_text) for m in names) / len(names) if names else 1.0,
                sum(_present(m, lowered_article) for m in names) / len(names) if names else 1.0,
                len(n.lemmas & asked.context) / max(1, len(asked.context)),
                len(article_lemmas & asked.context) / max(1, len(asked.context)),
                i, float(i == 0), len(n.lemmas),
                float(bool(n.flags & NEGATED)), float(bool(n.flags & ADDRESSED)), float(bool(n.flags & QUOTED)),
                math.log1p(max(0, age)), float(age <= 0),
                len(typed), typed_near, *(counts[g] for g in GROUP_NAMES), unmatched,
                len(n.lemmas & asked.acts) / max(1, len(asked.acts)), len(near & asked.acts) / max(1, len(asked.acts)),
                0.0, 0.0, asked.joins, *_one_hot(asked), 0.0, 0.0,
            ]
            rows.append(Row(f, i, n, x, [(group(s.label), d) for s, d in zip(own_spans, nearness, strict=True)]))
    own, window = SENTENCE_FEATURES.index("own"), SENTENCE_FEATURES.index("window")
    best_own, best_window = max(r.x[own] for r in rows), max(r.x[window] for r in rows)
    own_gap, window_gap = SENTENCE_FEATURES.index("own_gap"), SENTENCE_FEATURES.index("window_gap")
    for r in rows:
        r.x[own_gap], r.x[window_gap] = r.x[own] - best_own, r.x[window] - best_window
    return rows


@dataclass
class SpanRow:
    row: Row
    span: Span
    x: list[float]

    @property
    def text(self) -> str:
        return self.row.found.article.text[self.span.start:self.span.end]


def typed_by(rows: list[Row], types: dict[str, float]) -> None:
    """Set the features that weigh a sentence's spans by how likely the question wants their kind (the type
    model's probabilities, learned from the question's meaning in any language, not from its question word)."""
    for r in rows:
        r.x[_TYPE_P] = round(max((types.get(g, 0.0) for g, _ in r.kinds), default=0.0), 4)
        r.x[_TYPE_NEAR] = round(max((types.get(g, 0.0) * d for g, d in r.kinds), default=0.0), 4)


def span_rows(asked: Asked, top: list[tuple[Row, float]], types: dict[str, float]) -> list[SpanRow]:
    """Every entity and noun phrase of the best sentences, with its features."""
    texts = [[r.found.article.text[s.start:s.end].lower() for s in r.notes.spans] for r, _ in top]
    frequency: dict[str, int] = {}
    for ts in texts:
        for t in set(ts):
            frequency[t] = frequency.get(t, 0) + 1
    out = []
    for rank, (row, p) in enumerate(top):
        n = row.notes
        length = max(1, n.end - n.start)
        hits = _positions(asked.words, row.text.lower())
        acts = _act_positions(asked.acts, row.text.lower())
        typed_here = sum(group(s.label) in asked.expects for s in n.spans)
        for span, lowered in zip(n.spans, texts[rank], strict=True):
            g = group(span.label)
            offset = span.start - n.start
            near = 1.0 - min(abs(offset - h) for h in hits) / length if hits else 0.0
            x = [
                WH_CLASSES.index(asked.wh), FOCUS_CLASSES.index(asked.focus), float(asked.plural),
                GROUP_NAMES.index(g), float(g in asked.expects), _asked_span(lowered, asked), p, rank,
                frequency[lowered], offset / length, near, _DEPS.get(span.dep, 0), len(lowered.split()),
                float(any(ch.isdigit() for ch in lowered)), float(span.label == NOUN_PHRASE), row.x[_NAMES_OWN],
                1.0 - min(abs(offset - a) for a in acts) / length if acts else 0.0,
                float(bool(acts) and offset > min(acts)), typed_here, *_one_hot(asked),
                *(float(g == name) for name in GROUP_NAMES), *(float(_DEPS.get(span.dep, 0) == d) for d in range(10)),
                round(types.get(g, 0.0), 4),
            ]
            out.append(SpanRow(row, span, x))
    return out
