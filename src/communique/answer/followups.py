"""Suggested next questions, built from what the cited articles name, so each one has an answer."""

from __future__ import annotations

import re
from collections import Counter

from communique.answer.question import Question, fold
from communique.models import Article

_WORDS = r"[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*"
# A name may hold "of", "for", "on": "Port of Klaipėda", "Danish Agency for Digital Government".
_PHRASE = re.compile(rf"\b{_WORDS}(?:\s+(?:of|for|on)(?:\s+the)?\s+{_WORDS})*")
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ish|ese|ian|ean)$")  # "Irish", "Maltese": said of a name, not one
_SKIP = {"The", "A", "An", "In", "On", "At", "It", "This", "That", "These", "Those", "He", "She", "They", "But",
         "And", "However", "Meanwhile", "According", "While", "After", "Before", "As", "If", "So", "Its", "Their",
         *"January February March April May June July August September October November December".split(),
         *"Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()}


def main_subject(article: Article, question: Question) -> str | None:
    """The name an article mentions most that the question did not already use."""
    asked = fold(question.text + " " + " ".join(question.context_terms))
    counts: Counter[str] = Counter()
    named = [fold(a) for a in question.anchors]
    text = article.title + ". " + article.text
    for match in _PHRASE.finditer(text):
        before = text[max(0, match.start() - 3):match.start()]
        starts_sentence = match.start() == 0 or re.search(r"[.!?:\n]\s*$", before) is not None
        phrase = re.sub(r"^(?:The|A|An)\s+|^[\w’'-]+-based\s+|[’']s$", "", match.group(0))  # "Manchester-based X"
        for name in re.split(r"[’']s\s+", phrase):  # "New Zealand’s Ministry" names New Zealand
            if " " not in name and starts_sentence:  # "Hidden prompts…": a capital that only starts a sentence
                continue
            starts_sentence = False
            folded = fold(name)
            if (name in _SKIP or len(name) < 3 or _DEMONYM.match(name) or folded in asked
                    or any(a in folded for a in named)):
                continue
            counts[name] += 1
    return counts.most_common(1)[0][0] if counts else None


def suggest(question: Question, articles: list[Article], refused: bool, limit: int = 3) -> list[str]:
    out: list[str] = []
    if refused:
        out += [f"Tell me about “{a.title}”" for a in articles[:2]]
        out.append("What are the latest stories?")
        return out[:limit]
    for a in articles[:2]:
        subject = main_subject(a, question)
        if subject:
            q = f"Which stories involve {subject}?"
            if q not in out:
                out.append(q)
    if articles:
        out.append(f"Tell me more about “{articles[0].title}”")
    return out[:limit]
