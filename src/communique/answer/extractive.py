"""The default generator: no language model, just the right sentences of the right articles, cited.

The answer is short by design: one or two sentences for a fact, one per source for a list, a line per
story for "which stories…". Where two sources give different figures for the same fact, both are
shown with their dates. When no article supports the question, the answer is a refusal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from communique.answer import phrases
from communique.answer.citations import CitationBook, marker
from communique.answer.evidence import (
    DAY_OF_MONTH,
    DURATION,
    HEAD_WORDS,
    Candidate,
    Evidence,
    Sentence,
    amount_pattern,
    asks_money,
    names_the,
    stems_of,
)
from communique.answer.question import DEFINITE_ACTS, Question, contains_anchor, fold, stem
from communique.text import STOPWORDS

MIN_OWN = 0.22  # share of the question's weighted terms the best sentence must contain…
MIN_WINDOW = 0.40  # …or its window of neighbours and title
MEANING_MARGIN = 0.03  # a list item's cosine with the question may be this far below the closest item's
# Asked-for attributes that an article states in so many words when it states them at all: if none of
# these words is near the best sentence, the article does not say ("Who is the chief executive…").
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "fine": ("fine", "fined", "penalty", "penalties"), "penalty": ("fine", "fined", "penalty"),
    "cost": ("cost", "costs", "costing", "price", "priced", "charge", "charges", "fee", "€", "$", "£"),
    "price": ("price", "priced", "cost", "costs", "charge", "fee", "€", "$", "£"),
    "charge": ("charge", "charges", "price", "fee", "cost"), "fee": ("fee", "fees", "charge", "price"),
    "salary": ("salary", "salaries", "paid", "pay"), "budget": ("budget", "budgeted", "funding", "allocated"),
    "chief": ("chief executive", "ceo", "chief"), "ceo": ("chief executive", "ceo"),
    "head": HEAD_WORDS,
    "theme": ("theme", "motto", "slogan"), "deadline": ("deadline", "by ", "until", "within"),
    "revenue": ("revenue", "sales", "turnover"), "profit": ("profit", "earnings", "net income"),
    "population": ("population", "inhabitants", "residents"), "age": ("age", "aged", "years old"),
    "verdict": ("verdict", "ruled", "ruling", "judgment", "judgement", "guilty", "acquitted", "convicted",
                "dismissed", "upheld", "sentenced"),
    "ruling": ("ruled", "ruling", "judgment", "judgement", "verdict", "dismissed", "upheld"),
}
_NUM = re.compile(r"\d[\d,.]*")
_STORY_WORDS = {stem(w) for w in ("story stories involve report happen article new mention feature cover timeline "
                                  "chronology history develop evolve unfold progress give show tell list anything any "
                                  "news quote cite name refer talk speak interview appear lately recently doing "
                                  "up change past issue topic subject matter comment weigh spoke "
                                  # how a story's figure moved: "from the first estimate to the final count"
                                  "first initial early earlier final latest last estimate count number figure"
                                  ).split()}


@dataclass
class Draft:
    """An answer before timing and follow-ups: text with [n] markers and its citation book."""

    text: str
    refused: bool
    book: CitationBook
    support: list[Candidate]
    model_first_token_ms: float | None = None  # when a model wrote it: its first token, from the request


def refusal(question: Question, near: list[Candidate]) -> Draft:
    topic = question.text.rstrip("?？!. ")
    text = phrases.refused(topic, question.language)
    if near and question.is_english:
        text = text.rstrip(".") + ", though some articles touch on related topics."
    return Draft(text, True, CitationBook(), near[:2])


def supporting(evidence: Evidence) -> list[Candidate]:
    """Candidates that contain the question's names and numbers (all, or all but one of three or more)."""
    q = evidence.question
    # "Which other countries…": the story of the one asked about before is not another
    pool = [c for c in evidence.candidates if not any(contains_anchor(fold(c.article.title), a) for a in q.others_than)]
    anchors = evidence.anchors
    if not anchors:
        return pool
    allowed_missing = (len(anchors) - 1) // 2  # one of three, two of five: a long question may paraphrase
    # …but not a code of letters and figures ("5G", "F-35", "G7"): it has no other wording to paraphrase it by
    codes = [a for a in anchors if _CODE.fullmatch(a)]
    return [c for c in pool if sum(not contains_anchor(c.folded, a) for a in anchors) <= allowed_missing
            and all(contains_anchor(c.folded, a) for a in codes)]


_CODE = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]+")


# "Which group uncovered both the Nightjar infections and the flaw in Brenzwil's voting system?"
BOTH_STORIES = re.compile(r"\bboth\b.+\band\b", re.IGNORECASE)


def _bridge(q: Question, evidence: Evidence) -> Draft | None:
    """A question about two stories at once, answered by the name that a sentence of each gives: "Citadel Lab
    found traces of the Nightjar spyware…" and "It was found by a team at Citadel Lab" (of Brenzwil's flaw).
    Without a name the two sides share, the articles do not say it."""
    anchors = evidence.anchors
    if len(anchors) != 2:
        return None
    asked = q.said
    sides = [[x for c in evidence.candidates if contains_anchor(c.folded, a) for x in _top(c, 3)] for a in anchors]
    best: tuple[float, str, Sentence, Sentence] | None = None
    for one in sides[0]:
        names = {n for n in _names(one.text) if fold(n) not in asked}
        for other in sides[1]:
            if other.candidate is one.candidate:
                continue
            shared = [n for n in _names(other.text) if n in names]
            if shared and (best is None or one.score + other.score > best[0]):
                best = (one.score + other.score, shared[0], one, other)
    if best is None:
        return None
    _, _, one, other = best
    book = CitationBook()  # the two sentences name it: no "Name:" lead
    return Draft(f"{_sentence(one, book)} {_sentence(other, book)}", False, book, [one.candidate, other.candidate])


def _act_reported(q: Question, best: list[tuple[Sentence, Candidate]]) -> bool:
    """A definite act the question asks about ("bought", "banned") is reported beside one of the best
    sentences, or in its headline: a story about the subject alone is no answer."""
    acts = {stem(t) for t in q.terms} & DEFINITE_ACTS
    if not acts:
        return True
    return any(acts & stems_of(" ".join([c.article.title, *(_neighbourhood(c, x) for x in _top(c, 2))]))
               for _, c in best)


def _top(c: Candidate, n: int) -> list[Sentence]:
    return sorted(c.sentences, key=lambda s: -s.score)[:n]


# Words that call a report false or say an act was undone: "false reports of", "denied", "called off".
_UNDONE = r"false|denied|denies|deny|refuted|voted down|rejected|withdrawn|withdrew|called off|calls off|abandoned"
_FALSE_REPORT = re.compile(rf"\b(?:{_UNDONE})\b", re.IGNORECASE)
# A sentence that says an act did not happen: "did not sign", "has not issued a fine", "denied selling".
_DENIAL = re.compile(rf"\b(?:not|never|no longer|neither|nor|declined to|refused to|{_UNDONE})\b|n[’']t\b",
                     re.IGNORECASE)


# A question about the undoing itself ("When did Tessaro call off its bid?", "Why was the bill withdrawn?"),
# or one that does not take the act for done ("the company that Tessaro tried to buy", "had planned to")
_UNDOING_ASKED = re.compile(r"\b(?:call(?:ed|s|ing)? off|withdr[ae]wn?|withdraw\w*|abandon\w*|reject\w*"
                            r"|den(?:y|ied|ies)|refut\w*|vot\w* down|false\w*|tr(?:y|ied|ies|ying)|attempt\w*"
                            r"|sought|seek\w*|want\w*|bid|offer\w*|plann\w*|intend\w*|propos\w*|hop(?:ed|ing))\b",
                            re.IGNORECASE)


def _premise_denied(q: Question, chosen: list[Sentence], support: list[Candidate]
                    ) -> tuple[Sentence, Candidate] | None:
    """A sentence saying that what the question takes for granted did not happen.

    Either the answer itself, or a sentence beside it, denies the act ("Qubitra denied reports that it was
    moving…" for "Why is Qubitra moving?"); or, when the best sentence lacks a name of the question, another
    sentence names it with the act denied ("When did the United States sign?": 41 countries signed, but "the
    United States … did not sign").
    """
    if q.kind not in ("fact", "count", "person", "place", "time", "reason"):
        return None
    best = chosen[0]
    best_folded = fold(best.text)
    subjects = [a for a in q.hard_anchors if not contains_anchor(best_folded, a)]
    # the act asked about, as the best sentence reports it ("signed"): the words both share, less the names
    acts = (q.asked & stems_of(best.text)) - {stem(q.focus or "")}
    # "Why is Qubitra moving to Singapore?" best answered by "Qubitra denied reports that it was moving…":
    # a when-, why-, who-, where- or how-much-question takes the act for granted ("How did the vote go?" does not,
    # nor does "the company that Tessaro tried to buy")
    if q.kind in ("person", "place", "time", "reason", "count") and not _UNDOING_ASKED.search(q.text):
        # beside the answer, only a report called false or denied: "the United States did not sign" tells of
        # others than those who did
        near = [(s, _DENIAL) for s in chosen] + [(s, _FALSE_REPORT) for s in _top(best.candidate, 3) if s not in chosen]
        # a sentence that gives what is asked ("…will no longer allow…, announced on 26 February" for "From
        # what date…?", "…does not guarantee…; the IESG will decide" for "Who decides…?") answers it
        denial = next(((s, s.candidate) for s, cue in near
                       if s.holds < 0.75 and _denies(s.text, q.asked & stems_of(s.text), 6, cue)), None)
        # …but an act called off, withdrawn or denied has nothing to give, whatever figure the sentence states:
        # "How much did Tessaro pay to complete its acquisition?" for "Tessaro has called off its €3.2 billion
        # takeover" or "denied a report in the Ledger that it had paid"; and another story may say the act itself
        # was called off ("How many voted online in the pilot?", "Brenzwil has called off its online voting pilot")
        if denial is None and q.kind != "reason":
            denial = next(((s, s.candidate) for s in chosen
                           if _denies(s.text, q.asked & stems_of(s.text), 12, _FALSE_REPORT)), None) or next(
                ((x, c) for c in support for x in _top(c, 3) if _denies(x.text, q.asked, 5, _FALSE_REPORT, least=2)),
                None)
        if denial is not None:
            return denial
    if not subjects or not acts:
        return None
    for c in support:
        for s in c.sentences:
            if s.own >= 0.6 * best.own and s.holds < 0.75 and _denies(s.text, acts, 4) and all(
                    contains_anchor(fold(s.text), a) for a in subjects):
                return s, c
    return None


def _denies(sentence: str, acts: set[str] | frozenset[str], within: int, cue: re.Pattern = _DENIAL,
            least: int = 1) -> bool:
    """Does the act (`least` of its words) follow a negation closely: "did not sign", "has not issued a fine",
    "denied … moving"?"""
    return any(len(acts & stems_of(" ".join(sentence[m.end():].split()[:within]))) >= least
               for m in cue.finditer(sentence))


def _neighbourhood(c: Candidate, s: Sentence) -> str:
    """The sentence with the one before and the one after it."""
    ordered = sorted(c.sentences, key=lambda x: x.start)
    i = ordered.index(s)
    return " ".join(x.text for x in ordered[max(0, i - 1): i + 2])


def _mentions_attribute(c: Candidate, s: Sentence, words: tuple[str, ...]) -> bool:
    window = _neighbourhood(c, s).lower()
    return any(w in window for w in words)


def _best(c: Candidate) -> Sentence | None:
    return max(c.sentences, key=lambda s: s.score, default=None)


_DATE_NUMBER = re.compile(rf"{DAY_OF_MONTH.pattern}|\b(?:19|20)\d\d\b", re.IGNORECASE)  # days and years


def _numbers(text: str, durations: bool = True) -> set[str]:
    """The figures of a sentence, leaving out dates and years (two reports of one event share its date), and
    durations unless asked for ("2,400 jobs over 18 months" and "1,900 positions over 18 months" differ)."""
    if not durations:
        text = DURATION.sub(" ", text)
    return {n.rstrip(".,") for n in _NUM.findall(_DATE_NUMBER.sub(" ", text))}


def _sentence(s: Sentence, book: CitationBook) -> str:
    n = book.cite(s.candidate.article, s.start, s.end)
    return f"{s.text.strip()} {marker(n)}"


def _date(c: Candidate) -> str:
    return c.article.published.isoformat() if c.article.published else "undated"


def compose(evidence: Evidence) -> Draft:
    q = evidence.question
    if q.kind == "briefing":
        return _briefing(evidence)
    support = supporting(evidence)
    if not support:
        bridged = _bridge(q, evidence) if BOTH_STORIES.search(q.text) else None
        return bridged or refusal(q, evidence.candidates)
    ranked = sorted(((s, c) for c in support if (s := _best(c))), key=lambda sc: -sc[0].score)
    if not ranked:
        return refusal(q, evidence.candidates)
    best, best_c = ranked[0]
    if _ASKS_FINAL.search(q.text):  # "the fine finally imposed": of two reports that answer alike, the later
        later = next(((s, c) for s, c in ranked[1:3] if s.score >= 0.9 * best.score and s.holds >= best.holds
                      and (c.article.published or date.min) > (best_c.article.published or date.min)), None)
        if later is not None:
            best, best_c = later
            ranked = [later, *(x for x in ranked if x is not later)]
    scoped = len(evidence.candidates) == 1  # "Ask about this article": the reader chose the source
    if q.kind == "summary" and (scoped or best.window >= MIN_WINDOW or not q.terms):
        return _summary(best_c, CitationBook(), support)
    # Coverage of the question, judged on the best few sentences: the best by meaning may word it otherwise.
    covered = [s for s, _ in ranked[:3]]
    # …or the best names the very kind of thing asked for, in a story that holds the question's names: "the
    # trawler Havbris" answers "the name of the trawler that pulled the unmanned submarine out of the water"
    named = names_the(best.text, q.named) and best_c.support == 1.0 and bool(q.hard_anchors)
    if (max(s.own for s in covered) < MIN_OWN and max(s.window for s in covered) < MIN_WINDOW
            and q.is_english and not scoped and not named):
        return refusal(q, evidence.candidates)
    if q.focus in ATTRIBUTES and not _mentions_attribute(best_c, best, ATTRIBUTES[q.focus]):
        return refusal(q, evidence.candidates)
    if q.hard_anchors and not _act_reported(q, [(s, c) for s, c in ranked[:3]]):
        return refusal(q, evidence.candidates)
    book = CitationBook()
    if q.kind == "summary":
        return _summary(best_c, book, support)
    if q.kind == "stories":
        return _stories(q, support, book, evidence.weights)
    if q.kind == "list":
        return _list(q, ranked, book, support, evidence.meaning)
    if q.kind == "compare":
        return _compare(q, ranked, book, support)
    chosen = [best]
    # A second sentence of the same article when it answers nearly as well (the name of the thing
    # often comes in the sentence after the one that matches the question best).
    runner_up = max((s for s in best_c.sentences if s is not best), key=lambda s: s.score, default=None)
    focus = stem(q.focus) if q.focus else None
    focus_missing = focus is not None and focus not in best.terms
    # "Which state did Harris visit?": a sentence that names a place is the answer (it need not say
    # "state"); a second one would name another place beside it.
    answered = best.holds >= 1.0 and (q.kind == "place" or q.kind == "person" and not focus_missing)
    if q.kind == "person" and person_named(q, [best], best_c) is None:
        # "The indictment is part of…" matches best, but the sentence that names who was indicted answers
        naming = next((s for s in _top(best_c, 3)[1:] if s.score >= 0.75 * best.score and s.own >= 0.6 * best.own
                       and q.asked & s.terms and person_named(q, [s], best_c)), None)
        if naming is not None:
            runner_up, answered = naming, False
    if runner_up is not None and not answered and (runner_up.score >= 0.8 * best.score or (
            focus_missing and focus in runner_up.terms and runner_up.score >= 0.5 * best.score) or (
            abs(best_c.sentences.index(runner_up) - best_c.sentences.index(best)) == 1
            and runner_up.score >= 0.65 * best.score)):
        chosen.append(runner_up)
    chosen = _continued(chosen, best_c)
    denied = _premise_denied(q, [best, *(s for s in chosen if s is not best)], support)
    if denied is not None:
        s, c = denied
        n = book.cite(c.article, s.start, s.end)
        return Draft(f"The articles I have do not say that. “{c.article.title}” ({_date(c)}) reports: "
                     f"{s.text.strip()} {marker(n)}", True, book, support)
    conflict = _conflict(q, best, best_c, evidence)
    if conflict:
        reports = sorted([(best, best_c), *conflict], key=lambda sc: sc[1].article.published or date.min)
        # "How many have now signed?", "What fine was finally imposed?": the latest report first
        now = _ASKS_NOW.search(q.text) is not None or _ASKS_FINAL.search(q.text) is not None
        if now:
            reports = reports[-1:] + reports[:-1]
        said = [f"“{c.article.title}” ({_date(c)}) says: {_sentence(s, book)}" for s, c in reports]
        earlier = "Earlier reports differ:" if len(said) > 2 else "An earlier report differs:"
        text = (f"The latest report, {said[0]} {earlier} {' '.join(said[1:])}" if now
                else "Sources differ. " + " ".join(said))
        return Draft(text, False, book, support)
    # "Who leads Karsk?" answered by "…hired Karsk to lead…": no sentence names the person asked for
    if _ASKS_ROLE.search(q.text) and (q.kind != "person" or person_named(q, chosen, best_c) is None):
        return refusal(q, evidence.candidates)
    # No "Name:" or "“Headline”:" lead: a name the rules pick out can be the wrong one ("Kaido Tamm:" for who
    # audited the app), the headline is not the answer, and the citation shows it.
    return Draft(" ".join(_sentence(s, book) for s in chosen), False, book, support)


def _continued(chosen: list[Sentence], c: Candidate) -> list[Sentence]:
    """In article order, with the sentence that completes one ending in a colon ("…the happiest countries:")."""
    ordered = sorted(c.sentences, key=lambda s: s.start)
    out: list[Sentence] = []
    for s in sorted(chosen, key=lambda s: s.start):
        if s not in out:
            out.append(s)
        i = ordered.index(s)
        if s.text.rstrip().endswith(":") and i + 1 < len(ordered) and ordered[i + 1] not in chosen:
            out.append(ordered[i + 1])
    return out


# A question about how a story ended: "the fine finally imposed", "la amende finalement infligée"
_ASKS_FINAL = re.compile(r"\b(?:finally|eventually|in the end|ultimately|final|finalement|finalmente|al final"
                         r"|schlie(?:ss|ß)lich|endg(?:ü|ue)ltig|alla fine|ao final|uiteindelijk)\b", re.IGNORECASE)
# A question about the present state of a story that reports have followed: "have now signed", "so far"
_ASKS_NOW = re.compile(r"\b(?:now|so far|to date|currently|at present|as of today|by now|yet)\b", re.IGNORECASE)


def _conflict(q: Question, best: Sentence, best_c: Candidate, evidence: Evidence
              ) -> list[tuple[Sentence, Candidate]]:
    """Other articles (two at most) whose best sentence answers as well but each with another figure.

    The other article need not name everything the question does ("in Hanoi" vs "in Viet Nam"), but it
    must share most of it.
    """
    # Only a question that asks for a figure (how many, how much, what fine…) can be answered by differing
    # figures; too little in common is no same claim, and across languages shared words do not tell.
    asks_figure = q.kind == "count" or q.kind == "fact" and (q.focus in ATTRIBUTES or amount_pattern(q.focus))
    if not asks_figure or best.own < MIN_OWN or not q.is_english:
        return []
    if q.context_terms and re.search(r"\b(?:that|this|it|its)\b", q.text, re.IGNORECASE):
        return []  # "And how much was that fine?" asks about the one fine talked about, not every fine
    durations = q.focus == "duration"
    asked = _numbers(q.text)
    mine = _numbers(best.text, durations) - asked
    if not mine:
        return []
    anchor_stems = {stem(w) for a in q.hard_anchors for w in a.split()}
    if q.counted:
        anchor_stems.add(stem(q.counted))
    amount = amount_pattern(q.focus) is not None and best.holds >= 1.0
    # each other story's best sentence that gives a figure: its best may be a quote that gives none
    pool = [(c, max((s for s in c.sentences if _numbers(s.text) - asked), key=lambda s: (s.holds, s.score),
                    default=None)) for c in evidence.candidates if c is not best_c and c.support >= 0.5]
    others = sorted(((b, c) for c, b in pool if b), key=lambda sc: -sc[0].own)
    if amount:  # "How much is the plant costing?": any sentence of another story that states a cost
        others += [(s, c) for c, b in pool for s in c.sentences if s.holds >= 1.0 and s is not b]
    found: list[tuple[Sentence, Candidate]] = []
    for s, c in others[:len(others) if amount else 4]:
        theirs = _numbers(s.text, durations) - asked
        # "€4.2 billion in state aid" is no investment; "20 days to make representations" no time to pay
        if not theirs - mine or (amount or durations) and s.holds < 1.0:
            continue
        # a figure both give is the same claim restated, unless the other gives it as the one it replaces:
        # "now affects 23 hospitals, up from 17"
        if any(not re.search(rf"\bfrom (?:about |around )?{re.escape(n)}\b", s.text) for n in theirs & mine):
            continue
        if any(c is seen or theirs & (_numbers(x.text, durations) - asked) for x, seen in found):
            continue
        # The same claim about the same thing: only a place or name may be worded differently; an amount
        # may stand in a sentence that leaves the names to its neighbours and headline ("The €14 billion
        # facility is…").
        same = s.own >= 0.6 * best.own or amount and s.window >= 0.9 * best.window
        # What it leaves out may be in its headline ("Telvanta breach exposes data of 1.8 million customers"),
        # or one word elsewhere in the story ("affected"); a story that never says "signed" tells of no signing.
        left_out = best.terms - s.terms - stems_of(c.article.title) - anchor_stems
        # An amount of money of the kind asked for, in a story that holds all the question's names, may word the thing
        # otherwise ("the €2.4 billion data centre plan" for "the Drummore project").
        reworded = amount and asks_money(q.focus) and s.holds >= 1.0 and c.support == 1.0
        if same and (not left_out or len(left_out) == 1 and (reworded or left_out <= stems_of(c.article.text))):
            found.append((s, c))
    return found[:2]


def _compare(q: Question, ranked, book: CitationBook, support: list[Candidate]) -> Draft:
    """One sentence for each thing compared: "Compare how Denmark and Chile restricted Lumaro"."""
    chosen: list[Sentence] = []
    for anchor in q.hard_anchors:
        named = [(s, c) for s, c in ranked if contains_anchor(c.folded, anchor)]
        if not named or (len(named) == len(ranked) and len(q.hard_anchors) > 2):
            continue  # what every source shares (Lumaro) is the subject, not a side of the comparison
        # the best sentence that names the thing itself, else the best of an article that does
        own = [x for c in {id(c): c for _, c in named}.values() for x in c.sentences
               if contains_anchor(fold(x.text), anchor)]
        pick = max(own, key=lambda x: x.score) if own else named[0][0]
        if pick not in chosen:
            chosen.append(pick)
    if len(chosen) < 2:
        chosen = [s for s, _ in ranked[:2]]
    return Draft(" ".join(_sentence(s, book) for s in chosen), False, book, support)


def _lead_if_close(s: Sentence, c: Candidate) -> Sentence:
    """A story's lead when it scores nearly as well as its best sentence: the lead says what happened."""
    lead = min(c.sentences, key=lambda x: x.start)
    return lead if lead.score >= 0.85 * s.score else s


def _close_in_meaning(cosines: list[float]) -> float:
    """The lowest cosine with the question that still counts as close: above the widest gap between the
    stories' cosines when it stands out (the stories about the act, then the rest), else a margin below the
    closest."""
    if not cosines:
        return math.inf
    ordered = sorted(cosines, reverse=True)
    gap, at = max(((a - b, b) for a, b in zip(ordered, ordered[1:], strict=False)), default=(0.0, ordered[0]))
    return at + gap / 2 if gap >= 2 * MEANING_MARGIN / 3 else ordered[0] - MEANING_MARGIN


def _list(q: Question, ranked, book: CitationBook, support: list[Candidate],
          meaning: Callable[[list[str]], list[float]] | None = None) -> Draft:
    best, best_c = ranked[0]
    chosen = [best]
    # A story whose best sentence says what the question asks in other words ("South Africa's reduced duty
    # rate will end" for "removing tax breaks") is an item too, when it is about as close in meaning as the
    # closest: a list question names a kind of act, and each story words it its own way.
    cosines = meaning([s.text for s, _ in ranked[:6]]) if meaning and q.is_english else []
    threshold = _close_in_meaning(cosines)
    close = {id(s) for (s, _), cos in zip(ranked[:6], cosines, strict=False) if cos >= threshold and s.holds >= 1.0}
    # Another article's best sentence is another item: one that names all the question's names
    # ("Lumaro") need not repeat its other words ("Denmark has ordered … to remove Lumaro").
    others = [_lead_if_close(s, c) for s, c in ranked[1:6] if s.score >= 0.7 * best.score and s.own >= 0.7 * best.own
              or s.score >= 0.6 * best.score and c.support == 1.0 and q.hard_anchors and s.own >= 0.3 * best.own
              or id(s) in close]
    if len(others) < 2:  # the items are in one article: often in neighbouring sentences
        sents = sorted(best_c.sentences, key=lambda s: -s.score)
        for s in sents[1:3]:
            if s.own >= 0.6 * best.own and s.score >= 0.75 * best.score:
                chosen.append(s)
        in_order = sorted(best_c.sentences, key=lambda s: s.start)
        i = in_order.index(best)
        for s in in_order[i + 1:i + 3]:  # "… restricting X. Taiwan and Australia have … South Korea also …"
            if s not in chosen and _names(s.text) and s.window >= 0.5 * best.window:
                chosen.append(s)
            elif not _names(s.text):
                break
    if others:  # items of several stories: a story may hold more than one (not the neighbours taken above)
        chosen += [x for x in _second_items(q, [best, *others]) if x not in chosen]
    chosen += others
    chosen.sort(key=lambda s: (ranked.index(next(x for x in ranked if x[1] is s.candidate)), s.start))
    by_story: dict[int, list[Sentence]] = {}
    for s in chosen:
        by_story.setdefault(id(s.candidate), []).append(s)
    if len(by_story) < 3:
        return Draft(" ".join(_sentence(s, book) for s in chosen), False, book, support)
    # Items from three stories or more read as a list: one line per story
    lines = ["• " + " ".join(_sentence(s, book) for s in story) for story in by_story.values()]
    return Draft("\n".join(lines), False, book, support)


def _second_items(q: Question, items: list[Sentence], most: int = 2) -> list[Sentence]:
    """A roundup names several items, one per sentence ("The report highlights Guinea, where…", "It also covers
    Ethiopia, which…"): another sentence of an item's story that answers about as well and names only other
    things (besides the question's own names) is an item too, two more per story at most. One that names the
    item again ("New Zealand’s Privacy Commissioner has separately said…") says more of the same item."""
    asked = q.said  # a follow-up's subject too
    more: list[Sentence] = []
    for s in items:
        named = {n for n in _names(s.text) if fold(n) not in asked}
        siblings = sorted((x for x in s.candidate.sentences if x not in items
                           and x.score >= 0.9 * s.score and x.own >= 0.8 * s.own), key=lambda x: -x.score)
        for x in siblings:
            theirs = {n for n in _names(x.text) if fold(n) not in asked}
            if sum(m.candidate is s.candidate for m in more) < most and theirs and not theirs & named:
                more.append(x)
                named |= theirs
    return more


# a particle belongs to a name only before another capitalised word: "Luiz da Silva", not "Two days"
_PERSON = re.compile(r"\b[A-Z][\w’'-]+(?:\s+(?:(?:de|der|den|van|von|da|del|di|du|bin|al)\s+)*[A-Z][\w’'-]+)*")


_ORG_WORDS = frozenset(
    "Office Ministry Agency Commission Commissioner Authority Security Labs Lab Group Bank University Council "
    "Court Department Police Government Parliament Port Inc Ltd Corp Company Association Institute Centre Center "
    "Committee Union Board Service Services Systems Microsystems Technologies Networks Foundation Fund "
    "Organisation Organization Party Forum Times News Post Airlines Motors Holdings Partners".split())
# "Who leads Karsk Security?", "Who is the chief executive of X?": only a person's name answers it ("Who
# leads the investigation?" may be answered by a firm).
_ASKS_ROLE = re.compile(r"^[Ww]ho (?:leads|heads|runs|chairs|founded|directs|manages) [A-Z]|^[Ww]ho is (?:the )?"
                        r"(?:CEO|ceo|chief executive|head|leader|founder|director|chair|chairman|chairwoman) of\b")
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|near|across|outside|inside)\s+(?:the\s+)?$", re.IGNORECASE)
_WHO_IS = re.compile(r"^(?:who|whom) (?:is|was|are|were) ", re.IGNORECASE)


def person_named(q: Question, chosen: list[Sentence], c: Candidate) -> str | None:
    """The full name of the person a who-question asks for, when the answer sentence names one.

    News names a person in full once, then by surname ("LeBron James … James said"): a surname alone is
    completed from the article. "Who is Mart Kivi?" asks about the name it gives: that name leads.
    """
    who_is = _WHO_IS.match(q.text)
    asked_name = next((a for a in q.hard_anchors if " " in a and who_is and q.text[who_is.end():].startswith(a)), None)
    if asked_name and any(asked_name in s.text for s in chosen):
        return asked_name
    asked = q.said
    for s in chosen:
        for m in _PERSON.finditer(s.text):
            name = m.group(0)
            if m.start() == 0 and " " not in name and fold(name) in STOPWORDS:  # "The", "In", "After"…
                continue
            if _PLACE_BEFORE.search(s.text[:m.start()]):  # "signed by 65 nations in Viet Nam": a place
                continue
            if fold(name) in asked or any(fold(w) in asked for w in name.split()):
                continue
            if " " not in name:
                full = re.search(r"\b[A-Z][\w’'-]+\s+" + re.escape(name) + r"\b", c.article.text)
                if not full:
                    continue
                name = full.group(0)
            if re.search(r"[’']s\b", name) or _ORG_WORDS & set(name.split()):  # "Kenya’s Office", "Karsk Security"
                continue
            if any(w.isupper() and len(w) > 1 for w in name.split()[1:]):  # "Frontier AI Testing" ("JD Vance" is)
                continue
            if len(name.split()) <= 4:
                return name
    return None


def _summary(c: Candidate, book: CitationBook, support: list[Candidate]) -> Draft:
    """The lead of a news article is its summary: the first two or three sentences, cited."""
    ordered = sorted(c.sentences, key=lambda s: s.start)
    lead, words = [], 0
    for s in ordered:
        lead.append(s)
        words += len(s.text.split())
        if len(lead) >= 3 or words >= 60:
            break
    return Draft(" ".join(_sentence(s, book) for s in lead), False, book, support)


def _briefing(evidence: Evidence) -> Draft:
    """The stories of a period, newest first, each with its lead sentence: "What happened this week?"."""
    period = evidence.period
    book, lines = CitationBook(), []
    for c in evidence.candidates:
        lead = min(c.sentences, key=lambda s: s.start, default=None)
        if lead is not None:
            n = book.cite(c.article, lead.start, lead.end)
            lines.append(f"• {c.article.title} ({_date(c)}): {lead.text.strip()} {marker(n)}")
    if not lines:
        text = (f"None of my articles is dated on or before {period.until.isoformat()}." if period and period.until
                else "I have no articles yet: nothing has been ingested.")
        return Draft(text, True, book, [])
    if period is None or period.since is None:
        head = "The latest stories:"
    else:
        days = (f"from {period.since.isoformat()} to {period.until.isoformat()}" if period.until
                else f"since {period.since.isoformat()}")
        if not period.total:
            head = f"No articles were published {days}. The latest before that:"
        else:
            count = f"{period.total} {'story' if period.total == 1 else 'stories'}"
            shown = "" if period.total <= len(lines) else f", the {len(lines)} newest"
            head = f"{count} {days}{shown}:"
    return Draft(head + "\n" + "\n".join(lines), False, book, evidence.candidates)


def _names(text: str) -> list[str]:
    return re.findall(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]+", text)


def _stories(q: Question, support: list[Candidate], book: CitationBook, weights: dict[str, float]) -> Draft:
    """One line per article that involves the question's subject (and the rest of the question, if any)."""
    anchors = q.hard_anchors or q.anchors
    anchor_stems = {stem(w) for a in anchors for w in fold(a).split()}
    topic = {t: w for t, w in weights.items() if t not in anchor_stems and t not in _STORY_WORDS}
    lines = []
    # Oldest first: a list of stories is how a story developed across sources and digests.
    for c in sorted(support, key=lambda c: c.article.published or date.max):
        if topic:  # "What cyberattacks on companies in Japan…": the article must be about the rest too
            present = stems_of(c.article.title + " " + c.article.text)
            if sum(w for t, w in topic.items() if t in present) < 0.5 * sum(topic.values()):
                continue
        pick = max(c.sentences, key=lambda s: s.score)
        if not anchors and pick.own < MIN_OWN:
            continue
        n = book.cite(c.article, pick.start, pick.end)
        lines.append(f"• {c.article.title} ({_date(c)}): {pick.text.strip()} {marker(n)}")
    if not lines:
        return refusal(q, support)
    if anchors:
        head = f"{len(lines)} {'story involves' if len(lines) == 1 else 'stories involve'} {', '.join(anchors)}:"
    else:  # "Which stories are about ransomware?": name the topic in the question's own words
        topic_words = [w for w in q.terms if stem(w) not in _STORY_WORDS]
        head = f"{len(lines)} {'story' if len(lines) == 1 else 'stories'} about {' '.join(topic_words) or 'this'}:"
    return Draft(head + "\n" + "\n".join(lines), False, book, support)
