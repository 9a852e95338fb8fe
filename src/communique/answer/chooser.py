"""Which of the two answerers' answers to give: a model trained on questions neither was built on decides.

The rules (the first design) and the learned models fail on different questions: on the eight question sets the
rules were never tuned on, one of the two is right for 0.66 of questions, each alone for 0.53 and 0.48. The
rules answer more facts and two-part questions; the learned models refuse better. So both answer, and a logistic
regression, trained by `benchmarks/train_answerer.py` on the questions where exactly one of them was right (with
the learned models' answers out-of-fold, the rules' as they stand), weighs how sure each is and whether they
agree, and gives the learned answer when it is the likelier to be right.
"""

from __future__ import annotations

import math

from communique.answer.extractive import Draft
from communique.answer.learned import Decision, Reading

CHOOSER_FEATURES = ["answerable_p", "learned_refused", "p1", "gap", "spans", "sentences", "rules_refused",
                    "rules_citations", "rules_length", "rules_best_p", "rules_best_rank", "same_first", "english",
                    "plural", "joins", "follow_up"]
NOT_CITED = 20  # the rank given when the rules cite none of the learned answerer's candidate sentences


def features(reading: Reading, decision: Decision, rules: Draft, follow_up: bool) -> list[float]:
    """How sure the learned answerer is, what the rules answered, and how far the two agree: the learned
    sentence model's score and rank of the best sentence the rules quote, and whether it is its first."""
    ranked = reading.ranked() if reading.rows else []
    quoted: dict[str, list[tuple[int, int]]] = {}
    for article, a, b in rules.book.quotes():
        quoted.setdefault(article.id, []).append((a, b))

    def cited(row) -> bool:
        return any(a <= row.notes.start < b for a, b in quoted.get(row.found.article.id, ()))

    ranks = [i for i, (row, _) in enumerate(ranked) if cited(row)]
    p1 = ranked[0][1] if ranked else 0.0
    p2 = ranked[1][1] if len(ranked) > 1 else 0.0
    asked = reading.asked
    return [decision.answerable_p, float(decision.refused), p1, p1 - p2,
            float(any(spans for _, spans in decision.chosen)), float(len(decision.chosen)), float(rules.refused),
            float(len(rules.book.citations())), math.log1p(len(rules.text)),
            max((ranked[i][1] for i in ranks), default=0.0), float(min(ranks, default=NOT_CITED)),
            float(bool(ranks) and ranks[0] == 0), float(asked.english), float(asked.plural), float(asked.joins),
            float(follow_up)]
