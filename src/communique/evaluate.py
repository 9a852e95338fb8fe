"""`communique eval`: run a question file and report accuracy, citation precision, refusals, latency.

The question format and the judging rules are those of the project's scorer: `expect` is a list of
groups (the answer must contain one alternative of each, as whole words, case-insensitive), `sources`
are titles a citation must come from, `reject` lists wrong answers, `type: unanswerable` expects a
refusal; `history` and `as_of` are passed along.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from communique.errors import BadInput


def _norm(s: str | None) -> str:
    s = unicodedata.normalize("NFKC", s or "").lower()
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        s = s.replace(a, b)
    return " ".join(s.split())


def _contains(text: str, alt: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(_norm(alt)) + r"(?!\w)", text) is not None


@dataclass
class Judgement:
    id: str
    type: str
    ok: bool
    precision: float | None
    why: str
    ms: float
    answer: str = ""
    first_ms: float | None = None  # time to the first streamed piece of the answer


def _missing(q: dict, normed: str) -> list[list[str]]:
    return [g for g in q.get("expect", []) if not any(_contains(normed, alt) for alt in g)]


def holds_answer(text: str, q: dict) -> bool:
    """Does the text contain the expected answer, by the scorer's rules (one alternative of every group)?"""
    return bool(q.get("expect")) and not _missing(q, _norm(text))


def judge(q: dict, resp: dict) -> tuple[bool, float | None, str]:
    answer = _norm(resp.get("answer", ""))
    refused = bool(resp.get("refused"))
    if q["type"] == "unanswerable":
        return refused, None, "" if refused else "did not refuse"
    if refused:
        return False, None, "refused an answerable question"
    missing = _missing(q, answer)
    wrong = [w for w in q.get("reject", []) if _contains(answer, w)]
    cited = [_norm(c.get("title", "")) for c in resp.get("citations", []) if c.get("title")]
    gold = {_norm(t) for t in q.get("sources", [])}
    if gold:
        precision = sum(t in gold for t in cited) / len(cited) if cited else 0.0
        cites_ok = any(t in gold for t in cited)
    else:
        precision, cites_ok = None, bool(cited)
    why = []
    if missing:
        why.append("missing " + " / ".join("|".join(g) for g in missing))
    if wrong:
        why.append("names wrong answer(s) " + ", ".join(wrong))
    if not cites_ok:
        why.append("no citation of a supporting article")
    return not why, precision, "; ".join(why)


@dataclass
class Report:
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(j.ok for j in self.judgements) / max(1, len(self.judgements))

    @property
    def citation_precision(self) -> float:
        values = [j.precision for j in self.judgements if j.precision is not None]
        return statistics.mean(values) if values else 0.0

    @property
    def refusal(self) -> float:
        unans = [j.ok for j in self.judgements if j.type == "unanswerable"]
        return sum(unans) / len(unans) if unans else 1.0

    def percentile(self, p: float) -> float:
        times = sorted(j.ms for j in self.judgements)
        return times[max(0, int(round(p * len(times))) - 1)] if times else 0.0

    def by_type(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for j in self.judgements:
            ok, n = out.get(j.type, (0, 0))
            out[j.type] = (ok + j.ok, n + 1)
        return out

    def first_token_p50(self) -> float | None:
        values = sorted(j.first_ms for j in self.judgements if j.first_ms is not None)
        return values[len(values) // 2] if values else None

    def summary(self) -> str:
        first = self.first_token_p50()
        return (f"SCORE accuracy={self.accuracy:.2f} citation_precision={self.citation_precision:.2f} "
                f"refusal={self.refusal:.2f} p50_ms={self.percentile(0.5):.0f} p95_ms={self.percentile(0.95):.0f} "
                + (f"first_token_p50_ms={first:.0f} " if first is not None else "") + f"n={len(self.judgements)}")


def load_questions(path: str | Path) -> list[dict]:
    questions = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{i}: malformed JSON: {exc}") from exc
        if not isinstance(q, dict) or "question" not in q or "type" not in q:
            raise BadInput(f"{path}:{i}: a question needs 'question' and 'type'")
        questions.append(q)
    return questions


def run(service, questions: list[dict], on_result: Callable[[Judgement], None] | None = None) -> Report:
    report = Report()
    for q in questions:
        t0 = time.perf_counter()
        try:
            as_of = date.fromisoformat(q["as_of"]) if q.get("as_of") else None
            resp = service.ask(q["question"], q.get("history") or [], as_of).to_dict()
            ok, precision, why = judge(q, resp)
        except Exception as exc:  # a failing question is a failed question, not a failed run
            resp, ok, precision, why = {}, False, None, f"error: {exc.__class__.__name__}: {exc}"
        j = Judgement(q.get("id", "?"), q["type"], ok, precision, why, (time.perf_counter() - t0) * 1000,
                      resp.get("answer", ""),
                      resp.get("timings_ms", {}).get("first_token", resp.get("timings_ms", {}).get("first_delta")))
        report.judgements.append(j)
        if on_result:
            on_result(j)
    return report
