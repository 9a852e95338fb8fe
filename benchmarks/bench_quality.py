"""Retrieval and answer quality on a question file: gold article in the top 5, MRR, then the answer engine.

The corpus is ingested (text and vectors) into a temporary database. For each answerable question
that names its `sources`, the query the engine would retrieve with (`analyse(question, history)
.retrieval_query`, which prepends the last user turns to a follow-up) goes through `hybrid_search`
with k=10; the hits are reduced to distinct articles in rank order and a question counts as found
when a gold title is among the first 5. MRR is over the distinct articles of the 10 hits. Then the
whole file runs through the answer engine (`communique.evaluate.run`): accuracy, citation precision,
refusals and latency, as `communique eval` reports them.

    python benchmarks/bench_quality.py                                   # ../shared seeds_dev + seed digests
    python benchmarks/bench_quality.py --questions src/communique/evalsets/sample.jsonl --corpus src/communique/sample
    python benchmarks/bench_quality.py --questions Q.jsonl --db existing.db   # an already ingested database
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from benchlib import SAMPLE_DIR, SAMPLE_QUESTIONS, SHARED, Report, digest_files, missing, percentile, table, yes

HIT_TARGET = 0.95
TOP = 5


def norm_title(s: str | None) -> str:
    """The scorer's normalisation: NFKC, lower case, straight quotes and dashes, single spaces."""
    s = unicodedata.normalize("NFKC", s or "").lower()
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        s = s.replace(a, b)
    return " ".join(s.split())


def short(s: str, n: int = 60) -> str:
    s = " ".join(s.split()).replace("|", "/")
    return s if len(s) <= n else s[: n - 1] + "…"


def corpus_targets(paths: list[Path]) -> list[str]:
    """Folders holding digest-*.txt files give those files; anything else is passed to ingest as is."""
    targets: list[str] = []
    for p in paths:
        digests = digest_files(p)
        targets += [str(d) for d in digests] if digests else [str(p)]
    return targets


def retrieval(svc, questions: list[dict], k: int) -> tuple[list[list], dict]:
    from communique.answer.question import analyse
    from communique.retrieve import hybrid_search

    svc.embedder.embed_query("warm-up")
    rows, ranks, times, all_gold, by_type = [], [], [], [], {}
    for q in questions:
        gold = {norm_title(t) for t in q["sources"]}
        query = analyse(q["question"], q.get("history") or []).retrieval_query
        t0 = time.perf_counter()
        hits = hybrid_search(svc.store, svc.embedder, query, k=k, per_article=svc.settings.per_article)
        times.append((time.perf_counter() - t0) * 1000)
        titles: list[str] = []
        seen: set[str] = set()
        for h in hits:
            if h.article_id not in seen:
                seen.add(h.article_id)
                titles.append(h.title)
        rank = next((i for i, t in enumerate(titles, 1) if norm_title(t) in gold), None)
        ranks.append(rank)
        all_gold.append(gold <= {norm_title(t) for t in titles[:TOP]})
        found = rank is not None and rank <= TOP
        by_type.setdefault(q["type"], []).append((found, 1 / rank if rank else 0.0))
        if not found:
            rows.append([q.get("id", "?"), q["type"], short(query, 70), short(" / ".join(q["sources"]), 60),
                         rank or f">{len(titles)}", short(" · ".join(titles[:TOP]), 110)])
    n = len(questions)
    summary = {
        "n": n,
        "hit": sum(r is not None and r <= TOP for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
        "all_gold": sum(all_gold) / n,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "by_type": {t: (len(v), sum(f for f, _ in v) / len(v), statistics.mean(m for _, m in v))
                    for t, v in sorted(by_type.items())},
    }
    return rows, summary


def answer_bearing(svc, q: dict, days: int) -> set[str]:
    """Ids of the articles of the `days` before the question's `as_of` that contain its expected answer."""
    from datetime import date, timedelta

    from communique.evaluate import holds_answer
    from communique.models import Filters

    as_of = date.fromisoformat(q["as_of"])
    window = Filters(since=as_of - timedelta(days=days), until=as_of)
    found: set[str] = set()
    for alt in q["expect"][0]:
        page, more = 1, True
        while more:  # the store's LIKE prefilter, then the scorer's whole-word rule
            listed = svc.store.list_articles(alt, window, page, 200)
            found |= {a.id for a in listed.articles if holds_answer(a.title + "\n" + a.text, q)}
            more, page = page * 200 < listed.total, page + 1
    return found


def reach(svc, questions: list[dict], days: int) -> tuple[list, list]:
    """How far toward each answer the engine gets, for questions asked as of a day (news quizzes).

    A question is reachable when its expected answer is written in an article of the `days` before
    `as_of`; for those, is such an article among the engine's candidates, and where does the first
    sentence that holds the answer rank among all scored sentences? The gap between reachable and
    ranked first is what retrieval and sentence selection lose; the rest is not in the news at all.
    """
    from datetime import date

    from communique.answer import evidence_for
    from communique.evaluate import holds_answer

    n = reachable = candidates = 0
    ranks: list[int | None] = []
    for q in questions:
        if not q.get("as_of") or q["type"] == "unanswerable" or not q.get("expect"):
            continue
        n += 1
        bearing = answer_bearing(svc, q, days)
        if not bearing:
            continue
        reachable += 1
        _, ev = evidence_for(svc, q["question"], q.get("history") or [], date.fromisoformat(q["as_of"]), None)
        candidates += any(c.article.id in bearing for c in ev.candidates)
        ranks.append(next((i for i, s in enumerate(ev.sentences, 1)
                           if s.candidate.article.id in bearing and holds_answer(s.text, q)), None))
    if not n:
        return [], []
    share = lambda k: f"{k} ({k / n:.2f})"  # noqa: E731
    within = lambda top: share(sum(r is not None and r <= top for r in ranks))  # noqa: E731
    head = ["questions with as_of", f"answer in an article of the {days} days before", "… among the candidates",
            "answer sentence ranked 1st", "in the top 3", "in the top 10"]
    return head, [[n, share(reachable), share(candidates), within(1), within(3), within(10)]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared_q = SHARED / "eval" / "seeds_dev.jsonl"
    use_shared = shared_q.is_file() and (SHARED / "seeds").is_dir()
    q_default = shared_q if use_shared else SAMPLE_QUESTIONS
    c_default = SHARED / "seeds" if use_shared else SAMPLE_DIR
    parser.add_argument("--questions", type=Path, default=q_default, help=f"question file (default {q_default})")
    parser.add_argument("--corpus", type=Path, nargs="+", default=[c_default],
                        help=f"files or folders to ingest; a folder of digest-*.txt gives those (default {c_default})")
    parser.add_argument("--db", type=Path, help="use this already ingested database as is (no ingest)")
    parser.add_argument("--k", type=int, default=10, help="hits per hybrid search")
    parser.add_argument("--skip-answers", action="store_true", help="retrieval only; do not run the answer engine")
    parser.add_argument("--reach-days", type=int, default=30,
                        help="for questions with as_of: the window in which an article must hold the answer")
    parser.add_argument("--workdir", type=Path, help="keep the database here instead of a temporary folder")
    args = parser.parse_args(argv)

    if not args.questions.is_file():
        missing("question file", args.questions)
    if args.db is None and not any(p.exists() for p in args.corpus):
        missing("corpus", args.corpus[0])
    if args.db is not None and not args.db.is_file():
        missing("database", args.db)

    from communique.config import Settings
    from communique.evaluate import load_questions, run
    from communique.service import Communique

    questions = load_questions(args.questions)
    answerable = [q for q in questions if q["type"] != "unanswerable" and q.get("sources")]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="communique-bench-quality-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report("bench_quality", "Quality benchmark", argv)
    try:
        if args.db is not None:
            svc = Communique(Settings(db=args.db))
            ingest_note = f"Database {args.db} used as is."
        else:
            svc = Communique(Settings(db=work / "quality.db"))
            t0 = time.perf_counter()
            ingested = svc.ingest(corpus_targets(args.corpus))
            ingest_note = (f"Ingested {', '.join(str(p) for p in args.corpus)} in {time.perf_counter() - t0:.1f} s "
                           f"({len(ingested.added)} articles, {len(ingested.failed)} failed, "
                           f"{ingested.embedded} chunks embedded).")
        stats = svc.stats()
        report.note(f"Questions: {args.questions} ({len(questions)}, of which {len(answerable)} answerable with "
                    f"gold sources). {ingest_note} Store: {stats.articles} articles, {stats.chunks} chunks.")

        if answerable:
            misses, s = retrieval(svc, answerable, args.k)
            report.section(
                f"Retrieval: gold article among the top {TOP} distinct articles of hybrid_search(k={args.k})",
                table(["questions", f"hit@{TOP}", f"target ≥ {HIT_TARGET}", "MRR", f"all gold in top {TOP}",
                       "search p50 ms", "search p95 ms"],
                      [[s["n"], f"**{s['hit']:.3f}**", yes(s["hit"] >= HIT_TARGET), f"{s['mrr']:.3f}",
                        f"{s['all_gold']:.3f}", f"{s['p50']:.0f}", f"{s['p95']:.0f}"]])
                + "\n\n" + table(["type", "n", f"hit@{TOP}", "MRR"],
                                 [[t, n, f"{h:.3f}", f"{m:.3f}"] for t, (n, h, m) in s["by_type"].items()]),
            )
            if misses:
                report.section("Retrieval misses", table(
                    ["id", "type", "retrieval query", "gold", "gold rank", f"top {TOP} articles"], misses))
        else:
            report.note("No answerable question names its sources: retrieval is not scored.")

        head, rows = reach(svc, questions, args.reach_days)
        if rows:
            report.section(
                "Reach: for questions asked as of a day, where the expected answer is and how far the engine gets",
                table(head, rows) + "\n\nShares are of all questions with `as_of`. Ranks are over every scored "
                "sentence of the candidates, best first; only sentences of answer-bearing articles of the "
                "window count.",
            )

        if not args.skip_answers:
            # A service with its own embedder: the retrieval pass above must not have warmed the query cache.
            from communique.embed.e5 import E5Embedder

            fresh = Communique(svc.settings, embedder=E5Embedder(svc.settings.embed_threads))
            fresh.embedder.embed_passages(["warm-up"])  # the model load is start-up, not answer latency
            t0 = time.perf_counter()
            result = run(fresh, questions)
            wall = time.perf_counter() - t0
            report.section(
                f"Answer engine: communique.evaluate.run over all {len(questions)} questions "
                f"(generator: {svc.settings.generator})",
                "`" + result.summary() + "`\n\n"
                + table(["accuracy", "citation precision", "refusal", "p50 ms", "p95 ms", "n", "wall s"],
                        [[f"{result.accuracy:.2f}", f"{result.citation_precision:.2f}", f"{result.refusal:.2f}",
                          f"{result.percentile(0.5):.0f}", f"{result.percentile(0.95):.0f}",
                          len(result.judgements), f"{wall:.0f}"]])
                + "\n\n" + table(["type", "correct", "n"], [[t, ok, n] for t, (ok, n) in sorted(
                    result.by_type().items())]),
            )
            wrong = [[j.id, j.type, short(j.why, 80), short(j.answer, 90)] for j in result.judgements if not j.ok]
            if wrong:
                report.section("Answer engine failures", table(["id", "type", "why", "answer"], wrong))
            fresh.close()
        svc.close()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    report.save()


if __name__ == "__main__":
    sys.exit(main())
