"""What changed between the reports of a story: figures (money, percentages, quantities, counts) revised.

A figure is a spaCy entity whose normalised value the annotations stored at ingest ("€9.5 million" → 9500000).
A later report's figure is matched to the same kind of figure in the latest earlier report that has one said in
a like sentence (the most content lemmas in common, at least `MIN_SHARED`); a different value there is a
revision. A value the earlier report gives anywhere is no revision: the figure is only said in another sentence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from communique.nlp import parse

LABELS = ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
MIN_SHARED = 2  # content lemmas two sentences must share to be saying the same figure
MAX_REVISIONS = 50


@dataclass
class Report:
    article_id: str
    published: date | None
    source: str | None
    text: str
    annotations: str | None


@dataclass
class Figure:
    article_id: str
    published: date | None
    source: str | None
    text: str  # as written: "€12 million"
    value: float
    sentence: str  # the sentence that says it, for context

    def to_dict(self) -> dict:
        return asdict(self) | {"published": self.published.isoformat() if self.published else None}


@dataclass
class Revision:
    label: str  # spaCy's: MONEY, PERCENT, QUANTITY or CARDINAL
    before: Figure
    after: Figure

    def to_dict(self) -> dict:
        return {"label": self.label, "before": self.before.to_dict(), "after": self.after.to_dict()}


def _is_year(label: str, value: float) -> bool:
    return label == "CARDINAL" and value.is_integer() and 1900 <= value <= 2100


def figures(report: Report) -> list[tuple[str, Figure, frozenset[str]]]:
    """(label, figure, the content lemmas of its sentence without numbers) for every figure of a report."""
    notes = parse(report.annotations) or []
    out = []
    for n in notes:
        context = frozenset(w for w in n.lemmas if any(ch.isalpha() for ch in w))
        for s in n.spans:
            if s.label in LABELS and isinstance(s.value, int | float) and not _is_year(s.label, float(s.value)):
                out.append((s.label, Figure(report.article_id, report.published, report.source,
                                            report.text[s.start:s.end], float(s.value),
                                            report.text[n.start:n.end].strip()), context))
    return out


def _match(label: str, context: frozenset[str], earlier: list[tuple[str, Figure, frozenset[str]]]) -> Figure | None:
    best, shared = None, MIN_SHARED - 1
    for kind, fig, ctx in earlier:
        overlap = len(context & ctx)
        if kind == label and overlap > shared:
            best, shared = fig, overlap
    return best


def revisions(reports: list[Report]) -> list[Revision]:
    """Figures each report (in date order) gives differently from the latest earlier report that gives them."""
    found = [figures(r) for r in reports]
    out: list[Revision] = []
    seen: set[tuple[str, str, float, float]] = set()
    for i in range(1, len(reports)):
        for label, fig, context in found[i]:
            for earlier in reversed(found[:i]):
                if any(k == label and f.value == fig.value for k, f, _ in earlier):
                    break  # the earlier report gives this value too: nothing revised
                before = _match(label, context, earlier)
                if before is None:
                    continue  # not said in this report: look further back
                key = (before.article_id, fig.article_id, before.value, fig.value)
                if key not in seen:
                    seen.add(key)
                    out.append(Revision(label, before, fig))
                break
        if len(out) >= MAX_REVISIONS:
            break
    return out[:MAX_REVISIONS]
