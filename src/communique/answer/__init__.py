"""The answer engine: question → evidence → draft (extractive or a model) → verified, cited answer.

Every generator sees only numbered source passages. A model's draft is verified sentence by
sentence against the passage it cites; what cannot be verified is dropped, and if nothing survives
the extractive answer is used. Article text is data, never instructions: it is never executed, and
the extractive path never follows it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from communique import timewords
from communique.answer import phrases
from communique.answer.citations import marker
from communique.answer.events import AnswerEvent
from communique.answer.evidence import Evidence, gather, latest
from communique.answer.extractive import BOTH_STORIES, Draft, compose, refusal
from communique.answer.followups import suggest
from communique.answer.question import Question, analyse, named_month
from communique.models import Answer, Filters
from communique.timewords import Window, month_days

if TYPE_CHECKING:
    from communique.service import Communique

BRIEFING_DAYS = 7  # "What's new?" without a period: the seven days up to `as_of`, else today
BRIEFING_MAX = 10  # stories listed in a briefing, newest first


def time_window(question: str, as_of: date | None, service: Communique | None = None) -> Window | None:
    """The days a question's time word names ("this week", "since October", "latest"), counted back from
    `as_of`, else today: never from the newest article, so a stale archive has no news "this week". With the
    service, a time word that names an event ("before the Hanoi signing") is counted from the event's day."""
    ref = as_of or timewords.today()
    window = timewords.resolve(question, ref)
    if window is not None or service is None or timewords.event_anchor(question) is None:
        return window
    from communique.answer.anchors import event_window

    return event_window(service.store, service.embedder, question, ref)


# "not looked for yet": a window named by an event costs a search of the archive, so one answer looks once and
# hands it on; None is a found answer (the question names no days)
UNRESOLVED: Any = object()


def narrowed(filters: Filters, window: Window | None, ref: date) -> None:
    """Retrieval keeps to the days a time word names ("last week", "since October"): both answerers use it."""
    if window is not None and not window.latest:
        if window.since and (filters.since is None or filters.since < window.since):
            filters.since = window.since
        if window.until and window.until < ref and (filters.until is None or filters.until > window.until):
            filters.until = window.until


def with_as_of(window: Window | None, as_of: date | None, q: Question, answer: Answer) -> Iterator[AnswerEvent]:
    """The answer, noting the day it counts from where a time word was used (`window`): "this week" means
    nothing without the day it ends; "before the Hanoi signing" ends the day before the report of it."""
    if window is not None or q.kind == "briefing":
        day = window.until if window is not None and window.event and window.until else as_of or timewords.today()
        note = "\n" + phrases.as_of(day.isoformat(), q.language)
        yield AnswerEvent("delta", note)
        answer.answer += note
    yield AnswerEvent("answer", answer)


def _sources_payload(evidence: Evidence) -> list[dict]:
    return [
        {"article_id": c.article.id, "title": c.article.title, "url": c.article.url,
         "published": c.article.published.isoformat() if c.article.published else None}
        for c in evidence.candidates
    ]


# "Which executive stepped down, and what was his role?": two asks in one question
_SECOND_ASK = re.compile(r"^(?P<first>.{12,}?),?\s+and\s+(?P<second>(?:(?:on|in|at|from|for|to|by) )?"
                         r"(?:how|what|when|where|who|whom|which|why)\b.{3,})$", re.IGNORECASE | re.DOTALL)
_WHOLE_ONLY = ("briefing", "stories", "summary", "compare", "list")  # kinds whose asks are answered as one


def two_asks(text: str) -> tuple[str, str] | None:
    """The two questions of "How many were invited, and how many signed?", each ending in a question mark."""
    m = _SECOND_ASK.match(text.strip())
    if not m:
        return None
    first = m.group("first").rstrip(" ,;") + "?"
    return first, m.group("second").strip()


# "What ages did Marrovia and Aldoria choose?": two names, often two stories
_TWO_NAMES = re.compile(r"\b((?:[A-Z][\w’'-]+\s)*[A-Z][\w’'-]+) and ((?:[A-Z][\w’'-]+\s)*[A-Z][\w’'-]+)\b")


def each_name(text: str) -> tuple[str, str] | None:
    """The question asked of each of two names it joins: "What did Kenya and Chile choose?" → of Kenya, of Chile."""
    m = _TWO_NAMES.search(text)
    if not m or m.start() == 0:  # "Kenya and Chile…" opening the question: the first word may be no name
        return None
    return tuple(text[: m.start()] + name + text[m.end():] for name in (m.group(1), m.group(2)))  # type: ignore[return-value]


def answer_both(service: Communique, asks: tuple[str, str], history: list[dict], as_of: date | None,
                filters: Filters | None, follow_on: bool = True) -> Draft | None:
    """Each ask answered on its own and the two drafts joined, so that both parts are answered and cited.
    With `follow_on`, the second ask is a follow-up of the first ("…, and what was his role?"), and a second
    ask without an answer leaves the first's; without it, the two are separate questions and both must be
    answered. None when the first finds no answer: the question is then answered whole."""
    first, second = asks
    _, first_evidence = evidence_for(service, first, history, as_of, filters)
    one = compose(first_evidence)
    if one.refused:
        return None
    turns = [*history, {"role": "user", "content": first}] if follow_on else history
    _, second_evidence = evidence_for(service, second, turns, as_of, filters)
    other = compose(second_evidence)
    if other.refused:
        return one if follow_on else None
    # the second ask's sentences that the first answer does not already quote, each with its citation
    added = [f"{article.text[a:b].strip()} {marker(one.book.cite(article, a, b))}"
             for article, a, b in other.book.quotes() if (a, b) not in one.book.spans(article.id)]
    if not added:
        return one
    text = " ".join([one.text, *added])
    return Draft(text, False, one.book, [*one.support, *(c for c in other.support if c not in one.support)])


def draft_answer(service: Communique, question: Question, evidence: Evidence,
                 fallback: Draft | None = None) -> Iterator[AnswerEvent]:
    """The configured generator's verified draft, streamed as `delta` events and returned at the end.

    The extractive draft (`fallback`, composed from the evidence unless given) is the answer when no model
    is configured, when it refuses (a model is not asked to answer what the articles do not hold), and when
    nothing a model wrote survives checking.
    """
    fallback = fallback or compose(evidence)
    draft = fallback
    if service.settings.generator != "extractive" and not fallback.refused and question.kind != "briefing":
        from communique.answer.generate import generate_verified

        draft = yield from generate_verified(service, question, evidence, fallback)
    if draft is fallback:
        for piece in re.split(r"(?<=\])\s+|(?<=\n)", draft.text):
            if piece:
                yield AnswerEvent("delta", piece + ("" if piece.endswith("\n") else " "))
    return draft


def evidence_for(
    service: Communique, question: str, history: list[dict], as_of: date | None, filters: Filters | None,
    window: Window | None = UNRESOLVED,
) -> tuple[Question, Evidence]:
    """The question analysed and the evidence an answer is drawn from: what every generator sees."""
    q = analyse(question, history)
    filters = Filters(**vars(filters)) if filters else Filters()
    ref = as_of or timewords.today()
    if window is UNRESOLVED:
        window = time_window(question, as_of, service)
    if window is not None and window.latest:
        window = None if q.kind == "briefing" else window  # "the latest news" is a briefing's default week
    if q.kind == "briefing":  # "What's new?": the last week up to `as_of`, else up to today
        until = min((d for d in (as_of, filters.until) if d), default=None)
        month = named_month(question)
        if window is not None:  # "What happened last week?", "since October", "in 2025"
            since, last = window.since, window.until
        elif month is not None:  # "What happened in October?": that month, the last one begun by the reference day
            since, last = month_days(*month, ref)
        else:
            since, last = ref - timedelta(days=BRIEFING_DAYS - 1), ref  # "the last 7 days" counts the day itself
        last = min(last or ref, ref)  # nothing after the reference day: it is "today" for the reader
        until = min(until, last) if until else last
        if filters.since is not None and (since is None or filters.since > since):
            since = filters.since
        period = Filters(**{**vars(filters), "since": since, "until": until})  # keeps sources, article scope
        return q, latest(service.store, q, period, BRIEFING_MAX)
    narrowed(filters, window, ref)
    ranking_day = as_of or (ref if window is not None and window.latest else None)  # recency counts back from it
    evidence = gather(service.store, service.embedder, q, ranking_day, filters,
                      k_chunks=60 if q.kind == "stories" else 24,
                      max_articles=20 if q.kind == "stories" else 8)
    return q, evidence


# Kinds of question the learned answerer takes; briefings, story lists, comparisons and summaries are views
# over many articles that the first design still builds.
LEARNED_KINDS = frozenset({"fact", "count", "list", "person", "place", "time", "reason"})


def learned_reading(service: Communique, q: Question, history: list[dict], as_of: date | None,
                    filters: Filters | None, window: Window | None) -> tuple:
    """The learned answerer's reading of the question and its decision: (reading, decision, models)."""
    from communique.answer import learned

    filters = Filters(**vars(filters)) if filters else Filters()
    narrowed(filters, window, as_of or timewords.today())
    reading = learned.read(service.store, service.embedder, q.text, history, as_of, filters, q.language)
    models = learned.load(str(service.settings.answer_models) if service.settings.answer_models else None)
    return reading, learned.decide(reading, models, service.reader), models


def learned_events(service: Communique, q: Question, as_of: date | None, window: Window | None, reading, decision,
                   times: tuple[float, float]) -> Iterator[AnswerEvent]:
    """The learned answerer's answer: sources, the text as one delta, then the answer."""
    from communique.answer import learned

    t0, t_retrieve = times
    yield AnswerEvent("sources", [
        {"article_id": f.article.id, "title": f.article.title, "url": f.article.url,
         "published": f.article.published.isoformat() if f.article.published else None} for f in reading.found])
    if decision.refused:
        draft = refusal(q, [])
    else:
        text, book = learned.written(decision, q.language)
        draft = Draft(text, False, book, [])
    t_first = None
    if service.settings.generator != "extractive" and not draft.refused:
        from communique.answer.generate import generate_from

        # the model reads the ranker's best passages; the learned answer stands if nothing survives
        model_draft, t_first = yield from relayed(generate_from(service, q, learned.passages(reading, decision),
                                                                draft))
        if model_draft is not draft:
            draft = model_draft
        else:
            yield AnswerEvent("delta", draft.text)
    else:
        yield AnswerEvent("delta", draft.text)
    cited_ids = {c.article_id for c in draft.book.citations()}
    cited = [f.article for f in reading.found if f.article.id in cited_ids]
    yield from with_as_of(window, as_of, q, finished(q, draft, cited, (t0, t_retrieve, t_first)))


def relayed(stream: Iterator[AnswerEvent]) -> Iterator[AnswerEvent]:
    """Pass a draft's events on; returns (the draft, when its first event came)."""
    t_first = None
    while True:
        try:
            event = next(stream)
        except StopIteration as done:
            return done.value, t_first
        t_first = t_first or time.perf_counter()
        yield event


def finished(q: Question, draft: Draft, cited: list, times: tuple[float, float, float | None]) -> Answer:
    """The answer event's payload, with its timings: retrieval, generation, first delta, total, first token."""
    t0, t_retrieve, t_first = times
    now = time.perf_counter()
    answer = Answer(
        answer=draft.text, refused=draft.refused, citations=draft.book.citations(),
        followups=suggest(q, cited, draft.refused),
        timings_ms={"retrieve": (t_retrieve - t0) * 1000, "generate": (now - t_retrieve) * 1000,
                    "first_delta": ((t_first or now) - t0) * 1000, "total": (now - t0) * 1000},
    )
    if draft.model_first_token_ms is not None:  # retrieval + prompt processing + the model's first token
        answer.timings_ms["first_token"] = (t_retrieve - t0) * 1000 + draft.model_first_token_ms
    return answer


def rules_draft(service: Communique, question: str, history: list[dict], as_of: date | None,
                filters: Filters | None, window: Window | None = UNRESOLVED) -> tuple[Question, Evidence, Draft]:
    """The first design's extractive answer, before any model rewrites it: (question, evidence, draft)."""
    q, evidence = evidence_for(service, question, history, as_of, filters, window)
    asks = two_asks(question) if q.is_english and q.kind not in _WHOLE_ONLY else None
    both = answer_both(service, asks, history, as_of, filters) if asks else None
    names = each_name(question) if q.kind not in _WHOLE_ONLY and not BOTH_STORIES.search(question) else None
    if both is None and names:
        whole = compose(evidence)  # two names no story holds together: what each story says of its own
        both = answer_both(service, names, history, as_of, filters, follow_on=False) if whole.refused else whole
    return q, evidence, both or compose(evidence)


def prefers_learned(models, reading, decision, rules: Draft, history: list[dict]) -> bool:
    """The chooser's verdict: is the learned answer likelier to be right than the rules'?"""
    from communique.answer import chooser

    if models.choose is None:
        return True
    x = chooser.features(reading, decision, rules, bool(history))
    return float(models.choose.predict(x)[0]) >= 0.5


def answer_events(
    service: Communique, question: str, history: list[dict], as_of: date | None, filters: Filters | None,
    answerer: str | None = None,
) -> Iterator[AnswerEvent]:
    """The answer, by the configured answerer (or `answerer`): the rules, the learned models, or both with a
    learned chooser between them (`combined`). Briefings, story lists, comparisons and summaries are always
    the rules'."""
    t0 = time.perf_counter()
    mode = answerer or service.settings.answerer
    window = time_window(question, as_of, service)  # once: an event's day is a search of the archive
    reading = None
    if mode != "rules" and (q := analyse(question, history)).kind in LEARNED_KINDS:
        reading, decision, models = learned_reading(service, q, history, as_of, filters, window)
        if mode == "learned":
            yield from learned_events(service, q, as_of, window, reading, decision, (t0, time.perf_counter()))
            return
    q, evidence, rules = rules_draft(service, question, history, as_of, filters, window)
    t_retrieve = time.perf_counter()
    if reading is not None and prefers_learned(models, reading, decision, rules, history):
        yield from learned_events(service, q, as_of, window, reading, decision, (t0, t_retrieve))
        return
    yield AnswerEvent("sources", _sources_payload(evidence))
    draft, t_first = yield from relayed(draft_answer(service, q, evidence, rules))
    cited_ids = {c.article_id for c in draft.book.citations()}
    cited = [c.article for c in evidence.candidates if c.article.id in cited_ids] or \
        [c.article for c in draft.support]
    yield from with_as_of(window, as_of, q, finished(q, draft, cited, (t0, t_retrieve, t_first)))
