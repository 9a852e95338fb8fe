"""Evidence for an answer: the sentences of the best articles, scored against the question.

Retrieval finds chunks (hybrid BM25 + dense); their articles are read whole and every sentence is
scored with a window of its neighbours, because news sentences often name their subject only in the
previous sentence ("The company said…"). Weights come from how rare a term is among the candidate
articles, so that the words that tell candidates apart count most.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from communique.answer.injection import instruction
from communique.answer.question import Question, anchor_variants, contains_anchor, fold, stem
from communique.models import Article, Filters
from communique.retrieve import search_both
from communique.retrieve.fusion import recency_weight, reciprocal_rank_fusion
from communique.text import sentence_spans, words

_NUMBER_WORDS = (r"(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand"
                 r"|million|billion|trillion)")
_HAS_NUMBER = re.compile(r"\d|\b" + _NUMBER_WORDS + r"\b", re.IGNORECASE)
_HAS_DATE = re.compile(
    r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|last week)\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
# The days of a date: "15 October", "15 and 16 October", "Oct 15", "October 15-16"
DAY_OF_MONTH = re.compile(rf"\b\d{{1,2}}(?:(?:\s*(?:-|–|and|to)\s*)\d{{1,2}})?\s+{_MONTH}\b"
                          rf"|\b{_MONTH}\s+\d{{1,2}}(?:\s*(?:-|–|and|to)\s*\d{{1,2}})?\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:[A-Z][\w'’-]+|de|van|von|da|del|bin|al))*\s+[A-Z][\w'’-]+")
_OPENING_NAME = re.compile(r"([A-Z][\w-]+)[’']s\b")
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'-]{2,}")


@dataclass
class Candidate:
    """One article among the evidence, with its retrieval rank and dense similarity."""

    article: Article
    rank: int
    dense: float
    folded: str = ""
    support: float = 1.0  # share of the question's hard anchors the article contains
    sentences: list[Sentence] = field(default_factory=list)
    # (start, end, closeness) of the article's chunks that dense search found: closeness is 1 for the
    # nearest chunk of all candidates, falling linearly with rank. Meaning, where the words are paraphrased.
    dense_chunks: list[tuple[int, int, float]] = field(default_factory=list)


@dataclass
class Sentence:
    candidate: Candidate
    start: int
    end: int
    own: float = 0.0
    window: float = 0.0
    score: float = 0.0
    terms: set[str] = field(default_factory=set)
    holds: float = 0.0  # how surely it holds the kind of thing asked for (a figure, a name, a place)

    @property
    def text(self) -> str:
        return self.candidate.article.text[self.start:self.end]


@dataclass
class Period:
    """The days a news briefing covers, and how many articles were published in them."""

    since: date | None
    until: date | None
    total: int  # 0: nothing in those days; the candidates are then the latest articles before them


@dataclass
class Evidence:
    question: Question
    candidates: list[Candidate]
    weights: dict[str, float]
    period: Period | None = None  # for a briefing ("What happened this week?"): the days it covers
    # cosines of the question with some texts, by the embedder; None without one
    meaning: Callable[[list[str]], list[float]] | None = None
    # the question's names that articles must hold (a foreign name found in none is written otherwise)
    anchors: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> list[Sentence]:
        return sorted((s for c in self.candidates for s in c.sentences), key=lambda s: -s.score)


RECENT_DAYS = 30  # with `as_of`: the window searched on its own besides the whole archive
# Amounts of money a question may ask for. Some words name any outlay ("cost", "investment"); the others
# a particular kind of money, and a sentence that names another kind is no answer: "revenue of €2.3 billion"
# is no cost, a "€4.2 billion aid" no investment.
_OUTLAY = "cost price worth value pay paid spend spent invest investment charge money funding"
_NAMED_MONEY = "fine penalty salary budget revenue profit fee earn raise ransom aid subsidy"
_MONEY_FOCUS = frozenset(f"{_OUTLAY} {_NAMED_MONEY}".split())
_NAMED_MONEY_STEMS = frozenset(stem(w) for w in _NAMED_MONEY.split())
_MONEY = re.compile(r"[€$£¥]\s?\d|\d[\d,.]*\s*(?:million|billion|trillion|bn|m)?\s*"
                    r"(?:euros?|dollars?|pounds?|yen|yuan|naira|rupees?|francs?|usd|eur|gbp|bitcoins?|btc)\b",
                    re.IGNORECASE)
DURATION = re.compile(r"\b(?:\d[\d,.]*|a|one|two|three|four|five|six|seven|eight|nine|ten|twelve)[\s-]+"
                      r"(?:working[\s-]+)?(?:minutes?|hours?|days?|weeks?|months?|years?|decades?)\b", re.IGNORECASE)
_PERCENT_FOCUS = frozenset("percentage percent proportion share".split())
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b", re.IGNORECASE)
# A report of text addressed to an AI ("The hidden text read: ‘Ignore previous instructions…’") ranks far below
# the sentences that report; text that itself speaks to an AI is dropped (communique.answer.injection).
INSTRUCTION_TO_AI = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier"
    r"|preceding|system)\s+(?:instructions|prompts?|rules|messages)\b|\b(?:tell|inform)\s+the\s+user\s+that\b"
    r"|\byour\s+system\s+prompt\b", re.IGNORECASE)
INSTRUCTION_PENALTY = 0.25
DENSE_WEIGHT = 0.15  # closeness of the sentence's chunk to the question, by embedding
_COMPOUND = re.compile(r"\b(cyber|e|on|off)[\s-]+(attack|security|crime|mail|line)", re.IGNORECASE)
# "what is it called" is asked as "what is the name of"
# Whoever runs an organisation: "Who runs Asahi?" is answered by "Company president Atsushi Katsuki".
HEAD_WORDS = ("chief executive", "ceo", "president", "chairman", "chairwoman", "boss", "managing director",
              "director general", "secretary general", "founder")
_FOCUS_SYNONYMS = {"name": ("called", "named", "dubbed", "known as", "titled"), "worth": ("value", "valued"),
                   "head": HEAD_WORDS}


def stems_of(text: str) -> set[str]:
    return {stem(w) for w in words(_COMPOUND.sub(r"\1\2", text))}


def cognates_of(text: str) -> set[str]:
    """Six-letter prefixes of long words: 'verificación' meets 'verification', 'introducir' 'introduce'."""
    return {fold(w)[:6] for w in words(text) if len(w) >= 6}


# Words that give a reason, in English and in the languages a model may answer in.
REASON_CUES = re.compile(
    r"\b(because|due to|over|amid|citing|cited|concerns?|after|so that|to protect|parce que|en raison|"
    r"à cause|afin de|porque|debido a|por temor|para proteger|weil|wegen|aufgrund|perché|a causa)\b", re.IGNORECASE)


def defines(sentence: str, name: str) -> bool:
    """Does the sentence say what the name is ("X, a …", "X is the …", "X, which …", "…, making it the …")?"""
    n = re.escape(name)
    return re.search(rf"{n}[^.;]{{0,80}}?(?:,\s+(?:a|an|the)\s|\s+(?:is|was|are)\s+(?:a|an|the)\s|,\s+which\s"
                     rf"|,\s+making\s+it\s)|\b(?:a|an|the)\s[^.;]{{0,60}}?\b(?:called|named|known as)\s+(?:the\s+)?{n}",
                     sentence) is not None


_LOCATED = re.compile(r"\b(?:in|at|to|from|near|outside|off)\s+(?:the\s+)?"
                      r"([A-Z][\w’'-]+(?:\s+(?:of\s+)?[A-Z][\w’'-]+)*)")
_NOT_PLACES = frozenset("january february march april may june july august september october november december "
                        "monday tuesday wednesday thursday friday saturday sunday".split())


def places_in(sentence: str) -> list[str]:
    """Where the sentence locates something: "faced off in New York City", "at the Grandmaster’s Palace"."""
    found = (re.sub(r"[’']s$", "", m.group(1)) for m in _LOCATED.finditer(sentence))  # "in Britain’s capital"
    return [p for p in found if fold(p.split()[0]) not in _NOT_PLACES and len(p.split()) <= 4]


def names_the(sentence: str, noun: str | None) -> bool:
    """Does the sentence give the name of the kind of thing asked for: "the repair ship Skjold Responder",
    "the planet Jupiter", "a tool called Nightjar"?"""
    return noun is not None and re.search(rf"\b(?i:{re.escape(noun)})s?\s+(?:(?i:called|named|dubbed|known as)\s+)?"
                                          r"(?:the\s+)?[A-Z]", sentence) is not None


def asks_money(focus: str | None) -> bool:
    """Does the noun asked for name an amount of money ("cost", "worth", "fine")?"""
    return focus in _MONEY_FOCUS


def amount_pattern(focus: str | None) -> re.Pattern | None:
    """How the amount a question asks for is written: "cost" as "€14 billion", "percentage" as "71%"."""
    if focus in _MONEY_FOCUS:
        return _MONEY
    if focus in _PERCENT_FOCUS:
        return _PERCENT
    return None


def states_amount(sentence: str, stems: frozenset[str], focus: str | None) -> bool:
    """Is an amount of the kind asked for written here: "€14 billion" for a cost, "71%" for a share? An
    amount of money named as something else ("revenue of €2.3 billion") is not a cost."""
    written = amount_pattern(focus)
    if written is None or not written.search(sentence):
        return False
    return focus not in _MONEY_FOCUS or stem(focus) in stems or not (_NAMED_MONEY_STEMS - {stem(focus)}) & stems


def _beside_act(sentence: str, found: list[re.Match], question: Question, reach: int = 40) -> bool:
    """Does one of the things found stand within a few words of a word the question asks about?"""
    return any(question.asked & {stem(w) for w in words(sentence[max(0, m.start() - reach): m.end() + reach])}
               for m in found)


def type_bonus(kind: str, sentence: str, question: Question, stems: frozenset[str]) -> float:
    """Does the sentence hold the kind of thing the question asks for (a number, a name, a date…)?"""
    if kind == "count":
        q_numbers = set(re.findall(r"\d[\d,.]*", question.text))
        s_numbers = set(re.findall(r"\d[\d,.]*", DAY_OF_MONTH.sub(" ", sentence)))  # "on 15 and 16 October": a date
        if not (s_numbers - q_numbers) and not re.search(r"\b" + _NUMBER_WORDS + r"\b", sentence, re.I):
            return 0.0
        if amount_pattern(question.focus):  # "How much is the plant costing?": an amount of money
            return 1.0 if states_amount(sentence, stems, question.focus) else 0.25
        if question.focus == "duration":  # "How long…?": "within 30 days", "for three years"
            spans = list(DURATION.finditer(sentence))
            if not spans:
                return 0.25
            # surely the duration asked for when it stands beside the act: "must pay within 30 days", not
            # "20 working days to make representations" for "How long does the company have to pay?"
            return 1.0 if _beside_act(sentence, spans, question) else 0.6
        # "How many ratifications…": a figure next to what is counted, not "63 countries" in the same story
        return 1.0 if not question.counted or stem(question.counted) in stems else 0.5
    if kind == "time":  # a date the question does not already give ("the 2024 Olympics" is no answer)
        asked = fold(question.text)
        dates = [m for m in _HAS_DATE.finditer(sentence) if fold(m.group(0)) not in asked]
        if not dates:
            return 0.0
        # surely the date of the act asked about when it stands beside the act: "production … to start in 2029"
        return 1.0 if _beside_act(sentence, dates, question) else 0.75
    if kind in ("person", "place", "list", "fact"):
        q_folded = fold(question.text)
        names = [m for m in _CAPITAL.findall(sentence) if fold(m) not in q_folded]
        opening = _OPENING_NAME.match(sentence)  # "Chile’s national wallet went live…": a name, though it opens
        if opening and fold(opening.group(1)) not in q_folded:
            names.append(opening.group(1))
        if kind == "place":  # "Where did the debate take place?": "faced off in New York City", not "CBS News"
            if any(fold(p) not in q_folded for p in places_in(sentence)):
                return 1.0
            return 0.5 if names else 0.0
        if kind == "person" and _NAME.search(sentence):
            return 1.0 if names else 0.5
        return min(1.0, 0.5 * len(names))
    if kind == "reason":
        return 1.0 if REASON_CUES.search(sentence) else 0.0
    return 0.0


def gather(
    store, embedder, question: Question, as_of: date | None, filters: Filters | None,
    k_chunks: int = 24, max_articles: int = 8,
) -> Evidence:
    f = Filters(**vars(filters)) if filters else Filters()
    if as_of and (f.until is None or f.until > as_of):
        f.until = as_of
    searches = [search_both(store, embedder, question.retrieval_query, k_chunks, f)]
    if as_of and (f.since is None or f.since < as_of - timedelta(days=RECENT_DAYS)):
        # As of a day, the news of the weeks before it comes first: search that window on its own too, so
        # that a recent report is not crowded out of the candidates by older articles with more words in common.
        window = Filters(**{**vars(f), "since": as_of - timedelta(days=RECENT_DAYS)})
        searches.append(search_both(store, embedder, question.retrieval_query, k_chunks, window))
    lists = [[h.article_id for h in hits] for pair in searches for hits in pair]
    dense_by_article: dict[str, float] = {}
    closeness: dict[tuple[str, int, int], float] = {}
    for _, vec_hits in searches:
        for i, h in enumerate(vec_hits):
            dense_by_article[h.article_id] = max(dense_by_article.get(h.article_id, -1.0), h.score)
            key = (h.article_id, h.start, h.end)
            closeness[key] = max(closeness.get(key, 0.0), 1.0 - i / len(vec_hits))
    dense_chunks: dict[str, list[tuple[int, int, float]]] = {}
    for (article_id, start, end), near in closeness.items():
        dense_chunks.setdefault(article_id, []).append((start, end, near))
    fused = reciprocal_rank_fusion(lists)
    if as_of:  # prefer the news of the days before `as_of`
        published = {h.article_id: h.published for pair in searches for hits in pair for h in hits}
        fused = sorted(
            ((a, s * (0.15 + 0.85 * recency_weight(published.get(a), as_of, half_life_days=10))) for a, s in fused),
            key=lambda kv: -kv[1],
        )
    # Every chunk of an article adds to its fused score, which favours long articles that match often. The
    # first hit of each search is a candidate all the same: a short article may be the one that matches best.
    chosen = [a for a, _ in fused[:max_articles]]
    for first in dict.fromkeys(ids[0] for ids in lists if ids):
        if first not in chosen:
            chosen.append(first)
    candidates: list[Candidate] = []
    for rank, article_id in enumerate(chosen):
        article = store.get(article_id)
        if article is not None:
            candidates.append(Candidate(article, rank, dense_by_article.get(article_id, 0.0),
                                        dense_chunks=dense_chunks.get(article_id, [])))
    evidence = score(question, candidates, as_of)
    if embedder is not None:
        def meaning(texts: list[str]) -> list[float]:
            vectors = embedder.embed_passages(texts)
            return (vectors @ embedder.embed_query(question.retrieval_query)).tolist() if len(texts) else []

        evidence.meaning = meaning
    return evidence


def latest(store, question: Question, period: Filters, limit: int) -> Evidence:
    """The newest articles of a period (and of the reader's other filters), newest first: a briefing needs
    no search, only dates."""
    page = store.list_articles(None, period, 1, limit)
    articles = page.articles
    if not articles and period.since is not None:  # a quiet week: the latest stories before it
        articles = store.list_articles(None, Filters(**{**vars(period), "since": None}), 1, limit).articles
    candidates = [Candidate(a, rank, 0.0) for rank, a in enumerate(articles)]
    evidence = score(question, candidates, period.until)
    evidence.period = Period(period.since, period.until, page.total)
    return evidence


@dataclass(frozen=True)
class Prepared:
    """What scoring needs from an article, independent of the question: computed once per text."""

    folded: str
    present: frozenset[str]
    spans: tuple[tuple[int, int], ...]
    stems_per: tuple[frozenset[str], ...]
    title_stems: frozenset[str]
    cognates_per: tuple[frozenset[str], ...]
    title_cognates: frozenset[str]


@lru_cache(maxsize=4096)
def prepare(title: str, text: str) -> Prepared:
    spans = tuple(sentence_spans(text))
    return Prepared(
        folded=fold(title + "\n" + text),
        present=frozenset(stems_of(title + " " + text)),
        spans=spans,
        stems_per=tuple(frozenset(stems_of(text[a:b])) for a, b in spans),
        title_stems=frozenset(stems_of(title)),
        cognates_per=tuple(frozenset(cognates_of(text[a:b])) for a, b in spans),
        title_cognates=frozenset(cognates_of(title)),
    )


def score(question: Question, candidates: list[Candidate], as_of: date | None = None) -> Evidence:
    terms = [stem(t) for t in question.terms]
    if not question.is_english:  # match a French/Spanish/German question's cognates in English text
        terms += [p for p in cognates_of(" ".join(question.terms)) if p not in terms]
    context = [stem(t) for t in question.context_terms if stem(t) not in terms]
    anchors = question.hard_anchors
    n = max(1, len(candidates))
    df: dict[str, int] = {}
    prepared = {id(c): prepare(c.article.title, c.article.text) for c in candidates}
    for c in candidates:
        p = prepared[id(c)]
        c.folded = p.folded
        present = p.present
        if not question.is_english:
            present = present | frozenset().union(p.title_cognates, *p.cognates_per)
        for t in set(terms + context):
            if t in present:
                df[t] = df.get(t, 0) + 1
    if not question.is_english:  # a German noun is capitalised, a French name may be written in English
        anchors = [a for a in anchors if any(contains_anchor(prepared[id(c)].folded, a) for c in candidates)]
    for c in candidates:
        if anchors:
            c.support = sum(contains_anchor(c.folded, a) for a in anchors) / len(anchors)
    weights = {t: 1.0 + math.log((n + 1) / (df.get(t, 0) + 0.5)) for t in terms}
    for t in context:
        weights[t] = 0.5 * (1.0 + math.log((n + 1) / (df.get(t, 0) + 0.5)))
    for a in question.anchors:
        for t in stems_of(a):
            if t in weights:
                weights[t] *= 1.5
    if question.focus and stem(question.focus) in weights:
        # "Which disease…": the sentence that names it says "disease". But the items of a list are
        # named, not called "countries": "the country's Privacy Act" is no item.
        weights[stem(question.focus)] *= 0.5 if question.kind == "list" else 2.0
    total = sum(weights.values()) or 1.0
    anchor_stems = {t for a in question.hard_anchors for t in stems_of(a)}
    for c in candidates:
        p = prepared[id(c)]
        spans = p.spans
        stems_per = [set(st) for st in p.stems_per]
        title_stems = set(p.title_stems)
        if not question.is_english:
            stems_per = [st | cg for st, cg in zip(stems_per, p.cognates_per, strict=True)]
            title_stems |= p.title_cognates
        prior = 1.0 / (1.0 + 0.35 * c.rank)
        # As of a day, a sentence of last month's news outranks an equally good one of years ago.
        recent = 1.0 if as_of is None else 0.7 + 0.3 * recency_weight(c.article.published, as_of, half_life_days=30)
        focus = stem(question.focus) if question.focus else None
        synonyms = _FOCUS_SYNONYMS.get(question.focus or "", ()) or tuple(  # "CEO" is written "chief executive"
            v for v in anchor_variants(question.focus or "") if v != fold(question.focus or ""))
        # A news lead states the story in one sentence: for a list, each story's lead is its item.
        lead_bonus = 0.1 if question.kind == "list" else 0.02
        for i, (a, b) in enumerate(spans):
            if focus in weights and synonyms and any(w in c.article.text[a:b].lower() for w in synonyms):
                stems_per[i].add(focus)
            elif focus in weights and states_amount(c.article.text[a:b], p.stems_per[i], question.focus):
                stems_per[i].add(focus)  # "How much is it costing?" is answered by "the €14 billion facility"
            near = set(stems_per[i])
            if i > 0:
                near |= stems_per[i - 1]
            if i + 1 < len(spans):
                near |= stems_per[i + 1]
            window_terms = (near | title_stems) & weights.keys()
            own_terms = stems_per[i] & weights.keys()
            s = Sentence(c, a, b, terms=own_terms)
            s.own = sum(weights[t] for t in own_terms) / total
            # The story's names, given by the headline or the sentence before, count for half: "Delegations
            # from 41 countries have been invited" is about the Port Eleris summit of its lead.
            s.own += 0.5 * sum(weights[t] for t in (window_terms & anchor_stems) - own_terms) / total
            s.window = sum(weights[t] for t in window_terms) / total
            sentence = c.article.text[a:b]
            if instruction(sentence):  # speaks to an AI reader: never an answer
                continue
            bonus = s.holds = type_bonus(question.kind, sentence, question, p.stems_per[i])
            if question.defines and defines(sentence, question.defines) or names_the(sentence, question.named):
                bonus += 1.0
            bonus_weight = 0.25 if question.kind in ("count", "time", "person") else 0.1
            near_meaning = max((w for x, y, w in c.dense_chunks if x < b and a < y), default=0.0)
            s.score = (0.55 * s.own + 0.25 * s.window + 0.12 * prior + bonus_weight * bonus
                       + DENSE_WEIGHT * near_meaning + (lead_bonus if i == 0 else 0.0))
            s.score *= 0.5 + 0.5 * c.support
            s.score *= recent
            if INSTRUCTION_TO_AI.search(sentence):
                s.score *= INSTRUCTION_PENALTY
            c.sentences.append(s)
    return Evidence(question, candidates, weights, anchors=list(anchors))
