"""What a question asks for, read with spaCy: its question word, the kind of thing it names, its words and names.

These are inputs to the learned ranker, not decisions: which sentence and which span answer is learned from
labelled questions (see `communique.answer.learned`). The two small tables below map a question word and a
noun ("which *country*") to a coarse kind; the ranker learns what each kind means for a sentence's entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from communique.nlp import pipeline
from communique.text import detect_language

# Question words (and phrases) of the languages the engine answers in, to a wh-class.
WH_WORDS = {
    "who": "who|whom|whose|qui|wer|wen|wem|quién|quiénes|quien|chi|quem",
    "what": "what|que|quoi|was|qué|cosa|o que|che cosa",
    "which": "which|quel|quelle|quels|quelles|lequel|laquelle|welche|welcher|welches|welchen|cuál|cuáles|quale|quali|"
             "qual|quais",
    "when": "when|quand|wann|cuándo|quando",
    "where": "where|où|wo|wohin|dónde|donde|dove|onde",
    "why": "why|pourquoi|warum|weshalb|wieso|por qué|perché|por que|porque",
    "how_much": "how much|wie viel|wie hoch|cuánto|cuánta|quanto|quanta|combien",
    "how_many": "how many|wie viele|cuántos|cuántas|quanti|quante|quantos|quantas",
    "how_old": "how old|what age|quel âge|wie alt|qué edad|quanti anni",
    "how": "how|comment|wie|cómo|come|como",
}
WH_CLASSES = ["none", *WH_WORDS]
_WH_PHRASES = sorted(((p, cls) for cls, ps in WH_WORDS.items() for p in ps.split("|")), key=lambda p: -len(p[0]))

# The noun a which/what question names, to the kind of answer it wants.
FOCUS_NOUNS = {
    "person": "person people executive minister official chief leader ceo director head founder spokesperson "
              "president chair chairman man woman researcher judge commissioner who boss",
    "org": "company firm group organisation organization agency regulator authority body institute lab bank operator "
           "provider startup court union ministry party watchdog gang developer maker supplier manufacturer",
    "place": "country city state nation region town capital island port location place countries cities states",
    "money": "amount price cost fine sum ransom fee budget value penalty investment",
    "number": "number percentage share age proportion figure",
    "date": "date day year month time deadline",
}
FOCUS_CLASSES = ["none", *FOCUS_NOUNS, "thing"]
_FOCUS = {w: cls for cls, ws in FOCUS_NOUNS.items() for w in ws.split()}

# Entity labels (spaCy's OntoNotes set) in coarse groups, and the groups each kind of question expects.
GROUPS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place", "FAC": "place", "NORP": "place",
          "DATE": "date", "TIME": "date", "MONEY": "money", "CARDINAL": "number", "QUANTITY": "number",
          "ORDINAL": "number", "PERCENT": "percent", "NP": "phrase"}
GROUP_NAMES = ["person", "org", "place", "date", "money", "number", "percent", "phrase", "other"]
EXPECTS = {"who": {"person", "org"}, "where": {"place"}, "when": {"date"}, "how_much": {"money", "number", "percent"},
           "how_many": {"number", "percent"}, "how_old": {"number", "date"}, "person": {"person"},
           "org": {"org", "person"}, "place": {"place"}, "money": {"money"}, "number": {"number", "percent"},
           "date": {"date"}, "thing": {"phrase", "other", "org"}}


def group(label: str) -> str:
    return GROUPS.get(label, "other")


@dataclass
class Asked:
    text: str
    wh: str  # one of WH_CLASSES
    focus: str  # one of FOCUS_CLASSES
    plural: bool  # "which countries": the answer may be several
    lemmas: frozenset[str]  # content words
    names: tuple[str, ...]  # proper names and codes, as written
    context: frozenset[str]  # content words of the conversation before (for a follow-up)
    english: bool
    words: frozenset[str]  # content words as written, lower-cased: where in a sentence the question's terms are
    joins: int = 0  # coordinating conjunctions: "X and Y", "from A to B" may ask for two things
    acts: frozenset[str] = frozenset()  # lemmas of the question's verbs: "audit" in "Who audited the app?"

    @cached_property
    def expects(self) -> set[str]:
        """The entity groups an answer is likely to be: by the focus noun, else by the question word."""
        return EXPECTS.get(self.focus if self.focus != "none" else self.wh, set())

    @cached_property
    def lowered(self) -> str:
        return self.text.lower()


def _wh_class(lowered: str) -> str:
    for phrase, cls in _WH_PHRASES:
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
            return cls
    return "none"


_CODE = re.compile(r"\b(?=\w*\d)\w[\w-]*|\b[A-Z]{2,}\b")


def _names(doc) -> tuple[str, ...]:
    names: list[str] = [e.text for e in doc.ents if e.label_ not in ("DATE", "TIME", "ORDINAL", "CARDINAL")]
    for token in doc:
        if token.i > 0 and token.text[:1].isupper() and token.is_alpha and not any(token.text in n for n in names):
            names.append(token.text)
    names += [m.group() for m in _CODE.finditer(doc.text) if not any(m.group() in n for n in names)]
    return tuple(dict.fromkeys(n.strip(" '’s") for n in names if n.strip()))


def content_lemmas(doc) -> frozenset[str]:
    return frozenset(t.lemma_.lower() for t in doc if (t.is_alpha and not t.is_stop) or t.like_num)


def analyse(text: str, history: list[dict] | None = None, language: str | None = None) -> Asked:
    nlp = pipeline("en")
    doc = nlp(text)
    lowered = text.lower()
    wh = _wh_class(lowered)
    focus, plural = "none", False
    m = re.search(r"\b(?:which|what|name the|list the)\s+(?:(?:is|was|are|were|did|does|do|has|have|had|will)\s+)?"
                  r"(?:(?:the|a|an)\s+)?((?:[\w'-]+\s+){0,2}[\w'-]+)", lowered)
    if m:
        words = m.group(1).split()
        hits = [w for w in words if w in _FOCUS or w.rstrip("s") in _FOCUS]
        focus = _FOCUS.get(hits[0], _FOCUS.get(hits[0].rstrip("s"), "thing")) if hits else "thing"
        plural = any(t.tag_ in ("NNS", "NNPS") for t in doc if t.lower_ in words)
    elif wh == "who" and re.search(r"\bwho (?:are|were)\b", lowered):
        plural = True
    prior = " ".join(t.get("content", "") for t in (history or [])[-2:] if isinstance(t, dict))
    context = content_lemmas(nlp(prior[:2000])) if prior.strip() else frozenset()
    english = (language or detect_language(text) or "en") == "en"
    words = frozenset(t.lower_ for t in doc if (t.is_alpha and not t.is_stop) or t.like_num) - {"much", "many"}
    joins = sum(t.dep_ == "cc" or (t.dep_ == "prep" and t.lower_ in ("from", "to")) for t in doc)
    return Asked(text, wh, focus, plural, content_lemmas(doc) - {"much", "many"}, _names(doc), context, english,
                 words, joins, frozenset(t.lemma_.lower() for t in doc if t.pos_ == "VERB" and not t.is_stop))
